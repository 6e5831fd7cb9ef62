"""`snapplan audit`: the backup posture of a cluster against the policy; a non-zero exit for CI."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli import fleet_run
from engine.cli.fleet_run import CLUSTER, FLEET, PARALLELISM, SELECTOR, fleet_file
from engine.cli.terminal import Exit, Terminal

FORMATS = ("text", "json", "openmetrics")


def audit(
    file: Path = typer.Option(None, "-f", "--file", help="Policy file, or a directory of YAML files."),
    state: Path = typer.Option(None, "--state",
                               help="Audit a cluster-state file (kubectl get ... -o yaml/json) instead of a cluster."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the audit as JSON (schemas/audit.schema.json)."),
    fail_on: list[str] = typer.Option([], "--fail-on", metavar="drift,stale,uncovered,unavailable,untested",
                                      help="Exit 3 when any of these holds (comma-separated, repeatable)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
    now: str = typer.Option(None, "--now", hidden=True, help="Audit as of this RFC 3339 time (tests)."),
    fleet: Path = FLEET,
    cluster: list[str] = CLUSTER,
    selector: list[str] = SELECTOR,
    parallelism: int = PARALLELISM,
    format_: str = typer.Option("text", "--format", metavar="text|json|openmetrics",
                                help="openmetrics: the Prometheus text format (node-exporter's textfile collector). "
                                     "--json is --format json."),
    events: bool = typer.Option(False, "--events", help="Also record the result as a Kubernetes Event on each "
                                                        "Schedule (needs create on events)."),
) -> None:
    """Audit backups: drift, RPO and freshness per schedule, namespace coverage, storage health."""
    if format_ not in FORMATS:
        raise typer.BadParameter(f"{format_!r} is not one of {', '.join(FORMATS)}", param_hint="--format")
    output = "json" if as_json else format_
    if events and state is not None:
        raise typer.BadParameter("Events are written to a cluster, not a state file", param_hint="--events")
    if fleet is not None or file is None or cluster or selector:
        from engine.audit import parse_fail_on
        from engine.fleet.run import FleetOptions

        options = FleetOptions(kubeconfig=kubeconfig, parallelism=parallelism, now=now,
                               fail_on=parse_fail_on(fail_on), events=events)
        fleet_run.audit(Terminal(no_color), fleet_file(file, fleet, state, context, cluster, selector), cluster,
                        selector, options, output=output)
    from engine.audit import audit_to_json, build_audit, parse_fail_on, render_text
    from engine.planner import parse_now, prepare, read_live
    from engine.state.kube import KubeTarget

    term = Terminal(no_color)
    conditions = parse_fail_on(fail_on)
    moment = parse_now(now)
    prepared = prepare(file)
    kube = None if state else KubeTarget(kubeconfig, context)
    live = read_live(state, kube, prepared.policy.velero_namespace)
    records, note = _drill_records(state, live, KubeTarget(kubeconfig, context), prepared.policy.velero_namespace)
    result = build_audit(prepared, live, moment, conditions, records, note)
    for w in prepared.warnings:
        term.warning(str(w))
    doc = audit_to_json(result)
    if events:
        from engine.audit.events import record_events

        for problem in record_events(kube, doc, live, moment):
            term.warning(problem)
    if output == "json":
        term.out(json.dumps(doc, indent=2))
    elif output == "openmetrics":
        from engine.audit.openmetrics import render_openmetrics

        term.out(render_openmetrics([({}, doc)]), end="")
    else:
        term.out(render_text(doc, color=term.color_out), end="")
    if result.failed:
        term.err(f"Audit failed: {', '.join(result.failed)} (--fail-on); exit {int(Exit.AUDIT_FAILED)}")
        raise typer.Exit(Exit.AUDIT_FAILED)


def _drill_records(state, live, target, ns: str):
    """The drill records (ConfigMaps labelled snapplan.io/drill-record): from the cluster, or from the
    state file when it holds them. (None, why) when they cannot be read."""
    from engine.drill.record import RECORD_LABEL, load, parse

    if state:
        maps = [o for o in live.others if o.get("kind") == "ConfigMap"
                and ((o.get("metadata") or {}).get("labels") or {}).get(RECORD_LABEL) == "true"]
        return ([parse(m) for m in maps], "") if maps else (None, "the state file holds no drill records")
    from engine.errors import SnapplanError
    from engine.state.kube import api_client

    try:
        with api_client(target) as api:
            return load(api, ns), ""
    except SnapplanError as exc:
        return None, f"cannot read the drill records: {exc}"

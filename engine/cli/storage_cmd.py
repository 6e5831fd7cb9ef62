"""`snapplan storage check [NAME]`: reach each storage's bucket as Velero will, before Velero is told to use it."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal

app = typer.Typer(help="Check the object storage a policy names.", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None)


@app.command("check")
def check(
    name: list[str] = typer.Argument(None, metavar="NAME", help="Storage entries to check (default: all)."),
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    no_write_probe: bool = typer.Option(False, "--no-write-probe",
                                        help="Do not write and delete a probe object under the prefix."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (schemas/storage-check.schema.json)."),
    state: Path = typer.Option(None, "--state", help="A cluster-state file: tells which backups the cluster has."),
    kubeconfig: str = typer.Option(None, "--kubeconfig",
                                   help="Read the cluster (only its Backups) to tell which backups it has."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (with --kubeconfig or alone)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
) -> None:
    """Endpoint, credentials, bucket, region, write access, Velero's folder layout and the backups already there."""
    import os

    from engine.planner import read_live
    from engine.spec import load_policy
    from engine.state.kube import KubeTarget
    from engine.storage import check_storage, render_text, reports_to_json

    term = Terminal(no_color)
    if state and (kubeconfig or context):
        raise typer.BadParameter("give either --state or --kubeconfig/--context, not both", param_hint="--state")
    # Missing credential sources are per-storage failures in the report, not policy errors that stop every check.
    policy, _ = load_policy(file, strict_sources=False, env=os.environ)
    known = None
    if state or kubeconfig or context:
        live = read_live(state, KubeTarget(kubeconfig, context), policy.velero_namespace)
        known = {o["metadata"]["name"] for o in live.of_kind("Backup", policy.velero_namespace)}
    reports = check_storage(policy, os.environ, names=name or None, write_probe=not no_write_probe,
                            cluster_backups=known)
    doc = reports_to_json(reports)
    if as_json:
        term.out(json.dumps(doc, indent=2))
    else:
        term.out(render_text(doc, color=term.color_out), end="")
    if not doc["ok"]:
        raise typer.Exit(Exit.ERROR)

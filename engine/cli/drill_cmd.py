"""`snapplan drill`: restore the newest Completed backup into scratch namespaces and check what comes back."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal


def drill(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    schedule: str = typer.Option(None, "--schedule", help="Drill the newest Completed backup of this schedule."),
    app_slug: str = typer.Option(None, "--app", help="Drill this app (default: every app of the policy)."),
    backup: str = typer.Option(None, "--backup", help="Drill this backup."),
    keep: bool = typer.Option(False, "--keep", help="Keep the scratch namespaces to look around."),
    timeout: str = typer.Option("30m", "--timeout", help="Longest wait for Velero, per drill."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    junit_file: Path = typer.Option(None, "--junit", help="Also write the results as JUnit XML to this file."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
    drill_id: str = typer.Option(None, "--id", hidden=True, help="The drill id (tests); random otherwise."),
) -> None:
    """Prove backups restore: restore into <ns>-drill-<id> namespaces, check, clean up (exit 1 on a failure)."""
    from engine.cli.spans import parse_span
    from engine.drill import record
    from engine.drill.choose import choose
    from engine.drill.report import junit, render_text, to_json
    from engine.drill.run import run
    from engine.errors import SnapplanError
    from engine.snapshots import cluster
    from engine.spec import load_policy
    from engine.state.kube import KubeTarget, api_client
    from engine.times import rfc3339

    term = Terminal(no_color)
    wait_for = parse_span(timeout, "--timeout")
    policy, _ = load_policy(file)
    ns = policy.velero_namespace
    import secrets

    drill_id = drill_id or secrets.token_hex(3)[:5]
    results = []
    with api_client(KubeTarget(kubeconfig, context)) as api:
        backups = cluster.list_kind(api, ns, "backups")
        drills = choose(policy, backups, drill_id, schedule=schedule, app=app_slug, backup=backup)
        for d in drills:
            targets = ", ".join(f"{s} -> {t}" for s, t in d.namespaces)
            term.err(f"Drill {d.drill_id} of {d.label}: restoring backup {d.backup} into {targets} "
                     f"(restore {d.restore_name})")
            progress = _Progress(term, d.restore_name)
            try:
                result = run(api, d, ns, timeout=wait_for, keep=keep, on_progress=progress.update,
                             now=lambda: rfc3339(datetime.now(timezone.utc)))
            except KeyboardInterrupt:
                term.err(f"Interrupted: restore {d.restore_name} goes on in Velero; delete the scratch namespaces "
                         f"when it ends: kubectl delete namespace {' '.join(t for _, t in d.namespaces)}")
                raise typer.Exit(130) from None
            results.append(result)
            try:
                record.save(api, ns, result, policy.name)
            except SnapplanError as exc:  # the drill's result stands; only audit will not see it
                term.warning(f"could not record drill {d.drill_id} in the cluster ({exc}); "
                             "`snapplan audit` will not count it")
    doc = to_json(results)
    if junit_file:
        junit_file.write_text(junit(doc), encoding="utf-8")
    term.out(json.dumps(doc, indent=2) if as_json else render_text(doc), end="\n" if as_json else "")
    if not doc["passed"]:
        raise typer.Exit(Exit.ERROR)


class _Progress:
    """A line per phase change and every 10 s of item progress on stderr (a terminal or a CI log alike)."""

    def __init__(self, term: Terminal, name: str):
        import time

        self.term, self.name, self.clock = term, name, time.monotonic
        self.last: tuple[str, float] | None = None

    def update(self, restore: dict) -> None:
        status = restore.get("status") or {}
        phase = status.get("phase") or "New"
        if self.last and self.last[0] == phase and self.clock() - self.last[1] < 10:
            return
        self.last = (phase, self.clock())
        p = status.get("progress") or {}
        items = f", {p.get('itemsRestored', 0)}/{p['totalItems']} items" if p.get("totalItems") else ""
        self.term.err(f"restore {self.name}: {phase}{items}")
        sys.stderr.flush()

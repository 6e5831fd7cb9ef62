"""`snapplan backup create`: take a backup now with a schedule's template (or a scope from the policy),
follow it with a progress bar on stderr, then print its details."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal

app = typer.Typer(help="Take backups on demand.", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None)
LINE_EVERY = 5.0  # seconds between progress lines of one phase when stderr is not a terminal


class LineProgress:
    """Without a terminal: a line per phase, and one every few seconds while items move."""

    def __init__(self, term: Terminal, clock=time.monotonic):
        self.term, self.clock = term, clock
        self.last: tuple[str, float] | None = None

    def update(self, backup: dict) -> None:
        phase, done, total = _progress(backup)
        if self.last is not None and self.last[0] == phase and self.clock() - self.last[1] < LINE_EVERY:
            return
        self.last = (phase, self.clock())
        items = f", {done}/{total} items" if total else ""
        self.term.err(f"backup {backup['metadata']['name']}: {phase}{items}")

    def close(self) -> None:
        pass


class BarProgress:
    """On a terminal: one rich progress bar, items backed up of total, with the phase."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console or Console(stderr=True))
        self.task = None

    def update(self, backup: dict) -> None:
        phase, done, total = _progress(backup)
        from rich.markup import escape

        from engine.textsafe import for_terminal

        description = escape(for_terminal(f"{backup['metadata']['name']}: {phase}"))
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(description, total=total or None)
        self.progress.update(self.task, description=description, total=total or None, completed=done or 0)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def _progress(backup: dict) -> tuple[str, int | None, int | None]:
    status = backup.get("status") or {}
    progress = status.get("progress") or {}
    return status.get("phase") or "New", progress.get("itemsBackedUp"), progress.get("totalItems")


@app.command("create")
def create(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    schedule: str = typer.Option(None, "--schedule", help="Take it with this schedule's template."),
    scope: str = typer.Option(None, "--scope", help="full or application (instead of --schedule)."),
    app_slug: str = typer.Option(None, "--app", help="The app, with --scope application."),
    storage: str = typer.Option(None, "--storage", help="Storage location (default: the policy's default)."),
    retention: str = typer.Option(None, "--retention", help="How long to keep it: Nh, Nd or Nw (default 30d)."),
    name: str = typer.Option(None, "--name", help="Backup name (default <schedule or scope>-manual-<UTC time>)."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once the Backup is created."),
    as_json: bool = typer.Option(False, "--json", help="Print the final details as JSON."),
    timeout: str = typer.Option("30m", "--timeout", help="Longest wait for the backup to end."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
    now: str = typer.Option(None, "--now", hidden=True, help="Take the time as this RFC 3339 time (tests)."),
) -> None:
    """Take a backup now and follow it until Velero is done (exit 1 unless it Completed)."""
    from engine.cli.spans import parse_span
    from engine.planner import parse_now
    from engine.snapshots import cluster
    from engine.snapshots.actions import start_backup
    from engine.snapshots.build import BackupRequest, on_demand_backup
    from engine.snapshots.catalog import app_namespaces
    from engine.snapshots.details import FAILED, backup_details, fs_backups_of
    from engine.snapshots.follow import StoppedWaiting, follow_backup
    from engine.snapshots.text import render_details
    from engine.spec import load_policy
    from engine.state.kube import KubeTarget, api_client

    term = Terminal(no_color)
    wait_for = parse_span(timeout, "--timeout")
    policy, _ = load_policy(file)
    when = parse_now(now)
    backup = on_demand_backup(policy, BackupRequest(schedule, scope, app_slug, storage, retention, name), when)
    ns, name = policy.velero_namespace, backup["metadata"]["name"]
    with api_client(KubeTarget(kubeconfig, context)) as api:
        created = start_backup(api, backup)
        term.err(f"Backup {name} created (storage location {backup['spec']['storageLocation']}).")
        if no_wait:
            final = created
        else:
            progress = BarProgress() if sys.stderr.isatty() else LineProgress(term)
            try:
                final = follow_backup(api, ns, name, progress.update, timeout=wait_for)
            except StoppedWaiting:
                progress.close()
                raise
            except KeyboardInterrupt:
                progress.close()
                term.err(f"Stopped waiting; Velero carries on with backup {name} "
                         f"(snapplan snapshots show {name}).")
                raise typer.Exit(130) from None
            progress.close()
        fs = None if no_wait else fs_backups_of(cluster.pod_volume_backups(api, ns, name))
    doc = backup_details(final, app_namespaces(policy), fs).to_json(parse_now(now))
    if as_json:
        term.out(json.dumps(doc, indent=2))
    else:
        term.out(render_details(doc), end="")
        if no_wait:
            term.out(f"Follow it with: snapplan snapshots show {name}")
    if doc["phase"] in FAILED:
        raise typer.Exit(Exit.ERROR)

"""`snapplan snapshots [show NAME | delete NAME]`: the backups in the cluster, one backup's details, and
deletion through Velero after the user types the backup's name."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal

app = typer.Typer(help="List backups, show one, delete one (through Velero).", add_completion=False,
                  rich_markup_mode=None)

FILE = typer.Option(None, "-f", "--file", help="Policy: names the app of partial backups, and the current retention.")
NAMESPACE = typer.Option(None, "-n", "--namespace", help="Velero's namespace (default: the policy's, else velero).")
KUBECONFIG = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file.")
CONTEXT = typer.Option(None, "--context", help="Kubeconfig context (default: the current one).")
NOW = typer.Option(None, "--now", hidden=True, help="Compute expiry as of this RFC 3339 time (tests).")


def _policy_and_namespace(file: Path | None, namespace: str | None):
    if file is None:
        return None, namespace or "velero"
    from engine.spec import load_policy

    policy, _ = load_policy(file)
    return policy, namespace or policy.velero_namespace


@app.callback(invoke_without_command=True)
def snapshots(
    ctx: typer.Context,
    file: Path = FILE,
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    schedule: str = typer.Option(None, "--schedule", help="Only backups of this schedule."),
    app_slug: str = typer.Option(None, "--app", help="Only partial backups of this app."),
    phase: str = typer.Option(None, "--phase", help="Only backups in this phase (e.g. Completed, Failed)."),
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
    now: str = NOW,
) -> None:
    """List backups, newest first: scope, schedule, phase, start, expiry, storage, errors/warnings."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.snapshots.catalog import Filters, list_backups
    from engine.planner import parse_now
    from engine.snapshots.text import render_table
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    filters = Filters(schedule, app_slug, phase).normalized()
    policy, ns = _policy_and_namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        found = list_backups(api, ns, policy, filters)
    at = parse_now(now)
    rows = [d.to_json(at) for d in found]
    if as_json:
        term.out(json.dumps({"namespace": ns, "backups": rows}, indent=2))
    else:
        term.out(render_table(rows), end="")
    if policy is not None and not rows:
        if schedule and schedule not in policy.schedules:
            term.warning(f"schedule {schedule!r} is not in the policy (it has: {', '.join(sorted(policy.schedules))})")
        if app_slug and app_slug not in policy.apps:
            term.warning(f"app {app_slug!r} is not in the policy (it has: {', '.join(sorted(policy.apps)) or 'none'})")


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The backup's name."),
    file: Path = FILE,
    as_json: bool = typer.Option(False, "--json", help="Print the details as JSON."),
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
    now: str = NOW,
) -> None:
    """Everything about one backup, the restores made from it, and whether it follows its schedule's retention."""
    from engine.snapshots.catalog import describe
    from engine.planner import parse_now
    from engine.snapshots.text import render_details
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    policy, ns = _policy_and_namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        doc = describe(api, ns, name, policy, parse_now(now))
    if as_json:
        term.out(json.dumps(doc, indent=2))
    else:
        term.out(render_details(doc, full=True), end="")


@app.command("logs")
def logs(
    name: str = typer.Argument(..., help="Backup name."),
    file: Path = FILE,
    namespace: str = NAMESPACE,
    timeout: str = typer.Option("1m", "--timeout", help="Longest wait for Velero to answer."),
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """Print Velero's log of a backup (fetched like `velero backup logs`: a DownloadRequest, then the URL)."""
    from engine.cli.spans import parse_span
    from engine.snapshots import cluster
    from engine.snapshots.download import FileNotInBucket, read_file
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    _, ns = _policy_and_namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        backup = cluster.get_backup(api, ns, name)
        try:
            text = read_file(api, ns, "BackupLog", name, backup, timeout=parse_span(timeout, "--timeout"))
        except FileNotInBucket:
            phase = (backup.get("status") or {}).get("phase") or "New"
            raise FileNotInBucket(f"backup {name} has no log in the bucket (phase {phase}): Velero uploads it "
                                  "when the backup ends") from None
    term.out(text.decode("utf-8", "replace"), end="")


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="The backup's name."),
    yes: bool = typer.Option(False, "--yes", help="Delete without asking to type the name."),
    as_json: bool = typer.Option(False, "--json", help="Print the request made as JSON."),
    file: Path = FILE,
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """Ask Velero to delete a backup, its data in the bucket and the restores made from it."""
    from engine.snapshots import cluster
    from engine.snapshots.actions import deletion_target, request_deletion
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    _, ns = _policy_and_namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        backup = deletion_target(api, ns, name)
        restores = cluster.restores_from(api, ns, name)
        if not yes:
            _confirm(term, backup, len(restores))
        request = request_deletion(api, backup)
    req_name = request["metadata"]["name"]
    if as_json:
        term.out(json.dumps({"backup": name, "namespace": ns, "delete_backup_request": req_name}, indent=2))
        return
    term.out(f"Requested deletion of backup {name} (DeleteBackupRequest {req_name}). Velero deletes its data "
             f"in the bucket, the {len(restores)} restore(s) made from it, then the Backup.")


def _confirm(term: Terminal, backup: dict, restores: int) -> None:
    name = backup["metadata"]["name"]
    if not sys.stdin.isatty():
        term.err(f"Refusing to delete backup {name}: there is no terminal to confirm on; "
                 "pass --yes to delete without asking.")
        raise typer.Exit(Exit.ERROR)
    status = backup.get("status") or {}
    term.err(f"Backup {name} ({status.get('phase')}, storage location "
             f"{(backup.get('spec') or {}).get('storageLocation')}) will be deleted with its data in the bucket "
             f"and the {restores} restore(s) made from it. This cannot be undone.")
    term.err("Type the backup's name to confirm: ", end="")
    try:
        typed = input().strip()
    except EOFError:
        typed = ""
    if typed != name:
        term.err("The name does not match; nothing was deleted.")
        raise typer.Exit(Exit.ERROR)

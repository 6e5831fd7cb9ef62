"""`snapplan restores [show NAME | logs NAME]`: the Restores in the cluster, one restore's details and
Velero's results, and its log (fetched through a DownloadRequest, as `velero restore logs` does)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Terminal

app = typer.Typer(help="List restores, show one, print its log (through Velero).", add_completion=False,
                  rich_markup_mode=None)

FILE = typer.Option(None, "-f", "--file", help="Policy (for Velero's namespace).")
NAMESPACE = typer.Option(None, "-n", "--namespace", help="Velero's namespace (default: the policy's, else velero).")
KUBECONFIG = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file.")
CONTEXT = typer.Option(None, "--context", help="Kubeconfig context (default: the current one).")
TIMEOUT = typer.Option("1m", "--timeout", help="Longest wait for Velero to answer a download request.")


def _namespace(file: Path | None, namespace: str | None) -> str:
    if namespace or file is None:
        return namespace or "velero"
    from engine.spec import load_policy

    return load_policy(file)[0].velero_namespace


@app.callback(invoke_without_command=True)
def restores(
    ctx: typer.Context,
    file: Path = FILE,
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """List restores, newest first: backup, phase, items, warnings/errors, and whether a drill made it."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.snapshots import cluster
    from engine.snapshots.restores import render_table, restore_json, sort_rows
    from engine.state.kube import KubeTarget, api_client

    ns = _namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        rows = sort_rows([restore_json(r) for r in cluster.list_kind(api, ns, "restores")])
    Terminal().out(json.dumps(rows, indent=2) if as_json else render_table(rows), end="\n" if as_json else "")


def _get(api, ns: str, name: str) -> dict:
    from engine.errors import SnapplanError
    from engine.snapshots import cluster

    restore = cluster.get(api, ns, "restores", name)
    if restore is None:
        raise SnapplanError(f"no restore named {name} in namespace {ns} (list them with: snapplan restores)")
    return restore


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Restore name."),
    file: Path = FILE,
    as_json: bool = typer.Option(False, "--json", help="Print the details as JSON."),
    namespace: str = NAMESPACE,
    timeout: str = TIMEOUT,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """One restore: its backup, namespaces, phase, items, and Velero's warnings and errors."""
    from engine.cli.spans import parse_span
    from engine.snapshots import cluster
    from engine.snapshots.download import DownloadFailed, read_file
    from engine.snapshots.restores import render_details, restore_json
    from engine.state.kube import KubeTarget, api_client

    ns = _namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        restore = _get(api, ns, name)
        results, note = None, None
        phase = (restore.get("status") or {}).get("phase")
        if phase in ("Completed", "PartiallyFailed", "Failed"):
            backup = cluster.get(api, ns, "backups", (restore.get("spec") or {}).get("backupName") or "") or {}
            try:
                results = json.loads(read_file(api, ns, "RestoreResults", name, backup,
                                               timeout=parse_span(timeout, "--timeout")))
            except (DownloadFailed, ValueError) as exc:
                note = f"not available ({exc})"
        else:
            note = f"not yet (phase {phase or 'New'})"
    doc = restore_json(restore, results, note)
    Terminal().out(json.dumps(doc, indent=2) if as_json else render_details(doc), end="\n" if as_json else "")


@app.command("logs")
def logs(
    name: str = typer.Argument(..., help="Restore name."),
    file: Path = FILE,
    namespace: str = NAMESPACE,
    timeout: str = TIMEOUT,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """Print Velero's log of a restore (fetched like `velero restore logs`)."""
    from engine.cli.spans import parse_span
    from engine.snapshots import cluster
    from engine.snapshots.download import FileNotInBucket, read_file
    from engine.state.kube import KubeTarget, api_client

    ns = _namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        restore = _get(api, ns, name)
        backup = cluster.get(api, ns, "backups", (restore.get("spec") or {}).get("backupName") or "") or {}
        try:
            text = read_file(api, ns, "RestoreLog", name, backup, timeout=parse_span(timeout, "--timeout"))
        except FileNotInBucket:
            phase = (restore.get("status") or {}).get("phase") or "New"
            raise FileNotInBucket(f"restore {name} has no log in the bucket (phase {phase}): Velero uploads it "
                                  "when the restore ends") from None
    Terminal().out(text.decode("utf-8", "replace"), end="")

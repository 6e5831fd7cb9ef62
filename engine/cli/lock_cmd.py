"""`snapplan lock show` / `snapplan lock break`: who holds the apply lock, and breaking it after the person
confirms (the holder's name typed, or --yes; never silently without a terminal)."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal

app = typer.Typer(help="Show or break the apply lock (the Lease snapplan-lock in Velero's namespace).",
                  add_completion=False, rich_markup_mode=None, no_args_is_help=True)

FILE = typer.Option(None, "-f", "--file", help="Policy: its veleroNamespace is where the lock lives.")
NAMESPACE = typer.Option(None, "-n", "--namespace", help="Velero's namespace (default: the policy's, else velero).")
KUBECONFIG = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file.")
CONTEXT = typer.Option(None, "--context", help="Kubeconfig context (default: the current one).")


def _namespace(file: Path | None, namespace: str | None) -> str:
    if namespace or file is None:
        return namespace or "velero"
    from engine.spec import load_policy

    return load_policy(file)[0].velero_namespace


def _describe(holder, namespace: str, now: datetime) -> dict:
    from engine.apply.lock import LEASE_NAME

    expires = holder.expires
    return {"lease": f"{namespace}/{LEASE_NAME}", "holder": holder.name, "run": holder.run or None,
            "holder_identity": holder.identity,
            "acquired": holder.acquired.isoformat() if holder.acquired else None,
            "renewed": holder.renewed.isoformat() if holder.renewed else None,
            "duration_seconds": holder.lifetime,
            "expires": expires.isoformat() if expires else None,
            "expired": holder.expired(now)}


def _lines(doc: dict) -> list[str]:
    from engine.errors import printable

    run = f" (run {doc['run']})" if doc["run"] else ""
    state = "expired: the next apply takes it over" if doc["expired"] else f"expires {doc['expires']} unless renewed"
    return [f"Lock {doc['lease']} held by {printable(doc['holder'])}{run}",
            f"  acquired {doc['acquired'] or 'unknown'}, last renewed {doc['renewed'] or 'never'}",
            f"  {state}"]


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print the holder as JSON."),
    file: Path = FILE,
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """Who holds the apply lock, since when, and when it expires."""
    from engine.apply.lock import current_holder
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    ns = _namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        found = current_holder(api, ns)
    doc = _describe(found[0], ns, datetime.now(timezone.utc)) if found else None
    if as_json:
        term.out(json.dumps({"namespace": ns, "lock": doc}, indent=2))
    elif doc is None:
        term.out(f"No apply holds the lock in namespace {ns}.")
    else:
        term.out("\n".join(_lines(doc)))


@app.command("break")
def break_(
    yes: bool = typer.Option(False, "--yes", help="Break it without asking to type the holder's name."),
    file: Path = FILE,
    namespace: str = NAMESPACE,
    kubeconfig: str = KUBECONFIG,
    context: str = CONTEXT,
) -> None:
    """Delete the lock an apply holds (after it crashed, or to stop waiting for it), once you confirm."""
    from engine.apply.lock import break_lock, current_holder
    from engine.errors import printable
    from engine.state.kube import KubeTarget, api_client

    term = Terminal()
    ns = _namespace(file, namespace)
    with api_client(KubeTarget(kubeconfig, context)) as api:
        found = current_holder(api, ns)
        if found is None:
            term.out(f"No apply holds the lock in namespace {ns}; nothing to break.")
            return
        holder, lease = found
        doc = _describe(holder, ns, datetime.now(timezone.utc))
        if not yes:
            _confirm(term, doc)
        break_lock(api, ns, lease)
    term.out(f"Broke the lock of {printable(holder.name)} (Lease {doc['lease']}). If that apply is still running, it "
             "stops at its next renewal; check what it did, then run apply again.")


def _confirm(term: Terminal, doc: dict) -> None:
    from engine.errors import printable

    name = doc["holder"]
    if not sys.stdin.isatty():
        term.err(f"Refusing to break the lock of {printable(name)}: there is no terminal to confirm on; "
                 "pass --yes to break it without asking.")
        raise typer.Exit(Exit.ERROR)
    for line in _lines(doc):
        term.err(line)
    if not doc["expired"]:
        term.err("Its apply may still be running: breaking the lock lets another apply write at the same time.")
    term.err("Type the holder's name to break its lock: ", end="")
    try:
        typed = input().strip()
    except EOFError:
        typed = ""
    if typed != name:
        term.err("The name does not match; the lock was not broken.")
        raise typer.Exit(Exit.ERROR)

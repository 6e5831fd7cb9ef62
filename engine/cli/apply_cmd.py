"""`snapplan apply -f POLICY`: plan against the cluster, show it, ask, then carry it out."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal

PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted: "
VERBS = {"+": ("Creating", "Creation complete"), "~": ("Modifying", "Modifications complete"),
         "-": ("Destroying", "Destruction complete"), "-/+": ("Replacing", "Replacement complete")}


class LineObserver:
    """Terraform-style progress lines on stderr, one per event."""

    def __init__(self, term: Terminal):
        self.term = term
        self.lock = threading.Lock()
        self.actions: dict = {}

    def on_start(self, address, action) -> None:
        self.actions[address] = action
        with self.lock:
            self.term.err(f"{address}: {VERBS[action.value][0]}...")

    def on_retry(self, address, attempt, error, sleep) -> None:
        with self.lock:
            self.term.err(f"{address}: retrying in {sleep:.1f}s (attempt {attempt} failed: {error})")

    def on_done(self, address, outcome) -> None:
        with self.lock:
            if outcome.status.value == "done":
                self.term.err(f"{address}: {VERBS[self.actions[address].value][1]} ({outcome.message})")
            else:
                self.term.err(f"{address}: {outcome.status.value.upper()}: {outcome.message}")


def apply(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Apply without asking."),
    parallelism: int = typer.Option(8, "--parallelism", min=1, max=64, help="Actions run at once."),
    target: list[str] = typer.Option([], "--target", help="Apply only this address (and what it needs)."),
    prune: bool = typer.Option(False, "--prune", help="Delete managed objects that left the policy."),
    no_color: bool = typer.Option(False, "--no-color"),
) -> None:
    """Make the cluster's Velero objects match the policy."""
    from engine.apply.executor import ApplyOptions, Executor
    from engine.apply.walk import Status
    from engine.plan.jsonform import plan_to_json
    from engine.plan.model import Action
    from engine.plan.text import render_text
    from engine.planner import plan_from_files
    from engine.state.kube import KubeTarget, api_client

    term = Terminal(no_color)
    kube = KubeTarget(kubeconfig, context)
    result = plan_from_files(file, None, kube=kube, prune=prune, targets=tuple(target))
    for w in result.policy_warnings:
        term.warning(str(w))
    term.out(render_text(plan_to_json(result.plan), color=term.color_out), end="")
    if not result.plan.has_changes:
        return
    if not auto_approve:
        if not sys.stdin.isatty():
            term.error("refusing to apply: there is no terminal to ask for confirmation; "
                       "review the plan and pass --auto-approve")
            raise typer.Exit(Exit.ERROR)
        term.err("")
        answer = input(PROMPT)
        if answer.strip() != "yes":
            term.err("Apply cancelled.")
            raise typer.Exit(Exit.ERROR)
    stop = threading.Event()
    with api_client(kube) as api:
        from engine.apply.writer import KubeWriter

        executor = Executor(result.plan, result.desired, KubeWriter(api), LineObserver(term),
                            ApplyOptions(parallelism=parallelism))
        try:
            outcome = executor.run(stop)
        except KeyboardInterrupt:
            stop.set()
            raise
    added = outcome.count(Status.DONE, (Action.CREATE, Action.REPLACE))
    changed = outcome.count(Status.DONE, (Action.UPDATE,))
    destroyed = outcome.count(Status.DONE, (Action.DELETE, Action.REPLACE))
    if outcome.ok:
        term.out(f"\nApply complete! {added} added, {changed} changed, {destroyed} destroyed.")
        return
    failed = [(a, o) for a, o in outcome.outcomes.items() if o.status is Status.FAILED]
    skipped = [(a, o) for a, o in outcome.outcomes.items() if o.status in (Status.SKIPPED, Status.NOT_STARTED)]
    term.out(f"\nApply failed: {added} added, {changed} changed, {destroyed} destroyed; "
             f"{len(failed)} failed, {len(skipped)} not done.")
    for a, o in failed:
        term.out(f"  failed:  {a}: {o.message}")
    for a, o in skipped:
        term.out(f"  skipped: {a}: {o.message}")
    raise typer.Exit(Exit.ERROR)

"""`snapplan apply -f POLICY` or `snapplan apply plans/NAME.plan`: parse, print, ask; engine.apply.run does the work."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import typer

from engine.cli import fleet_run
from engine.cli.fleet_run import CLUSTER, FLEET, SELECTOR, fleet_file
from engine.cli.spans import parse_span
from engine.cli.terminal import Exit, Terminal

PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted: "
VERBS = {"+": ("Creating", "Creation complete"), "~": ("Modifying", "Modifications complete"),
         "-": ("Destroying", "Destruction complete"), "-/+": ("Replacing", "Replacement complete")}
WAIT_REPORT_EVERY = 10.0  # seconds between progress lines for one wait when stderr is not a terminal


class LineObserver:
    """Terraform-style progress lines on stderr, one per event; waits report every few seconds."""

    def __init__(self, term: Terminal):
        self.term = term
        self.lock = threading.Lock()
        self.actions: dict = {}
        self.last_wait: dict = {}

    def on_start(self, address, action) -> None:
        self.actions[address] = action
        with self.lock:
            self.term.err(f"{address}: {VERBS[action.value][0]}...")

    def on_retry(self, address, attempt, error, sleep) -> None:
        with self.lock:
            self.term.err(f"{address}: retrying in {sleep:.1f}s (attempt {attempt} failed: {error})")

    def on_wait(self, address, pending, elapsed) -> None:
        last = self.last_wait.get(address)
        if last is not None and last[1] == pending.text and elapsed - last[0] < WAIT_REPORT_EVERY:
            return
        self.last_wait[address] = (elapsed, pending.text)
        with self.lock:
            self.term.err(f"{address}: {pending.text} [{int(elapsed)}s elapsed]")

    def on_done(self, address, outcome) -> None:
        with self.lock:
            if outcome.status.value == "done":
                self.term.err(f"{address}: {VERBS[self.actions[address].value][1]} ({outcome.message})")
            else:
                self.term.err(f"{address}: {outcome.status.value.upper()}: {outcome.message}")


def _rich(text: str) -> str:
    """A line for rich: escaped for the terminal, and `[...]` from a server message not read as markup."""
    from rich.markup import escape

    from engine.textsafe import for_terminal

    return escape(for_terminal(text))


class RichObserver(LineObserver):
    """On a terminal: the same lines, plus a live progress bar for each wait."""

    def __init__(self, term: Terminal):
        super().__init__(term)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.tasks: dict = {}

    def on_start(self, address, action) -> None:
        self.actions[address] = action
        self.progress.console.print(_rich(f"{address}: {VERBS[action.value][0]}..."), highlight=False)

    def on_retry(self, address, attempt, error, sleep) -> None:
        self.progress.console.print(_rich(f"{address}: retrying in {sleep:.1f}s (attempt {attempt} failed: "
                                          f"{error})"), highlight=False)

    def on_wait(self, address, pending, elapsed) -> None:
        with self.lock:
            if not self.tasks:
                self.progress.start()
            task = self.tasks.get(address)
            if task is None:
                task = self.tasks[address] = self.progress.add_task(_rich(f"{address}: {pending.text}"), total=None)
            self.progress.update(task, description=_rich(f"{address}: {pending.text}"),
                                 total=pending.total or None, completed=pending.done or 0)

    def on_done(self, address, outcome) -> None:
        with self.lock:
            task = self.tasks.pop(address, None)
            if task is not None:
                self.progress.remove_task(task)
                if not self.tasks:
                    self.progress.stop()
        if outcome.status.value == "done":
            self.progress.console.print(
                _rich(f"{address}: {VERBS[self.actions[address].value][1]} ({outcome.message})"), highlight=False)
        else:
            self.progress.console.print(_rich(f"{address}: {outcome.status.value.upper()}: {outcome.message}"),
                                        highlight=False)


class CliUI:
    def __init__(self, term: Terminal, auto_approve: bool):
        self.term, self.auto_approve = term, auto_approve
        self.observer = RichObserver(term) if term.color_err else LineObserver(term)

    def show_plan(self, result) -> None:
        from engine.plan.jsonform import plan_to_json
        from engine.plan.text import render_text

        for w in result.policy_warnings:
            self.term.warning(str(w))
        self.term.out(render_text(plan_to_json(result.plan), color=self.term.color_out), end="")

    def can_confirm(self) -> None:
        if not self.auto_approve and not sys.stdin.isatty():
            from engine.apply.run import Cancelled

            raise Cancelled("refusing to apply: there is no terminal to ask for confirmation; "
                            "review the plan and pass --auto-approve (or apply a saved plan)")

    def confirm(self) -> bool:
        if self.auto_approve:
            return True
        self.can_confirm()
        self.term.err("")
        return input(PROMPT).strip() == "yes"

    def note(self, text: str) -> None:
        self.term.err(f"Note: {text}")

    def lock_wait(self, holder) -> None:
        if holder.identity != getattr(self, "_waiting_for", None):  # once per holder, not every poll
            self._waiting_for = holder.identity
            self.term.err(f"Waiting for the lock held by {holder.name}...")


def apply(
    saved_plan: Path = typer.Argument(None, metavar="PLAN", help="A saved plan (snapplan plan --out) to apply as is."),
    file: Path = typer.Option(None, "-f", "--file", help="Policy file, or a directory of YAML files."),
    state: Path = typer.Option(None, "--state", help="Apply to a cluster-state file (rewritten atomically) instead."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Apply without asking."),
    parallelism: int = typer.Option(8, "--parallelism", min=1, max=64, help="Actions run at once."),
    target: list[str] = typer.Option([], "--target", help="Apply only this address (and what it needs)."),
    prune: bool = typer.Option(False, "--prune", help="Delete managed objects that left the policy."),
    timeout: str = typer.Option("10m", "--timeout", help="Longest wait for Velero, per location or restore."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Do not wait for Velero to validate or restore."),
    lock_timeout: str = typer.Option("0s", "--lock-timeout", help="How long to wait for another apply's lock."),
    no_lock: bool = typer.Option(False, "--no-lock", help="Do not take the snapplan-lock Lease."),
    skip_storage_check: bool = typer.Option(False, "--skip-storage-check",
                                            help="Do not check the buckets of new or changed storage first."),
    lock_duration: int = typer.Option(60, "--lock-duration", min=1, max=600,
                                      help="Seconds the lock lives without renewal (at most 600); "
                                           "renewed every third of it while apply runs."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
    fleet: Path = FLEET,
    cluster: list[str] = CLUSTER,
    selector: list[str] = SELECTOR,
    fleet_parallelism: int = typer.Option(4, "--fleet-parallelism", min=1, max=64,
                                          help="With --fleet: clusters applied at once (--parallelism: actions "
                                               "at once in each)."),
    as_json: bool = typer.Option(False, "--json", help="With --fleet: print the summary as JSON."),
) -> None:
    """Make the cluster's Velero objects match the policy (or carry out a saved plan)."""
    from engine.apply.executor import ApplyOptions
    from engine.apply.run import ApplyRequest, Cancelled, run_apply
    from engine.apply.targets import ClusterTarget, LockOptions, StateFileTarget
    from engine.state.kube import KubeTarget

    if fleet is None and (saved_plan is None) == (file is None):
        raise typer.BadParameter("give either a saved plan or -f POLICY", param_hint="PLAN / -f")
    if saved_plan is not None and (target or prune):
        raise typer.BadParameter("a saved plan keeps the --target/--prune it was made with", param_hint="--target/--prune")
    term = Terminal(no_color)
    wait_for = parse_span(timeout, "--timeout")
    lock = LockOptions(enabled=not no_lock, timeout=parse_span(lock_timeout, "--lock-timeout"), duration=lock_duration)
    if fleet is not None:
        from engine.fleet.run import FleetOptions

        if saved_plan is not None or file is not None:
            raise typer.BadParameter("--fleet plans and applies each cluster's effective policy; apply a saved "
                                     "plan of one cluster as: snapplan apply plans/CLUSTER/NAME.plan",
                                     param_hint="--fleet")
        options = FleetOptions(kubeconfig=kubeconfig, parallelism=fleet_parallelism, prune=prune,
                               targets=tuple(target))
        fleet_run.apply(term, fleet_file(None, fleet, state, context, cluster, selector), cluster, selector,
                        options, auto_approve=auto_approve, lock=lock,
                        apply_options=ApplyOptions(parallelism=parallelism, wait=not no_wait, timeout=wait_for),
                        check_storage=not skip_storage_check, as_json=as_json)
        return
    if cluster or selector:
        fleet_file(file, None, None, None, cluster, selector)  # says they need --fleet
    if saved_plan is not None and state is None and kubeconfig is None and context is None:
        kubeconfig, context, state = _saved_target(saved_plan)
    where = StateFileTarget(state) if state else ClusterTarget(KubeTarget(kubeconfig, context), lock)
    request = ApplyRequest(where, file, saved_plan, prune, tuple(target),
                           ApplyOptions(parallelism=parallelism, wait=not no_wait, timeout=wait_for),
                           check_storage=not skip_storage_check and state is None,
                           prepare=fleet_run.saved_plan_prepare(saved_plan) if saved_plan is not None else None)
    ui = CliUI(term, auto_approve)
    try:
        outcome = run_apply(request, ui)
    except Cancelled as exc:
        term.err(str(exc))
        raise typer.Exit(Exit.ERROR)
    if outcome is None:
        return
    _summary(term, outcome)


def _saved_target(path: Path):
    """Apply a saved plan where it was made, unless told otherwise."""
    from engine.plan import saved as saved_plans

    saved = saved_plans.load(path)
    t = saved["target"]
    if t.get("kind") == "state":
        return None, None, Path(t["path"])
    return saved.get("kubeconfig"), t.get("context"), None


def _summary(term: Terminal, outcome) -> None:
    from engine.apply.walk import Status
    from engine.plan.model import Action

    added = outcome.count(Status.DONE, (Action.CREATE, Action.REPLACE))
    changed = outcome.count(Status.DONE, (Action.UPDATE,))
    destroyed = outcome.destroyed()
    if outcome.ok:
        term.out(f"\nApply complete! {added} added, {changed} changed, {destroyed} destroyed.")
        return
    failed = [(a, o) for a, o in outcome.outcomes.items() if o.status is Status.FAILED]
    skipped = [(a, o) for a, o in outcome.outcomes.items() if o.status in (Status.SKIPPED, Status.NOT_STARTED)]
    head = ("Apply stopped" if outcome.lock_lost else
            "Apply interrupted" if outcome.interrupted else "Apply failed")
    term.out(f"\n{head}: {added} added, {changed} changed, {destroyed} destroyed; "
             f"{len(failed)} failed, {len(skipped)} not done.")
    for a, o in failed:
        term.out(f"  failed:  {a}: {o.message}")
    for a, o in skipped:
        term.out(f"  skipped: {a}: {o.message}")
    if outcome.lock_lost:
        term.out(f"Stopped because {outcome.lock_lost}. Check what else ran meanwhile, "
                 "then run apply again: it plans from what is now there.")
        raise typer.Exit(Exit.ERROR)
    if outcome.interrupted:
        term.out("Run apply again to finish: it plans from what is now there.")
        raise typer.Exit(130)
    raise typer.Exit(Exit.ERROR)

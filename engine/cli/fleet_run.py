"""`plan|apply|audit --fleet`: select the clusters, run them (engine.fleet.run), print one summary table and
each cluster's result below it (or --json). Parsing and printing only."""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import typer

from engine.cli.terminal import Terminal

FLEET = typer.Option(None, "--fleet", help="Run every cluster of this fleet file (kind: Fleet), in parallel.")
CLUSTER = typer.Option([], "--cluster", help="With --fleet: only this cluster. Repeatable.")
SELECTOR = typer.Option([], "--selector", help="With --fleet: only clusters with these labels (key=value[,key=value]).")
PARALLELISM = typer.Option(8, "--parallelism", min=1, max=64, help="With --fleet: clusters run at once.")
COLUMNS = ("CLUSTER", "RESULT", "ADD", "CHANGE", "DESTROY", "ERRORS", "UNHEALTHY")
FORMAT_VERSION = "1"


def fleet_file(file, fleet, state, context, clusters, selectors) -> Path:
    """The fleet file, once the options that only make sense for one cluster are ruled out."""
    if fleet is None:
        if clusters or selectors:
            raise typer.BadParameter("--cluster and --selector choose clusters of a --fleet", param_hint="--fleet")
        raise _missing("Or give --fleet FLEET to run every cluster of a fleet.", "'-f' / '--file'")
    if file is not None:
        raise typer.BadParameter("the fleet file names its policy; give -f or --fleet, not both", param_hint="-f")
    if state is not None:
        raise typer.BadParameter("a fleet's clusters are read through their kubeconfig, not a state file",
                                 param_hint="--state")
    if context is not None:
        raise typer.BadParameter("each cluster of a fleet names its own context", param_hint="--context")
    return fleet


def _missing(message: str, hint: str):
    """click's own "Missing option" error (typer >= 0.29 carries its own click)."""
    try:
        from typer._click.exceptions import MissingParameter
    except ImportError:
        from click.exceptions import MissingParameter
    return MissingParameter(message, param_hint=hint, param_type="option")


def saved_plan_prepare(path: Path):
    """For a saved plan made by `plan --fleet --out`: how apply loads that cluster's effective policy again."""
    from engine.plan import saved as saved_plans

    made_by = saved_plans.load(path).get("fleet")
    if not made_by:
        return None

    def prepare():
        from engine.errors import SnapplanError
        from engine.fleet import load_fleet
        from engine.fleet.effective import prepare_cluster

        spec = load_fleet(made_by["file"])
        if made_by["cluster"] not in spec.clusters:
            raise SnapplanError(f"{path}: cluster {made_by['cluster']!r} is no longer in the fleet {made_by['file']}")
        return prepare_cluster(spec, spec.clusters[made_by["cluster"]])
    return prepare


def load(fleet: Path, clusters: list[str], selectors: list[str]):
    from engine.fleet import load_fleet, select

    spec = load_fleet(fleet)
    return spec, select(spec, tuple(clusters), tuple(selectors))


def plan(term: Terminal, fleet: Path, clusters: list[str], selectors: list[str], options, *, as_json: bool,
         detailed_exitcode: bool, markdown: bool = False) -> None:
    from engine.fleet.run import plan_cluster, run_fleet

    spec, chosen = load(fleet, clusters, selectors)
    if options.out:
        from engine.plan.key import load_key

        load_key(create=True)  # made once, before the clusters' threads would race to make it
    outcomes = run_fleet(chosen, lambda c: plan_cluster(spec, c, options), options.parallelism)
    finish(term, "plan", spec, outcomes, as_json=as_json, detailed=detailed_exitcode, markdown=markdown)


def audit(term: Terminal, fleet: Path, clusters: list[str], selectors: list[str], options, *, output: str) -> None:
    from engine.fleet.run import audit_cluster, run_fleet

    spec, chosen = load(fleet, clusters, selectors)
    outcomes = run_fleet(chosen, lambda c: audit_cluster(spec, c, options), options.parallelism)
    finish(term, "audit", spec, outcomes, as_json=output == "json", openmetrics=output == "openmetrics")


def apply(term: Terminal, fleet: Path, clusters: list[str], selectors: list[str], options, *, auto_approve: bool,
          apply_options, lock, check_storage: bool, as_json: bool = False) -> None:
    from engine.fleet.run import apply_cluster, run_fleet

    spec, chosen = load(fleet, clusters, selectors)
    guard, stop = threading.Lock(), threading.Event()
    if auto_approve:
        outcomes = run_fleet(chosen, lambda c: apply_cluster(spec, c, options, apply_options, lock,
                                                             ClusterUI(term, c.name, guard), check_storage,
                                                             stop=stop),
                             options.parallelism, stop)
        finish(term, "apply", spec, outcomes, as_json=as_json)
    if as_json or not sys.stdin.isatty():
        raise typer.BadParameter("apply --fleet asks before it writes, and there is no terminal to ask: review "
                                 "`snapplan plan --fleet` first, then pass --auto-approve (or apply each saved plan: "
                                 "snapplan apply plans/CLUSTER/NAME.plan)", param_hint="--auto-approve")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="snapplan-fleet-apply-") as tmp:
        planned = _plan_to_approve(term, spec, chosen, options, Path(tmp))
        todo = [o for o in planned if o.status.value == "ok" and (o.add or o.change or o.destroy)]
        if not todo:
            term.out("Nothing to apply.")
            raise typer.Exit(overall(planned))
        term.err("")
        if input(f"Apply these plans to {len(todo)} cluster(s) ({', '.join(o.cluster for o in todo)})? "
                 "Only 'yes' will be accepted: ").strip() != "yes":
            term.err("Apply cancelled.")
            raise typer.Exit(1)
        by_name = {c.name: c for c in chosen}
        saved = {o.cluster: Path(o.saved_plan) for o in todo}
        outcomes = run_fleet([by_name[o.cluster] for o in todo],
                             lambda c: apply_cluster(spec, c, options, apply_options, lock,
                                                     ClusterUI(term, c.name, guard), check_storage, saved[c.name],
                                                     stop),
                             options.parallelism, stop)
    done = {o.cluster: o for o in outcomes}
    # clusters that could not be planned keep their error; those without changes their plan
    finish(term, "apply", spec, [done.get(o.cluster, o) for o in planned], as_json=False)


def _plan_to_approve(term: Terminal, spec, chosen, options, directory: Path):
    """Plan every cluster (read only), saving each plan, and show them: what the person approves is exactly
    what is applied (each saved plan is proved to still hold under that cluster's lock)."""
    import dataclasses

    from engine.fleet.run import plan_cluster, run_fleet
    from engine.plan.key import load_key

    load_key(create=True)
    plan_options = dataclasses.replace(options, out=str(directory / "approved"))
    planned = run_fleet(chosen, lambda c: plan_cluster(spec, c, plan_options), options.parallelism)
    text = render_text("plan", spec, planned, color=term.color_out)
    term.out("\n".join(line for line in text.splitlines() if not line.startswith("Saved the plan to ")) + "\n", end="")
    return planned


def overall(outcomes) -> int:
    from engine.fleet.run import overall_exit

    return overall_exit("apply", outcomes)


class Prefixed:
    """A Terminal whose stderr lines carry the cluster's name (clusters run at once; lines must not mix)."""

    def __init__(self, term: Terminal, name: str, guard: threading.Lock):
        self.term, self.prefix, self.guard = term, f"[{name}] ", guard
        self.color_out = self.color_err = False

    def err(self, text: str, end: str = "\n") -> None:
        with self.guard:
            self.term.err("\n".join(self.prefix + line for line in text.split("\n")), end=end)

    def warning(self, text: str) -> None:
        self.err(f"Warning: {text}")


class ClusterUI:
    """engine.apply.run.UI for one cluster of a fleet apply: approved up front, progress lines prefixed, the
    plan kept for the summary instead of printed while other clusters print."""

    def __init__(self, term: Terminal, name: str, guard: threading.Lock):
        from engine.cli.apply_cmd import LineObserver

        self.term = Prefixed(term, name, guard)
        self.observer = LineObserver(self.term)

    def show_plan(self, result) -> None:
        pass  # the summary prints it

    def can_confirm(self) -> None:
        pass

    def confirm(self) -> bool:
        return True

    def note(self, text: str) -> None:
        self.term.err(f"Note: {text}")

    def lock_wait(self, holder) -> None:
        if holder.identity != getattr(self, "_waiting_for", None):
            self._waiting_for = holder.identity
            self.term.err(f"Waiting for the lock held by {holder.identity}...")


def finish(term: Terminal, command: str, spec, outcomes, *, as_json: bool, detailed: bool = False,
           openmetrics: bool = False, markdown: bool = False) -> None:
    from engine.fleet.run import overall_exit

    code = overall_exit(command, outcomes, detailed)
    crashes = {o.cluster: _crash_log(o.crash) for o in outcomes if o.crash}
    for o in outcomes:
        for w in o.warnings:
            term.err(f"[{o.cluster}] Warning: {w}")
    if as_json:
        term.out(json.dumps(to_json(command, spec, outcomes, code), indent=2))
    elif markdown:
        term.out(render_markdown(command, spec, outcomes), end="")
    elif openmetrics:  # every cluster's metrics, labelled cluster=NAME; snapplan_audit_up 0 for those not audited
        from engine.audit.openmetrics import render_openmetrics

        for o in outcomes:
            if o.audit is None:
                term.err(f"[{o.cluster}] Error: {o.message}")
        term.out(render_openmetrics([({"cluster": o.cluster}, o.audit) for o in outcomes]), end="")
    else:
        term.out(render_text(command, spec, outcomes, color=term.color_out), end="")
    for name, path in crashes.items():
        term.err(f"[{name}] This is a bug in snapplan; please report it with the traceback in {path}")
    raise typer.Exit(code)


def _crash_log(text: str) -> str:
    import os
    import tempfile

    import tempfile

    fd, path = tempfile.mkstemp(prefix="snapplan-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path


def to_json(command: str, spec, outcomes, code: int) -> dict:
    """schemas/fleet-run.schema.json"""
    from engine import __version__

    return {
        "format_version": FORMAT_VERSION, "snapplan_version": __version__, "command": command,
        "fleet": spec.name, "exit_code": code,
        "clusters": [{
            "cluster": o.cluster, "status": o.status.value, "exit_code": o.exit_code,
            "add": o.add, "change": o.change, "destroy": o.destroy, "errors": o.errors, "unhealthy": o.unhealthy,
            "message": o.message or None, "details": list(o.details), "warnings": list(o.warnings),
            "saved_plan": o.saved_plan, "failed_on": list(o.failed_on),
            **({"audit": o.audit} if command == "audit" else {"plan": o.plan}),
        } for o in outcomes],
    }


def _result(command: str, o) -> str:
    if o.status.value in ("error", "unreachable"):
        return o.status.value
    if command == "audit":
        return f"failed ({', '.join(o.failed_on)})" if o.failed_on else "passed"
    if command == "apply":
        return "failed" if o.status.value == "failed" else ("applied" if o.add or o.change or o.destroy
                                                              else "no changes")
    return "changes" if o.add or o.change or o.destroy else "no changes"


def render_text(command: str, spec, outcomes, color: bool = False) -> str:
    rows = []
    for o in outcomes:
        ran = o.status.value not in ("error", "unreachable")
        nums = [o.add, o.change, o.destroy] if ran else ["-"] * 3
        rows.append([o.cluster, _result(command, o), *map(str, nums), str(o.errors),
                     str(o.unhealthy) if ran else "-"])
    widths = [max(len(r[i]) for r in [list(COLUMNS), *rows]) for i in range(len(COLUMNS))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    verb = {"plan": "Plan", "apply": "Apply", "audit": "Audit"}[command]
    out = [f"Fleet {spec.name}: {command} of {len(outcomes)} cluster(s)", "", line(COLUMNS)]
    out += [line(r) for r in rows]
    totals = {k: sum(getattr(o, k) for o in outcomes) for k in ("add", "change", "destroy")}
    bad = [o for o in outcomes if o.status.value != "ok"]
    out += ["", f"{verb}: {totals['add']} to add, {totals['change']} to change, {totals['destroy']} to destroy "
                f"across {len(outcomes)} cluster(s); {len(bad)} cluster(s) not ok."
            if command == "plan" else
            f"{verb}: {len(outcomes) - len(bad)} cluster(s) ok, {len(bad)} not ok."]
    for o in outcomes:
        out += ["", f"=== {o.cluster} ({_result(command, o)}) ==="]
        if o.message:
            out.append(("Error: " if o.status.value in ("error", "unreachable") else "") + o.message)
        out += list(o.details)
        if o.plan is not None and command != "audit":
            from engine.plan.text import render_text as plan_text

            out.append(plan_text(o.plan, color=color).rstrip("\n"))
        if o.audit is not None:
            from engine.audit import render_text as audit_text

            out.append(audit_text(o.audit, color=color).rstrip("\n"))
        if o.saved_plan:
            out.append(f"Saved the plan to {o.saved_plan}. Apply exactly this plan with: snapplan apply {o.saved_plan}")
    return "\n".join(out) + "\n"


def render_markdown(command: str, spec, outcomes) -> str:
    """A pull-request comment: the summary table, then each cluster's plan as `plan --format markdown` writes
    it (each cut to its share of GitHub's comment limit), or its error."""
    from engine.plan.markdown import GITHUB_LIMIT, code, text
    from engine.plan.markdown import render_markdown as plan_markdown

    out = [f"<!-- snapplan-fleet fleet={text(spec.name)} -->", f"### snapplan fleet {code(spec.name)}: "
           f"{command} of {len(outcomes)} cluster(s)", "",
           "| cluster | result | add | change | destroy | errors | unhealthy |", "|---|---|--:|--:|--:|--:|--:|"]
    for o in outcomes:
        ran = o.status.value not in ("error", "unreachable")
        nums = [str(n) if ran else "-" for n in (o.add, o.change, o.destroy)]
        out.append(f"| {text(o.cluster)} | {text(_result(command, o))} | {' | '.join(nums)} | {o.errors} | "
                   f"{o.unhealthy if ran else '-'} |")
    share = max(4000, (GITHUB_LIMIT - 4000) // max(1, len(outcomes)))
    for o in outcomes:
        out += ["", f"#### {text(o.cluster)}: {text(_result(command, o))}", ""]
        if o.plan is not None:
            out.append(plan_markdown(o.plan, limit=share, source=o.saved_plan).rstrip("\n"))
        elif o.message:
            out += ["```", o.message.replace("`", "'"), "```"]
    return "\n".join(out) + "\n"

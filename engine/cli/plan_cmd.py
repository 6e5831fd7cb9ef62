"""`snapplan plan`: diff the policy against a cluster-state file and show what apply would do."""
from __future__ import annotations

from pathlib import Path

import typer

from engine.cli import fleet_run
from engine.cli.fleet_run import CLUSTER, FLEET, PARALLELISM, SELECTOR, fleet_file
from engine.cli.plan_output import PlanFormat, chosen, print_plan
from engine.cli.terminal import Exit, Terminal


def plan(
    file: Path = typer.Option(None, "-f", "--file", help="Policy file, or a directory of YAML files."),
    state: Path = typer.Option(None, "--state",
                               help="Plan against a cluster-state file (kubectl get ... -o yaml/json) instead of a cluster."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON (schemas/plan.schema.json)."),
    fmt: PlanFormat = typer.Option(None, "--format", help="text (default), json or markdown (a pull-request comment)."),
    target: list[str] = typer.Option([], "--target", help="Plan only this address (and what it needs). Repeatable."),
    prune: bool = typer.Option(False, "--prune", help="Delete managed objects that left the policy."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 with no changes, 1 on error, 2 with changes."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
    out: str = typer.Option(None, "--out", help="Save the plan for `snapplan apply PLAN` "
                                                "(a bare NAME goes to plans/NAME.plan)."),
    now: str = typer.Option(None, "--now", hidden=True, help="Plan as of this RFC 3339 time (tests)."),
    fleet: Path = FLEET,
    cluster: list[str] = CLUSTER,
    selector: list[str] = SELECTOR,
    parallelism: int = PARALLELISM,
) -> None:
    """Show the changes that would make the cluster match the policy (or every cluster of a fleet)."""
    if fleet is not None or file is None or cluster or selector:
        from engine.fleet.run import FleetOptions

        term = Terminal(no_color)
        options = FleetOptions(kubeconfig=kubeconfig, parallelism=parallelism, prune=prune, targets=tuple(target),
                               now=now, out=out)
        how = chosen(fmt, as_json)
        fleet_run.plan(term, fleet_file(file, fleet, state, context, cluster, selector), cluster, selector, options,
                       as_json=how is PlanFormat.json, detailed_exitcode=detailed_exitcode,
                       markdown=how is PlanFormat.markdown)
    from engine.apply.targets import ClusterTarget, LockOptions, StateFileTarget
    from engine.plan.jsonform import plan_to_json
    from engine.planner import plan_against, prepare
    from engine.state.kube import KubeTarget

    term = Terminal(no_color)
    how = chosen(fmt, as_json)
    prepared = prepare(file)
    where = StateFileTarget(state) if state else ClusterTarget(KubeTarget(kubeconfig, context),
                                                                LockOptions(enabled=False))
    with where.read_only(prepared.policy.velero_namespace) as (live, described):
        result = plan_against(prepared, live, prune=prune, targets=tuple(target), now=now)
    for w in result.policy_warnings:
        term.warning(str(w))
    doc = plan_to_json(result.plan)
    if out:
        from engine.plan import saved as saved_plans

        saved = saved_plans.build(policy_arg=str(file), policy=result.policy, desired=result.desired,
                                  live=result.live, plan_json=doc, target=described,
                                  options={"prune": prune, "targets": list(target)})
        if kubeconfig and not state:  # KUBECONFIG may list several files (a:b): keep each one absolute
            saved = saved_plans.sign(
                {**saved, "kubeconfig": ":".join(str(Path(p).resolve()) for p in kubeconfig.split(":") if p)})
        path = saved_plans.write(saved_plans.output_path(out), saved)
        term.err(f"Saved the plan to {path}. Apply exactly this plan with: snapplan apply {path}")
    print_plan(term, doc, how, source=str(path) if out else None)
    if detailed_exitcode and result.plan.has_changes:
        raise typer.Exit(Exit.CHANGES)

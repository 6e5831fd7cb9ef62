"""`snapplan plan`: diff the policy against a cluster-state file and show what apply would do."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Exit, Terminal


def plan(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    state: Path = typer.Option(None, "--state",
                               help="Plan against a cluster-state file (kubectl get ... -o yaml/json) instead of a cluster."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON (schemas/plan.schema.json)."),
    target: list[str] = typer.Option([], "--target", help="Plan only this address (and what it needs). Repeatable."),
    prune: bool = typer.Option(False, "--prune", help="Delete managed objects that left the policy."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 with no changes, 1 on error, 2 with changes."),
    no_color: bool = typer.Option(False, "--no-color"),
    now: str = typer.Option(None, "--now", hidden=True, help="Plan as of this RFC 3339 time (tests)."),
) -> None:
    """Show the changes that would make the cluster match the policy."""
    from engine.planner import plan_from_files
    from engine.state.kube import KubeTarget
    from engine.plan.jsonform import plan_to_json
    from engine.plan.text import render_text

    term = Terminal(no_color)
    result = plan_from_files(file, state, kube=KubeTarget(kubeconfig, context), prune=prune,
                             targets=tuple(target), now=now)
    for w in result.policy_warnings:
        term.warning(str(w))
    doc = plan_to_json(result.plan)
    if as_json:
        term.out(json.dumps(doc, indent=2))
    else:
        term.out(render_text(doc, color=term.color_out), end="")
    if detailed_exitcode and result.plan.has_changes:
        raise typer.Exit(Exit.CHANGES)

"""`snapplan graph`: the plan's action graph as Graphviz DOT or Mermaid, for reviews and docs."""
from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from engine.cli.terminal import Terminal


class Format(str, Enum):
    dot = "dot"
    mermaid = "mermaid"


def graph(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    state: Path = typer.Option(None, "--state",
                               help="Plan against a cluster-state file (kubectl get ... -o yaml/json) instead of a cluster."),
    kubeconfig: str = typer.Option(None, "--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    context: str = typer.Option(None, "--context", help="Kubeconfig context (default: the current one)."),
    fmt: Format = typer.Option(Format.dot, "--format", help="dot (Graphviz) or mermaid."),
    target: list[str] = typer.Option([], "--target", help="Graph only this address (and what it needs). Repeatable."),
    prune: bool = typer.Option(False, "--prune", help="Include deleting managed objects that left the policy."),
    now: str = typer.Option(None, "--now", hidden=True, help="Plan as of this RFC 3339 time (tests)."),
) -> None:
    """Print the plan's actions and their order as a graph: `snapplan graph -f P --state S | dot -Tsvg`."""
    from engine.plan.graphviz import render_graph
    from engine.plan.jsonform import plan_to_json
    from engine.planner import plan_from_files
    from engine.state.kube import KubeTarget

    term = Terminal(no_color=True)
    result = plan_from_files(file, state, kube=KubeTarget(kubeconfig, context), prune=prune,
                             targets=tuple(target), now=now)
    for w in result.policy_warnings:
        term.warning(str(w))
    term.out(render_graph(plan_to_json(result.plan), fmt.value), end="")

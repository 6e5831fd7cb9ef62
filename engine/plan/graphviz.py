"""The plan's action graph as Graphviz DOT or Mermaid text, rendered from the JSON plan. Pure.

A node per planned object, labelled with its action (+ ~ - -/+, or no-op); an edge u -> v means v runs
only after u succeeded (the plan's depends_on).
"""
from __future__ import annotations

FORMATS = ("dot", "mermaid")
CLASSES = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "no-op": "no-op"}
FILLS = {"create": "#d7f5dd", "update": "#fff3c4", "delete": "#f8d7da", "replace": "#e8dcf5", "no-op": "#eeeeee"}
STROKES = {"create": "#2e7d32", "update": "#b08800", "delete": "#c62828", "replace": "#6a1b9a", "no-op": "#9e9e9e"}


def _label(r: dict) -> str:
    glyph = CLASSES[r["action"]]
    return f"{r['address']} (no-op)" if r["action"] == "no-op" else f"{glyph} {r['address']}"


def _edges(plan: dict) -> list[tuple[str, str]]:
    """(first, then) pairs in plan order of `then`, each one's prerequisites in the order the plan lists them;
    only between nodes of the plan, so both formats draw the same edges."""
    known = {r["address"] for r in plan["resource_changes"]}
    return [(dep, r["address"]) for r in plan["resource_changes"] for dep in r["depends_on"] if dep in known]


def _title(plan: dict) -> str:
    return f"Plan of policy {plan['policy']} against {plan['state']} (namespace {plan['namespace']})"


def to_dot(plan: dict) -> str:
    lines = [f"// {_title(plan)}", "digraph plan {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for r in plan["resource_changes"]:
        action = r["action"]
        style = ', style="rounded,filled,dashed"' if action == "no-op" else ""
        lines.append(f'  "{r["address"]}" [label="{_label(r)}", fillcolor="{FILLS[action]}", '
                     f'color="{STROKES[action]}"{style}];')
    lines += [f'  "{first}" -> "{then}";' for first, then in _edges(plan)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(plan: dict) -> str:
    ids = {r["address"]: f"n{i}" for i, r in enumerate(plan["resource_changes"], start=1)}
    lines = [f"%% {_title(plan)}", "flowchart LR"]
    for r in plan["resource_changes"]:
        css = r["action"].replace("-", "")
        lines.append(f'  {ids[r["address"]]}["{_label(r)}"]:::{css}')
    lines += [f"  {ids[first]} --> {ids[then]}" for first, then in _edges(plan)]
    for action in CLASSES:
        dash = ",stroke-dasharray:4 3" if action == "no-op" else ""
        lines.append(f"  classDef {action.replace('-', '')} fill:{FILLS[action]},stroke:{STROKES[action]}{dash}")
    return "\n".join(lines) + "\n"


def render_graph(plan: dict, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown graph format {fmt!r}: use {' or '.join(FORMATS)}")
    return to_dot(plan) if fmt == "dot" else to_mermaid(plan)

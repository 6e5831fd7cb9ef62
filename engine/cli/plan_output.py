"""How `plan` and `show` print a plan: text (default), JSON, or a markdown pull-request comment."""
from __future__ import annotations

import json
from enum import Enum

from engine.cli.terminal import Terminal
from engine.errors import SnapplanError


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def chosen(fmt: PlanFormat | None, as_json: bool) -> PlanFormat:
    """`--json` is `--format json`; asking for both JSON and another format is a usage mistake."""
    if as_json and fmt not in (None, PlanFormat.json):
        raise SnapplanError(f"--json and --format {fmt.value} ask for two formats; use one")
    return PlanFormat.json if as_json else (fmt or PlanFormat.text)


def print_plan(term: Terminal, doc: dict, fmt: PlanFormat, *, source: str | None = None) -> None:
    """`source`: the saved plan's path, which a cut markdown comment points to for the whole plan."""
    if fmt is PlanFormat.json:
        term.out(json.dumps(doc, indent=2))
    elif fmt is PlanFormat.markdown:
        from engine.plan.markdown import render_markdown

        term.out(render_markdown(doc, source=source), end="")
    else:
        from engine.plan.text import render_text

        term.out(render_text(doc, color=term.color_out), end="")

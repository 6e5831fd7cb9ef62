"""`snapplan show PLANFILE`: print a saved plan (from `plan --out`) as text, JSON or markdown, like
`terraform show`. Reads only the file: no cluster, no policy."""
from __future__ import annotations

from pathlib import Path

import typer

from engine.cli.plan_output import PlanFormat, chosen, print_plan
from engine.cli.terminal import Terminal


def show(
    planfile: Path = typer.Argument(..., help="A saved plan (snapplan plan --out NAME writes plans/NAME.plan)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON (schemas/plan.schema.json)."),
    fmt: PlanFormat = typer.Option(None, "--format", help="text (default), json or markdown (a pull-request comment)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
) -> None:
    """Show a saved plan without touching the cluster."""
    from engine.plan import saved as saved_plans

    term = Terminal(no_color)
    how = chosen(fmt, as_json)
    saved = saved_plans.load(planfile)
    print_plan(term, saved["plan"], how, source=str(planfile))

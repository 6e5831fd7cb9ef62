"""`snapplan fleet ...`: commands about a fleet as a whole (the CI matrix)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.fleet_run import CLUSTER, SELECTOR
from engine.cli.terminal import Terminal

app = typer.Typer(help="Commands about a fleet of clusters (kind: Fleet).", no_args_is_help=True)


@app.command("matrix")
def matrix(
    fleet: Path = typer.Option(..., "--fleet", help="Fleet file (kind: Fleet)."),
    cluster: list[str] = CLUSTER,
    selector: list[str] = SELECTOR,
    format_: str = typer.Option("github", "--format", metavar="github|gitlab",
                                help="github: {\"include\": [...]} for strategy.matrix; gitlab: a child pipeline."),
    gitlab_include: str = typer.Option("ci/snapplan-cluster.yml", "--gitlab-include",
                                       help="With --format gitlab: the file defining the hidden job .snapplan-cluster."),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON (default: one line, for $GITHUB_OUTPUT)."),
) -> None:
    """Print the fleet's clusters as a CI matrix: one CI job per cluster."""
    from engine.fleet import load_fleet, select
    from engine.fleet.matrix import FORMATS, github_matrix, gitlab_pipeline

    if format_ not in FORMATS:
        raise typer.BadParameter(f"{format_!r} is not one of {', '.join(FORMATS)}", param_hint="--format")
    spec = load_fleet(fleet)
    chosen = select(spec, tuple(cluster), tuple(selector))
    doc = github_matrix(chosen) if format_ == "github" else gitlab_pipeline(chosen, str(fleet), gitlab_include)
    Terminal().out(json.dumps(doc, indent=2 if pretty else None, separators=None if pretty else (",", ":")))

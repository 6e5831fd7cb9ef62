"""`snapplan render --fleet FLEET --cluster NAME`: the effective policy of one cluster of a fleet."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Terminal


def render(
    fleet: Path = typer.Option(..., "--fleet", help="Fleet file (kind: Fleet)."),
    cluster: str = typer.Option(..., "--cluster", help="The cluster whose policy to print."),
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
) -> None:
    """Print the effective policy of one cluster: the base, its overlays merged, its variables substituted."""
    import yaml

    from engine.fleet import load_fleet, select
    from engine.fleet.effective import effective_policy

    term = Terminal(no_color)
    spec = load_fleet(fleet)
    chosen = select(spec, (cluster,))[0]
    policy, warnings, doc = effective_policy(spec, chosen)
    for w in warnings:
        term.warning(str(w))
    if as_json:
        term.out(json.dumps(doc.data, indent=2))
        return
    layers = [str(o.path) if o.path else f"{spec.file} (patch)" for o in chosen.overlays]
    term.out(f"# Effective policy of cluster {chosen.name} (fleet {spec.name}): {spec.policy}"
             + "".join(f"\n#   + {layer}" for layer in layers))
    term.out(yaml.safe_dump(doc.data, sort_keys=False, default_flow_style=False, allow_unicode=True), end="")

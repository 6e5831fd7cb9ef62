"""`snapplan fleet ...`: commands about a fleet as a whole (the CI matrix)."""
from __future__ import annotations

import typer

app = typer.Typer(help="Commands about a fleet of clusters (kind: Fleet).", no_args_is_help=True)

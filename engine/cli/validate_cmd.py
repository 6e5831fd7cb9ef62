"""`snapplan validate -f FILE`: schema and semantic errors, all at once, with FILE:LINE:COL."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli.terminal import Terminal


def validate(
    file: Path = typer.Option(..., "-f", "--file", help="Policy file, or a directory of YAML files."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    no_color: bool = typer.Option(False, "--no-color", help="No colors (also NO_COLOR, or when not a terminal)."),
) -> None:
    """Check a policy: YAML, schema, references, cron lines, timezones, credential sources."""
    from engine.errors import PolicyError
    from engine.spec import load_policy

    term = Terminal(no_color)
    try:
        policy, warnings = load_policy(file)
    except PolicyError as exc:
        if as_json:
            term.out(json.dumps({"valid": False, "diagnostics": [_diag(d) for d in exc.diagnostics]}, indent=2))
            raise typer.Exit(1)
        raise
    if as_json:
        term.out(json.dumps({"valid": True, "diagnostics": [_diag(d) for d in warnings]}, indent=2))
        return
    for w in warnings:
        term.err(str(w))
    counts = ", ".join(f"{len(getattr(policy, attr))} {label}" for attr, label in
                       (("storage", "storage"), ("schedules", "schedules"), ("restores", "restores"),
                        ("apps", "apps")))
    term.out(f"{file}: valid ({counts})")


def _diag(d) -> dict:
    src = d.source
    return {"severity": d.severity.value, "file": src.file if src else None, "line": src.line if src else None,
            "col": src.col if src else None, "path": d.path, "message": d.message}

"""The three kinds of failure at the edge: the user's mistake, a mistake in the user's file, a bug."""
from __future__ import annotations

import os
import sys
import tempfile
import traceback

from engine.errors import PlanError, PolicyError, SnapplanError
from engine.textsafe import for_terminal


def report_error(exc: SnapplanError) -> int:
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    red = (lambda s: f"\x1b[31m{s}\x1b[0m") if color else (lambda s: s)
    write = lambda text: sys.stderr.write(for_terminal(text, color))  # noqa: E731  (server messages too)
    if isinstance(exc, PolicyError):
        errors = [d for d in exc.diagnostics if d.severity == "error"]
        for d in exc.diagnostics:
            write(f"{d}\n")
        write(red(f"{len(errors)} error(s) in the policy.") + "\n")
    elif isinstance(exc, PlanError):
        write(red("Error: the plan cannot be made:") + "\n")
        for p in exc.problems:
            write(f"  - {p}\n")
    else:
        write(red("Error: ") + f"{exc}\n")
    return exc.exit_code


def report_bug(exc: BaseException) -> int:
    fd, path = tempfile.mkstemp(prefix="snapplan-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exception(exc, file=fh)
    sys.stderr.write(for_terminal(f"Internal error: {type(exc).__name__}: {exc}\n"
                                  f"This is a bug in snapplan; please report it with the traceback in {path}\n"))
    return 1


def usage_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(abort, usage-error) exception classes: typer >= 0.26 carries its own click, older ones use click's."""
    aborts: list[type] = []
    usage: list[type] = []
    import typer.exceptions

    aborts.append(typer.exceptions.Abort)
    try:
        from typer._click.exceptions import ClickException

        usage.append(ClickException)
    except ImportError:  # typer < 0.26 raises click's own (importing click costs start-up time otherwise)
        import click

        aborts.append(click.exceptions.Abort)
        usage.append(click.exceptions.ClickException)
    return tuple(aborts), tuple(usage)

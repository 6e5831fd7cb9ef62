"""Find the `snapplan ...` command lines in CI files and check them against the typer app's commands."""
from __future__ import annotations

import re
import shlex

_SHELL_END = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "2>&1", "&"}


def shell_lines(script: str) -> list[str]:
    """Logical shell lines: backslash continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def snapplan_calls(line: str) -> list[list[str]]:
    """Every `snapplan ...` invocation in a shell line, as its words up to the end of that command."""
    try:
        words = shlex.split(line.replace("$(", " ").replace(")", " "), posix=True)
    except ValueError:
        words = line.split()
    calls, current = [], None
    for w in words:
        if current is not None and (w in _SHELL_END or w.startswith(">") or w.startswith("2>")):
            calls.append(current)
            current = None
        elif w == "snapplan" or w.endswith("/snapplan"):
            if current is not None:
                calls.append(current)
            current = []
        elif current is not None:
            current.append(w)
    if current is not None:
        calls.append(current)
    return calls


def check_call(args: list[str]) -> list[str]:
    """Problems with one call: an unknown command, or an option that command does not have."""
    import typer

    from engine.cli.app import app

    command = typer.main.get_command(app)
    path = ["snapplan"]
    rest = list(args)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        if sub is None:
            return [f"{' '.join(path)} has no command {rest[0]!r}"]
        command = sub
        path.append(rest.pop(0))
    if _is_group(command):
        return [f"{' '.join(path)} needs a command"] if not rest or rest[0].startswith("-") else []
    known = {name for p in command.params for name in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])
             if name.startswith("-")}
    known |= {"--help"}
    problems = []
    for w in rest:
        if w.startswith("-") and w != "-":
            flag = w.split("=", 1)[0]
            if flag not in known:
                problems.append(f"{' '.join(path)} has no option {flag}")
    return problems


def _is_group(command) -> bool:
    return hasattr(command, "commands")  # typer may carry its own click: no isinstance on click.Group

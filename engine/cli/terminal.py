"""The one place that writes to the terminal: results to stdout; diagnostics, progress and prompts to stderr.
Everything written goes through engine.textsafe.for_terminal (escape sequences from data never act)."""
from __future__ import annotations

import os
import sys
from enum import IntEnum

from engine.textsafe import for_terminal


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # only with --detailed-exitcode
    AUDIT_FAILED = 3  # audit ran, and a condition named in --fail-on holds (1 stays "could not audit")


def use_color(no_color_flag: bool, stream) -> bool:
    if no_color_flag or "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Terminal:
    def __init__(self, no_color: bool = False):
        self.color_out = use_color(no_color, sys.stdout)
        self.color_err = use_color(no_color, sys.stderr)

    def out(self, text: str = "", end: str = "\n") -> None:
        sys.stdout.write(for_terminal(text, self.color_out) + end)
        sys.stdout.flush()

    def err(self, text: str, end: str = "\n") -> None:
        sys.stderr.write(for_terminal(text, self.color_err) + end)
        sys.stderr.flush()

    def error(self, text: str) -> None:
        self.err(f"\x1b[31mError:\x1b[0m {text}" if self.color_err else f"Error: {text}")

    def warning(self, text: str) -> None:
        self.err(f"\x1b[33mWarning:\x1b[0m {text}" if self.color_err else f"Warning: {text}")

"""Errors named for what the user did wrong, and diagnostics that carry a source position.

The CLI turns each error into one clear message and an exit code; nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


def clip(value: object, limit: int = 60) -> str:
    """repr() of a user's value for a message, shortened: a hostile file must not make a megabyte error."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 16]}...({len(text)} chars)"


def printable(text: str, limit: int = 120) -> str:
    """A name from a user's file as it may reach a terminal: control and format characters escaped (no escape
    sequences, no right-to-left overrides, no line breaks of its own), and shortened."""
    from engine.textsafe import escape_controls

    text = escape_controls(text)
    return text if len(text) <= limit else f"{text[:limit - 20]}...({len(text)} chars)"


@dataclass(frozen=True, order=True)
class SourceRange:
    """Where in which file a value was written (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    path: str = ""
    source: SourceRange | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        path = f"{printable(self.path)}: " if self.path else ""
        tag = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}{tag}{path}{self.message}"

    def sort_key(self) -> tuple:
        src = self.source or SourceRange("", 0, 0)
        return (src.file, src.line, src.col, self.path, self.message)


class SnapplanError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1


class PolicyError(SnapplanError):
    """The policy (or a file it names) is wrong; carries every diagnostic found, not just the first.

    At most MAX_SHOWN of them, in file order, and one saying how many more there are: a hostile file
    can hold 100,000 mistakes, and a terminal full of them helps nobody.
    """

    MAX_SHOWN = 100

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...], dropped: int = 0):
        """`dropped`: problems found but not kept (Diagnostics.MAX_ITEMS), so not in `diagnostics`."""
        ordered = sorted(diagnostics, key=Diagnostic.sort_key)
        if len(ordered) > self.MAX_SHOWN:
            rest = ordered[self.MAX_SHOWN:]
            count = f"{len(rest) + dropped}{' or more' if dropped else ''}"
            ordered = ordered[: self.MAX_SHOWN] + [Diagnostic(
                Severity.ERROR, f"{count} more problem(s) from here on are not shown; fix the ones above first",
                source=rest[0].source)]
        self.diagnostics = tuple(ordered)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class StateError(SnapplanError):
    """The cluster-state file cannot be read as Kubernetes objects."""


class PlanError(SnapplanError):
    """The policy is valid but cannot be planned against this state (conflict, unsafe change, cycle)."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


class StalePlanError(SnapplanError):
    """A saved plan no longer matches the live objects or credential sources it was made from."""


class ClusterUnreachable(SnapplanError):
    """The Kubernetes API server cannot be reached or refuses us."""


@dataclass
class Diagnostics:
    """Collects diagnostics during one validation pass: errors up to MAX_ERRORS, then only their count."""

    MAX_ERRORS = 1_000  # a file with more mistakes is hostile or hopeless; keeping them all costs time and memory

    items: list[Diagnostic] = field(default_factory=list)
    dropped: int = 0  # errors found past MAX_ERRORS
    kept: int = 0

    @property
    def full(self) -> bool:
        return self.kept >= self.MAX_ERRORS

    def error(self, message: str, path: str = "", source: SourceRange | None = None) -> None:
        if self.full:
            self.dropped += 1
            return
        self.kept += 1
        self.items.append(Diagnostic(Severity.ERROR, message, path, source))

    def warning(self, message: str, path: str = "", source: SourceRange | None = None) -> None:
        self.items.append(Diagnostic(Severity.WARNING, message, path, source))

    def extend(self, other: "Diagnostics") -> None:
        for d in other.items:
            (self.error if d.severity is Severity.ERROR else self.warning)(d.message, d.path, d.source)
        self.dropped += other.dropped

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

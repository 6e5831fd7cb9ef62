"""Errors named for what the user did wrong, and diagnostics that carry a source position.

The CLI turns each error into one clear message and an exit code; nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


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
        path = f"{self.path}: " if self.path else ""
        tag = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}{tag}{path}{self.message}"

    def sort_key(self) -> tuple:
        src = self.source or SourceRange("", 0, 0)
        return (src.file, src.line, src.col, self.path, self.message)


class SnapplanError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1


class PolicyError(SnapplanError):
    """The policy (or a file it names) is wrong; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
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
    """Collects diagnostics during one validation pass."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, path: str = "", source: SourceRange | None = None) -> None:
        self.items.append(Diagnostic(Severity.ERROR, message, path, source))

    def warning(self, message: str, path: str = "", source: SourceRange | None = None) -> None:
        self.items.append(Diagnostic(Severity.WARNING, message, path, source))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

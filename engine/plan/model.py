"""Plan dataclasses: what will change, why, and in which order. Frozen; built once by the planner."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from engine.addr import Address

SENSITIVE = "(sensitive)"


class Action(str, Enum):
    """The value is the glyph the text plan shows."""

    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"
    REPLACE = "-/+"
    NOOP = "no-op"

    @property
    def json_name(self) -> str:
        return {"+": "create", "~": "update", "-": "delete", "-/+": "replace", "no-op": "no-op"}[self.value]


@dataclass(frozen=True)
class FieldChange:
    """One leaf field: before/after are None when absent. Sensitive values are never held here."""

    path: tuple[str, ...]
    before: Any
    after: Any
    sensitive: bool = False

    @property
    def op(self) -> str:
        if self.before is None:
            return "+"
        return "-" if self.after is None else "~"


@dataclass(frozen=True)
class Change:
    address: Address
    action: Action
    before: dict | None
    after: dict | None
    fields: tuple[FieldChange, ...] = ()
    depends_on: tuple[Address, ...] = ()
    # Display only: shown to people, never branched on by the executor.
    reasons: tuple[str, ...] = ()
    live_version: str | None = None
    # For a DELETE or REPLACE: engine.state.live.content_parts of the object as planned. apply deletes only
    # while a fresh read still matches it (uid included), whatever Velero did to the status meanwhile.
    live_content: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RetentionChange:
    """A schedule's backup retention (Velero ttl) changing; existing_backups keep their own expiry."""

    address: Address
    before: str
    after: str
    existing_backups: int


@dataclass(frozen=True)
class Plan:
    policy: str
    namespace: str
    state_source: str
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    unmanaged: tuple[Address, ...] = ()
    kept: tuple[tuple[Address, str], ...] = ()  # managed objects left in place, with why
    notes: tuple[str, ...] = ()
    generated_at: str = ""
    extra: dict = field(default_factory=dict)
    preflight: Any = None  # engine.plan.preflight.Preflight
    retention_changes: tuple[RetentionChange, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        acts = [c.action for c in self.changes]
        return {
            "add": sum(a in (Action.CREATE, Action.REPLACE) for a in acts),
            "change": acts.count(Action.UPDATE),
            "destroy": sum(a in (Action.DELETE, Action.REPLACE) for a in acts),
        }

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

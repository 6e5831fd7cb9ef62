"""Every backup storage location: Velero's verdict on it (phase, last validation, message)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.times import parse_time


@dataclass(frozen=True)
class LocationAudit:
    name: str
    in_policy: bool
    in_cluster: bool
    managed: bool
    default: bool
    provider: str | None
    phase: str | None  # None: Velero has not validated it (or it is not in the cluster)
    last_validation: datetime | None
    message: str | None
    used_by: tuple[str, ...]  # schedules whose backups go there

    @property
    def unavailable(self) -> bool:
        """In the cluster and not Available (Unavailable, or never validated)."""
        return self.in_cluster and self.phase != "Available"


def audit_location(name: str, live: dict | None, desired: dict | None, used_by: tuple[str, ...],
                   *, managed: bool) -> LocationAudit:
    obj = live if live is not None else desired
    spec, status = obj.get("spec") or {}, (live or {}).get("status") or {}
    return LocationAudit(
        name=name, in_policy=desired is not None, in_cluster=live is not None, managed=managed,
        default=bool(spec.get("default")), provider=spec.get("provider"), phase=status.get("phase"),
        last_validation=parse_time(status.get("lastValidationTime")), message=status.get("message"),
        used_by=used_by,
    )

"""Per schedule: its RPO, restore points, next runs, and whether its last Completed backup is recent enough."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.audit import cadence
from engine.state.server import ServerDefaults, effective_ttl
from engine.times import parse_time

SCHEDULE_NAME_LABEL = "velero.io/schedule-name"
EXPIRY_HORIZON = timedelta(hours=24)
# Not stale until RPO + grace: grace covers Velero's one-minute poll and the time the next backup takes to
# complete (its age counts from its start). 10% of the RPO, at least 5 minutes, at most an hour.
GRACE_SHARE, GRACE_MIN, GRACE_MAX = 0.10, 300, 3600
# Statuses that make `--fail-on stale` fail: the schedule should be making backups and is not.
FAILING = ("stale", "never-ran", "invalid")


@dataclass(frozen=True)
class BackupRef:
    name: str
    phase: str
    started: datetime | None
    expiration: datetime | None


@dataclass(frozen=True)
class ScheduleAudit:
    name: str
    in_policy: bool
    in_cluster: bool
    managed: bool
    source: str  # "cluster" (what Velero runs) or "policy" (not in the cluster yet)
    schedule: str  # Velero's spec.schedule
    timezone: str | None
    paused: bool
    phase: str | None
    storage: str | None
    retention: int  # seconds
    rpo: cadence.Gap | None
    restore_points: cadence.RestorePoints | None
    next_runs: tuple[datetime, ...]
    last_completed: BackupRef | None
    age: int | None  # seconds since the last Completed backup started
    last_backup: BackupRef | None
    grace: int | None  # seconds
    status: str  # fresh, stale, never-ran, pending, paused, invalid, not-in-cluster
    expiring: tuple[BackupRef, ...]
    notes: tuple[str, ...]

    @property
    def failing(self) -> bool:
        return self.status in FAILING


def grace_for(rpo_seconds: int) -> int:
    return int(min(GRACE_MAX, max(GRACE_MIN, rpo_seconds * GRACE_SHARE)))


def backup_ref(obj: dict) -> BackupRef:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    started = parse_time(status.get("startTimestamp")) or parse_time(meta.get("creationTimestamp"))
    return BackupRef(meta.get("name", ""), status.get("phase") or "New", started, parse_time(status.get("expiration")))


def audit_schedule(name: str, live: dict | None, desired: dict | None, backups: list[dict], now: datetime,
                   *, managed: bool, defaults: ServerDefaults = ServerDefaults(),
                   storage: str | None = None) -> ScheduleAudit:
    """`live` is the Schedule in the cluster (what Velero runs); `desired` what the policy would write.
    Figures come from `live` when it exists, else from `desired`."""
    obj = live if live is not None else desired
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    status = (live or {}).get("status") or {}
    ttl = template.get("ttl")
    retention = int((effective_ttl(ttl, defaults) or defaults.ttl).seconds)
    notes: list[str] = []
    if effective_ttl(ttl, defaults) is None:
        notes.append(f"ttl {ttl!r} is not a duration: counted as Velero's default {defaults.ttl}")
    refs = sorted((backup_ref(b) for b in backups), key=lambda r: (r.started or now, r.name))
    completed = [r for r in refs if r.phase == "Completed" and r.started]
    expiring = tuple(r for r in refs if r.expiration and now < r.expiration <= now + EXPIRY_HORIZON)
    paused = bool(spec.get("paused"))
    try:
        cad = cadence.parse(spec.get("schedule") or "")
        gap = cad.largest_gap(now)
    except cadence.CadenceError as exc:
        cad, gap = None, None
        notes.append(f"cannot compute run times: {exc}")
    if cad is not None and gap is None:
        notes.append(f"{spec.get('schedule')!r} never fires: Velero will make no backups")
    points = cad.restore_points(now, retention, gap) if cad and gap else None
    last_run = parse_time(status.get("lastBackup"))
    anchor = last_run or parse_time((obj.get("metadata") or {}).get("creationTimestamp")) or now  # for @every
    nexts = tuple(cad.next_runs(now, anchor=anchor)) if cad and not paused else ()
    if last_run and not completed:
        notes.append(f"Velero's status.lastBackup is {status['lastBackup']}, but no Completed backup labelled "
                     f"{SCHEDULE_NAME_LABEL}={name} exists (deleted, expired, or its runs failed)")
    if status.get("phase") == "FailedValidation":
        notes.append("Velero rejected it: " + "; ".join(status.get("validationErrors") or ["FailedValidation"]))
    grace = grace_for(gap.seconds) if gap else None
    state = _status(live, paused, cad, gap, grace, completed, now)
    return ScheduleAudit(
        name=name, in_policy=desired is not None, in_cluster=live is not None, managed=managed,
        source="cluster" if live is not None else "policy", schedule=spec.get("schedule") or "",
        timezone=cad.zone_name if cad else None, paused=paused, phase=status.get("phase"),
        storage=storage or template.get("storageLocation"), retention=retention, rpo=gap, restore_points=points,
        next_runs=nexts, last_completed=completed[-1] if completed else None,
        age=int((now - completed[-1].started).total_seconds()) if completed else None,
        last_backup=refs[-1] if refs else None, grace=grace, status=state, expiring=expiring,
        notes=tuple(notes),
    )


def _status(live, paused, cad, gap, grace, completed, now) -> str:
    if live is None:
        return "not-in-cluster"
    if paused:
        return "paused"
    if cad is None or gap is None or (live.get("status") or {}).get("phase") == "FailedValidation":
        return "invalid"
    if completed:
        age = (now - completed[-1].started).total_seconds()
        return "stale" if age > gap.seconds + grace else "fresh"
    # No completed backup yet: fine until the first run was due (Velero makes none at creation).
    meta, status = live.get("metadata") or {}, live.get("status") or {}
    since = max(filter(None, (parse_time(meta.get("creationTimestamp")), parse_time(status.get("lastSkipped")))),
                default=None)
    if since is None:
        return "never-ran"
    first = cad.next_runs(since, 1, anchor=since)
    return "pending" if not first or now <= first[0] + timedelta(seconds=grace) else "never-ran"


def backups_of(live_backups: list[dict], schedule: str) -> list[dict]:
    return [b for b in live_backups
            if ((b.get("metadata") or {}).get("labels") or {}).get(SCHEDULE_NAME_LABEL) == schedule]

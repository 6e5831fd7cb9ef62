"""Restore drills in the audit: per app and per schedule, the last successful drill and its age, from the
records `snapplan drill` keeps (engine.drill.record); `untested` when an app has none within `drills.every`
(or none at all when the policy sets no period)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.times import Duration, parse_time



@dataclass(frozen=True)
class AppDrill:
    app: str
    last_success: datetime | None
    backup: str | None       # the backup the last successful drill restored
    schedule: str | None
    last_run: datetime | None
    last_run_passed: bool | None
    due: bool                # no successful drill within the period


@dataclass(frozen=True)
class DrillAudit:
    known: bool              # False: the records could not be read (say why in `note`)
    every: int | None        # seconds; None when the policy sets no `drills.every`
    apps: tuple[AppDrill, ...]
    schedules: tuple[tuple[str, datetime, str], ...]  # (schedule, last successful drill of its backups, app)
    note: str = ""

    @property
    def untested(self) -> tuple[str, ...]:
        return tuple(a.app for a in self.apps if a.due) if self.known else ()


def period_seconds(every: str | None) -> int | None:
    if not every:
        return None
    span = Duration.of(every)  # the policy's spellings (7d, 2w) and Go's (36h, 1h30m)
    return int(span.seconds) if span is not None and span.nanoseconds > 0 else None


def audit_drills(policy, records: list[dict] | None, now: datetime, note: str = "") -> DrillAudit:
    every = period_seconds(getattr(policy, "drills_every", None))
    if records is None:
        return DrillAudit(False, every, (), (), note or "drill records not read")
    by_app = {r["app"]: r for r in records if r.get("app")}
    apps = []
    for slug in sorted(policy.apps):
        rec = by_app.get(slug) or {}
        ok, run = rec.get("last_success") or {}, rec.get("last_run") or {}
        when = parse_time(ok.get("finished"))
        due = when is None or (every is not None and (now - when).total_seconds() > every)
        apps.append(AppDrill(slug, when, ok.get("backup"), ok.get("schedule"), parse_time(run.get("finished")),
                             run.get("passed") if run else None, due))
    latest: dict[str, tuple[datetime, str]] = {}
    for r in records:
        ok = r.get("last_success") or {}
        when, schedule = parse_time(ok.get("finished")), ok.get("schedule")
        if when and schedule and (schedule not in latest or when > latest[schedule][0]):
            latest[schedule] = (when, r.get("app") or "")
    schedules = tuple((s, w, a) for s, (w, a) in sorted(latest.items()))
    return DrillAudit(True, every, tuple(apps), schedules, note)

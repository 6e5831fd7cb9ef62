"""What a schedule change will make Velero do, in words for the plan (display only).

Velero's schedule controller (pkg/controller/schedule_controller.go) does not reconcile paused schedules;
on the first reconcile after an un-pause it consumes spec.skipImmediately (true: status.lastSkipped = now,
so the overdue run is skipped) and runs a backup when `getNextRunTime` (the cron's next time after
lastBackup, else creation, or lastSkipped if later) has passed."""
from __future__ import annotations

from datetime import datetime

from engine import cron
from engine.diff import SKIP_IMMEDIATELY
from engine.plan.model import Action, Change
from engine.times import parse_time


def _when(value: str, at: datetime) -> str:
    _, tz = cron.split_velero_schedule(value)
    shown = at.astimezone(cron.zone(tz)) if tz else at
    return shown.strftime("%Y-%m-%d %H:%M") + (f" {tz}" if tz else " UTC")


def first_run(spec: dict, now: datetime) -> str:
    if spec.get("paused"):
        return "paused: no backups will run until it is enabled"
    value = spec["schedule"]
    nxt = cron.next_runs(value, now)[0]
    delta = nxt - now
    hours, rem = divmod(int(delta.total_seconds()) // 60, 60)
    return f"first backup: {_when(value, nxt)} (in {hours}h {rem:02d}m)"


def overdue_since(spec: dict, live: dict | None, now: datetime) -> datetime | None:
    """The run Velero finds due when it next reconciles this schedule (getNextRunTime), or None."""
    if live is None:
        return None
    status = live.get("status") or {}
    base = parse_time(status.get("lastBackup")) or parse_time((live.get("metadata") or {}).get("creationTimestamp"))
    skipped = parse_time(status.get("lastSkipped"))
    if skipped and (base is None or skipped > base):
        base = skipped
    if base is None:
        return None
    try:
        due = cron.next_runs(spec["schedule"], base)[0]
    except (ValueError, KeyError, IndexError):
        return None
    return due if due < now else None


def schedule_reasons(c: Change, live: dict | None, now: datetime) -> list[str]:
    """Reasons for a created or updated Schedule: when it first runs, and what an un-pause does."""
    spec = c.after["spec"]
    changed = {f.path for f in c.fields}
    skip = spec.get("skipImmediately")
    if c.action is Action.UPDATE and ("spec", "paused") in changed and not spec.get("paused"):
        due = overdue_since(spec, live, now)
        if due is None:
            return [first_run(spec, now)]
        since = _when(spec["schedule"], due)
        if skip:
            return [f"enabled again: the run due since {since} is skipped (startImmediately: false); "
                    + first_run(spec, now)]
        return [f"enabled again with startImmediately: the run due since {since} starts at once"]
    reasons = []
    if c.action is Action.CREATE or changed & {("spec", "schedule"), ("spec", "paused")}:
        reasons.append(first_run(spec, now))
    if c.action is Action.UPDATE and spec.get("paused") and SKIP_IMMEDIATELY in changed:
        reasons.append("when enabled again, a run that came due while paused "
                       + ("is skipped (startImmediately: false)" if skip else "starts at once (startImmediately: true)"))
    return reasons

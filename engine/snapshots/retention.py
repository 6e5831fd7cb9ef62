"""Does a backup still follow its schedule's current retention? A retention change applies only to new
backups: the old ones keep the expiry they were given (README, "Retention, stated plainly")."""
from __future__ import annotations

from collections.abc import Mapping

from engine.times import DEFAULT_RETENTION, Duration


def _value(ttl: str | None) -> Duration | None:
    """A ttl as Velero applies it: 0 means its default (backup_controller.go prepareBackupRequest)."""
    span = Duration.of(ttl)
    return DEFAULT_RETENTION if span is not None and span.nanoseconds == 0 else span


def retention_check(backup_ttl: str | None, schedule: str | None, current: Mapping[str, str],
                    source: str) -> dict:
    """`current` maps schedule name -> its ttl now, read from `source` ("policy" or "cluster")."""
    out = {"backup_ttl": backup_ttl, "schedule_ttl": None, "source": source, "follows": None}
    if schedule is None:
        return {**out, "note": "on-demand backup: its retention was chosen when it was taken"}
    if schedule not in current:
        where = "the policy" if source == "policy" else "the cluster"
        return {**out, "note": f"schedule {schedule} is not in {where}"}
    now_ttl = current[schedule]
    follows = _value(backup_ttl) == _value(now_ttl)
    note = (f"follows the current retention of schedule {schedule} ({now_ttl})" if follows else
            f"keeps its old retention ({backup_ttl}); schedule {schedule} now keeps backups {now_ttl}")
    return {**out, "schedule_ttl": now_ttl, "follows": follows, "note": note}

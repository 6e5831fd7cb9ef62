"""A schedule's freshness against its RPO, never-ran and pending, paused, Velero's rejection, expiring backups."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.audit.schedules import audit_schedule, grace_for

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule(cron: str, *, created: datetime = NOW - timedelta(days=60), ttl: str = "720h0m0s", **status) -> dict:
    return {"kind": "Schedule", "metadata": {"name": "s", "namespace": "velero", "creationTimestamp": stamp(created)},
            "spec": {"schedule": cron, "template": {"ttl": ttl}, "paused": status.pop("paused", False)},
            "status": {"phase": "Enabled", **status}}


def backup(name: str, started: datetime, phase: str = "Completed", ttl: timedelta = timedelta(days=30)) -> dict:
    return {"kind": "Backup", "metadata": {"name": name, "labels": {"velero.io/schedule-name": "s"}},
            "status": {"phase": phase, "startTimestamp": stamp(started), "expiration": stamp(started + ttl)}}


def audit(live, backups=(), desired=None):
    return audit_schedule("s", live, desired, list(backups), NOW, managed=True)


def test_grace_is_ten_percent_between_five_minutes_and_an_hour():
    assert (grace_for(3600), grace_for(600), grace_for(86400)) == (360, 300, 3600)


def test_daily_fresh_until_rpo_plus_grace_then_stale():
    live = schedule("0 0 * * *")
    within = NOW - timedelta(hours=24, minutes=59)
    beyond = NOW - timedelta(hours=25, minutes=1)
    fresh = audit(live, [backup("s-1", within)])
    assert (fresh.status, fresh.age, fresh.rpo.seconds, fresh.grace) == ("fresh", 89940, 86400, 3600)
    stale = audit(live, [backup("s-1", beyond)])
    assert stale.status == "stale" and stale.failing


def test_only_completed_backups_count_for_freshness():
    live = schedule("0 * * * *")
    result = audit(live, [backup("s-old", NOW - timedelta(hours=3)),
                          backup("s-new", NOW - timedelta(minutes=30), phase="PartiallyFailed")])
    assert result.status == "stale"
    assert result.last_completed.name == "s-old" and result.last_backup.name == "s-new"


def test_never_ran_once_the_first_run_was_due_and_pending_before():
    assert audit(schedule("0 * * * *")).status == "never-ran"
    # A daily schedule created 20 minutes ago: Velero makes no backup at creation; the first is at midnight.
    young = audit(schedule("0 0 * * *", created=NOW - timedelta(minutes=20)))
    assert young.status == "pending" and not young.failing
    # lastSkipped (skipImmediately) moves the first due run like creation does.
    skipped = audit(schedule("0 * * * *", lastSkipped=stamp(NOW - timedelta(minutes=3))))
    assert skipped.status == "pending"


def test_never_ran_mentions_a_lastbackup_with_no_backup_left():
    result = audit(schedule("0 * * * *", lastBackup=stamp(NOW - timedelta(hours=1))))
    assert result.status == "never-ran"
    assert "no Completed backup labelled velero.io/schedule-name=s exists" in result.notes[0]


def test_paused_and_policy_only_schedules_never_fail():
    paused = audit(schedule("0 * * * *", paused=True))
    assert (paused.status, paused.next_runs, paused.failing) == ("paused", (), False)
    planned = audit(None, desired=schedule("0 * * * *"))
    assert (planned.status, planned.source, planned.in_cluster) == ("not-in-cluster", "policy", False)
    assert planned.rpo.seconds == 3600 and len(planned.next_runs) == 5


def test_velero_rejected_or_never_firing_schedules_are_invalid():
    rejected = schedule("0 0 * * 7", validationErrors=["invalid schedule: end of range (7) above maximum (6): 7"])
    rejected["status"]["phase"] = "FailedValidation"
    result = audit(rejected)
    assert result.status == "invalid" and result.failing
    assert any("end of range (7)" in n for n in result.notes)
    never = audit(schedule("0 0 30 2 *"))
    assert never.status == "invalid" and "never fires" in never.notes[0]


def test_expiring_within_24_hours():
    live = schedule("0 0 * * *", ttl="168h0m0s")
    week = timedelta(days=7)
    backups = [backup("s-a", NOW - week + timedelta(hours=2), ttl=week),   # expires in 2h
               backup("s-b", NOW - week + timedelta(hours=23), ttl=week),  # in 23h
               backup("s-c", NOW - week + timedelta(hours=25), ttl=week),  # in 25h: not yet
               backup("s-d", NOW - week - timedelta(hours=1), ttl=week)]   # expired an hour ago
    result = audit(live, backups)
    assert [b.name for b in result.expiring] == ["s-a", "s-b"]
    assert result.restore_points.low == result.restore_points.high == 7


def test_ttl_unset_means_velero_default_of_30_days():
    live = schedule("0 0 * * *")
    del live["spec"]["template"]["ttl"]
    result = audit(live, [backup("s-1", NOW - timedelta(hours=8))])
    assert result.retention == 720 * 3600 and result.restore_points.low == 30

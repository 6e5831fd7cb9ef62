"""Pausing and re-enabling a schedule against real Velero: with `startImmediately: false` the run that came due
while it was paused is skipped (Velero's schedule_controller.go Reconcile stamps status.lastSkipped); with
`startImmediately: true` it runs at once."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from .scenario import BACKUP, SCHEDULE, cli, env_for, make_app, policy

pytestmark = pytest.mark.conformance


def apply(capsys, monkeypatch, path, real, env):
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", str(path), "--kubeconfig",
              str(real.cluster.kubeconfig), "--timeout", "2m", env=env)
    assert res.code == 0, res.out + res.err
    return res


def backups_of(real, schedule: str) -> list[str]:
    items, _ = real.store.list(BACKUP, "velero", label_selector=f"velero.io/schedule-name={schedule}")
    return sorted(o["metadata"]["name"] for o in items)


def paused_with_a_missed_run(real, tmp_path, capsys, monkeypatch, start_immediately: bool):
    app, env = make_app(real.store), env_for(real)
    line = f"    startImmediately: {str(start_immediately).lower()}\n"
    apply(capsys, monkeypatch, policy(tmp_path, real, app, nightly="    enabled: false\n" + line), real, env)
    assert real.store.get(SCHEDULE, "velero", "nightly")["spec"]["paused"] is True
    # Its last backup two days ago: the 03:00 run came due while it was paused.
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    real.store.patch_status(SCHEDULE, "velero", "nightly", {"lastBackup": two_days_ago})
    enabled = policy(tmp_path, real, app, nightly="    enabled: true\n" + line)
    apply(capsys, monkeypatch, enabled, real, env)
    return enabled, env


def test_re_enabled_without_start_immediately_no_backup_fires(real, tmp_path, capsys, monkeypatch):
    enabled, env = paused_with_a_missed_run(real, tmp_path, capsys, monkeypatch, start_immediately=False)
    status = real.store.wait(SCHEDULE, "velero", "nightly", lambda o: o.get("status", {}).get("lastSkipped"))["status"]
    assert status["phase"] == "Enabled"
    assert backups_of(real, "nightly") == []
    time.sleep(3)  # a backup would have been submitted in the reconcile that stamped lastSkipped; margin
    assert backups_of(real, "nightly") == []
    res = cli(capsys, monkeypatch, "plan", "-f", str(enabled), "--kubeconfig", str(real.cluster.kubeconfig), env=env)
    assert "No changes." in res.out, res.out


def test_re_enabled_with_start_immediately_the_missed_run_starts(real, tmp_path, capsys, monkeypatch):
    paused_with_a_missed_run(real, tmp_path, capsys, monkeypatch, start_immediately=True)
    real.wait_for(lambda: backups_of(real, "nightly"), 60, "a backup of nightly")

"""Pausing and enabling a schedule against the Velero simulator on a manual clock: Velero consumes
spec.skipImmediately once (schedule_controller.go Reconcile), so every un-pause must carry the policy's."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.cluster.velero_sim import objects, run_until
from tests.cluster.velero_sim.kube import BACKUP, SCHEDULE, SECRET
from tests.helpers import run_cli, write


def policy(tmp_path, s3, *, enabled: bool, start: bool = False):
    return write(tmp_path / "policy.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: pause}}
storage:
  main:
    type: s3-compatible
    default: true
    bucket: velero
    endpoint: {s3.url}
    region: us-east-1
    credentials: {{secretRef: {{name: cloud-credentials, key: cloud}}}}
schedules:
  hourly: {{scope: full, schedule: hourly, enabled: {str(enabled).lower()}, startImmediately: {str(start).lower()}}}
""")


@pytest.fixture
def velero(cluster, velero_sim, s3, tmp_path):
    s3.create_bucket("velero")
    cluster.store.create(SECRET, "velero", objects.credentials_secret(
        "cloud-credentials", s3.create_credentials().shared_credentials_file()))
    return cluster, velero_sim, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def cli(capsys, monkeypatch, kubeconfig, cluster, *args):
    return run_cli([*args, "--kubeconfig", str(kubeconfig), "--now", cluster.clock.now().isoformat()]
                   if args[0] == "plan" else [*args, "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)


def apply(capsys, monkeypatch, kubeconfig, path):
    res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", str(path),
                   "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    return res


def backups(cluster) -> list[str]:
    return sorted(b["metadata"]["name"] for b in cluster.store.list(BACKUP, "velero")[0])


def test_enabling_again_skips_the_run_that_came_due_while_paused(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, sim, kubeconfig = velero
    apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, enabled=True))
    run_until(sim, cluster.clock, timedelta(hours=2, minutes=10))
    assert backups(cluster) == ["hourly-20261124010000", "hourly-20261124020000"]
    assert cluster.store.get(SCHEDULE, "velero", "hourly")["spec"]["skipImmediately"] is False  # used up
    res = apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, enabled=False))
    assert "spec.skipImmediately = false -> true" in res.out  # pausing writes what the un-pause will need
    run_until(sim, cluster.clock, timedelta(hours=3))  # 03:00, 04:00 and 05:00 come due while paused
    assert cluster.store.get(SCHEDULE, "velero", "hourly")["spec"]["skipImmediately"] is True

    path = policy(tmp_path, s3, enabled=True)
    res = run_cli(["plan", "-f", str(path), "--kubeconfig", str(kubeconfig),
                   "--now", cluster.clock.now().isoformat()], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "enabled again: the run due since 2026-11-24 03:00 UTC is skipped (startImmediately: false)" in res.out
    apply(capsys, monkeypatch, kubeconfig, path)
    sim.step()
    assert backups(cluster) == ["hourly-20261124010000", "hourly-20261124020000"]  # nothing at 05:10
    live = cluster.store.get(SCHEDULE, "velero", "hourly")
    assert live["status"]["lastSkipped"] == "2026-11-24T05:10:00Z" and live["spec"]["skipImmediately"] is False
    run_until(sim, cluster.clock, timedelta(hours=1))
    assert backups(cluster)[-1] == "hourly-20261124060000"
    assert "No changes." in run_cli(["plan", "-f", str(path), "--kubeconfig", str(kubeconfig)],
                                    capsys, monkeypatch).out


def test_start_immediately_runs_the_overdue_backup_at_once(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, sim, kubeconfig = velero
    apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, enabled=False))
    run_until(sim, cluster.clock, timedelta(hours=1, minutes=30))
    # Created paused: Velero never reconciled it, so the created value (true) is still there.
    assert cluster.store.get(SCHEDULE, "velero", "hourly")["spec"]["skipImmediately"] is True
    path = policy(tmp_path, s3, enabled=True, start=True)
    res = run_cli(["plan", "--json", "-f", str(path), "--kubeconfig", str(kubeconfig),
                   "--now", cluster.clock.now().isoformat()], capsys, monkeypatch)
    change = next(c for c in json.loads(res.out)["resource_changes"] if c["address"] == "schedule.hourly")
    fields = {f["path"]: (f["before"], f["after"]) for f in change["fields"]}
    assert fields["spec.skipImmediately"] == (True, False)
    assert any("the run due since 2026-11-24 01:00 UTC starts at once" in r for r in change["reasons"])
    apply(capsys, monkeypatch, kubeconfig, path)
    sim.step()
    assert backups(cluster) == ["hourly-20261124013000"]


def test_start_immediately_changed_on_a_paused_schedule_is_applied(velero, s3, tmp_path, capsys, monkeypatch):
    cluster, sim, kubeconfig = velero
    apply(capsys, monkeypatch, kubeconfig, policy(tmp_path, s3, enabled=False, start=True))
    sim.step()
    res = run_cli(["plan", "-f", str(policy(tmp_path, s3, enabled=False, start=False)),
                   "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert "spec.skipImmediately = false -> true" in res.out, res.out
    assert "when enabled again, a run that came due while paused is skipped" in res.out
    apply(capsys, monkeypatch, kubeconfig, tmp_path / "policy.yaml")
    assert cluster.store.get(SCHEDULE, "velero", "hourly")["spec"]["skipImmediately"] is True
    # Enabled outside snapplan (kubectl patch): Velero reads what the policy left.
    run_until(sim, cluster.clock, timedelta(hours=2, minutes=5))
    s = cluster.store.get(SCHEDULE, "velero", "hourly")
    s["spec"]["paused"] = False
    cluster.store.replace(SCHEDULE, "velero", "hourly", s)
    sim.step()
    assert backups(cluster) == []

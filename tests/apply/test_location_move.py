"""A location's bucket changes, with Velero (the simulator, on wall time, moto as S3) running: snapplan updates
it in place, and the plan's warning counts exactly the Backup objects Velero's next sync then deletes
(backup_sync_controller.go deleteOrphanedBackups), while their data stays in the old bucket."""
from __future__ import annotations

import time

import pytest

from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator, objects
from tests.helpers import run_cli, write

BSL = ("velero.io", "v1", "backupstoragelocations")
BACKUP = ("velero.io", "v1", "backups")


def policy(tmp_path, s3, bucket: str):
    return write(tmp_path / "policy.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: move}}
storage:
  main:
    type: s3-compatible
    default: true
    bucket: {bucket}
    prefix: velero
    endpoint: {s3.url}
    pathStyle: true
    credentials: {{file: ./credentials}}
schedules:
  nightly: {{scope: full, storage: main, schedule: daily}}
""")


@pytest.fixture
def velero(cluster_factory, s3, tmp_path):
    cluster = cluster_factory(clock=RealClock())
    sim = cluster.attach(VeleroSimulator(cluster.store, cluster.clock, s3.url))
    cluster.run_controllers(period=0.1)
    return cluster, sim, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def until(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def phases(store) -> dict[str, str]:
    return {b["metadata"]["name"]: (b.get("status") or {}).get("phase") for b in store.list(BACKUP, "velero")[0]}


def test_a_bucket_change_is_an_update_and_the_warning_counts_the_backups_velero_then_drops(
        velero, s3, tmp_path, capsys, monkeypatch):
    cluster, sim, kubeconfig = velero
    for bucket in ("old-bucket", "new-bucket"):
        s3.create_bucket(bucket)
    write(tmp_path / "credentials", s3.create_credentials().shared_credentials_file())
    kc = ["--kubeconfig", str(kubeconfig)]
    res = run_cli(["apply", "--auto-approve", "-f", str(policy(tmp_path, s3, "old-bucket")), *kc], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    for name in ("b1", "b2", "b3"):
        cluster.store.create(BACKUP, "velero", objects.backup(name, storage_location="main", included_namespaces=["velero"]))
    until(lambda: set(phases(cluster.store).values()) == {"Completed"} and len(phases(cluster.store)) == 3,
          "Velero to complete three backups")
    failed = objects.backup("b-failed", storage_location="main")
    failed["metadata"]["labels"] = {"velero.io/storage-location": "main"}
    failed["status"] = {"phase": "Failed"}
    cluster.store.create(BACKUP, "velero", failed)  # the sync keeps a Failed backup: not counted

    moved = policy(tmp_path, s3, "new-bucket")
    res = run_cli(["plan", "-f", str(moved), *kc], capsys, monkeypatch)
    assert "~ BackupStorageLocation velero/main" in res.out and "-/+" not in res.out, res.out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in res.out
    warning = " ".join(res.out.split("bsl.main moves", 1)[1].split())
    assert "Velero's backup sync will then delete the 3 Backup object(s) of this location" in warning, res.out
    uid = cluster.store.get(BSL, "velero", "main")["metadata"]["uid"]

    res = run_cli(["apply", "--auto-approve", "-f", str(moved), *kc], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "Apply complete! 0 added, 1 changed, 0 destroyed." in res.out
    location = cluster.store.get(BSL, "velero", "main")
    assert location["metadata"]["uid"] == uid and location["spec"]["objectStorage"]["bucket"] == "new-bucket"
    sim.sync.sync(location)  # Velero's next sync of the location (every backupSyncPeriod, 1m by default)
    assert phases(cluster.store) == {"b-failed": "Failed"}  # the 3 the warning counted, and only those
    assert len([k for k in s3.keys("old-bucket", "velero/backups/") if k.endswith("velero-backup.json")]) == 3

"""Backup sync, deletion and restarts: a new empty cluster sees the backups of a bucket and can restore
them; DeleteBackupRequests remove data; a Backup deleted only in the cluster comes back from the bucket."""
from __future__ import annotations

from datetime import timedelta

from tests.cluster.s3 import MotoS3
from tests.cluster.velero_sim import VeleroSimulator, objects
from tests.cluster.velero_sim.testing import (BACKUP, BSL, RESTORE, SCHEDULE, SimCluster,  # noqa: F401
                                              new_sim_cluster, sim_cluster)

DBR = ("velero.io", "v1", "deletebackuprequests")


def location(c: SimCluster, name: str = "default", creds=None) -> None:
    c.add_credentials("creds", creds or c.s3.create_credentials())
    c.add_location(name, "velero", "creds", default=True, prefix="prod")


def test_backups_in_bucket_appear_in_an_empty_cluster_and_restore(s3: MotoS3) -> None:
    s3.create_bucket("velero")
    creds = s3.create_credentials()
    old = new_sim_cluster(s3)
    location(old, creds=creds)
    old.create(SCHEDULE, objects.schedule("daily", "0 3 * * *", included_namespaces=["app-a"]))
    old.run(timedelta(days=2))
    made = old.names(BACKUP)
    assert made == ["daily-20261124030000", "daily-20261125030000"]

    new = new_sim_cluster(s3, namespaces=())  # disaster: a new cluster without app-a
    location(new, name="recovery", creds=creds)
    new.sim.step()
    assert new.names(BACKUP) == made
    synced = new.get(BACKUP, made[-1])
    assert synced["status"]["phase"] == "Completed"
    assert synced["spec"]["storageLocation"] == "recovery"
    assert synced["metadata"]["labels"]["velero.io/storage-location"] == "recovery"
    assert synced["metadata"]["labels"]["velero.io/schedule-name"] == "daily"
    assert synced["status"]["startTimestamp"] == old.status(BACKUP, made[-1])["startTimestamp"]
    assert "lastSyncedTime" in new.status(BSL, "recovery")

    new.create(RESTORE, objects.restore("dr", backup_name=made[-1]))
    new.run(timedelta(minutes=1))
    assert new.status(RESTORE, "dr")["phase"] == "Completed"
    assert new.store.get(("", "v1", "namespaces"), None, "app-a")["metadata"]["name"] == "app-a"


def test_delete_backup_request_removes_backup_and_data(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    location(c)
    c.create(BACKUP, objects.backup("b1"))
    c.create(BACKUP, objects.backup("b2"))
    c.run(timedelta(minutes=1))
    c.create(RESTORE, objects.restore("r1", backup_name="b1"))
    c.run(timedelta(minutes=1))
    c.create(DBR, objects.delete_backup_request("del-b1", "b1"))
    c.sim.step()
    assert c.names(BACKUP) == ["b2"]
    assert c.names(RESTORE) == []  # Velero deletes the restores of a deleted backup
    assert c.names(DBR) == []
    assert [k for k in c.s3.keys("velero", "prod/backups/") if "/b1/" in k] == []
    assert c.s3.keys("velero", "prod/backups/b2/")


def test_backup_deleted_only_in_cluster_comes_back_and_orphans_go(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    location(c)
    c.create(BACKUP, objects.backup("b1"))
    c.create(BACKUP, objects.backup("b2"))
    c.run(timedelta(minutes=1))
    c.store.delete(BACKUP, "velero", "b1")  # kubectl delete backup: the data stays in the bucket
    for key in c.s3.keys("velero", "prod/backups/b2/"):
        c.s3.client("s3").delete_object(Bucket="velero", Key=key)
    c.run(timedelta(minutes=1))
    assert c.names(BACKUP) == ["b1"]


def test_missing_delete_target_is_reported(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    location(c)
    c.create(DBR, objects.delete_backup_request("del-x", "x"))
    c.sim.step()
    assert c.status(DBR, "del-x") == {"phase": "Processed", "errors": ["backup not found"]}


def test_restarted_velero_fails_backups_it_was_running(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    location(c)
    c.create(BACKUP, objects.backup("b1"))
    c.sim.step()
    assert c.status(BACKUP, "b1")["phase"] == "InProgress"
    VeleroSimulator(c.store, c.clock, c.s3.url).step()
    status = c.status(BACKUP, "b1")
    assert status["phase"] == "Failed"
    assert status["failureReason"] == 'found a backup with status "InProgress" during the server starting, mark it as "Failed"'


def test_server_status_request_is_answered_then_removed(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    ssr = ("velero.io", "v1", "serverstatusrequests")
    c.create(ssr, {"apiVersion": "velero.io/v1", "kind": "ServerStatusRequest", "metadata": {"name": "v"}})
    c.sim.step()
    status = c.status(ssr, "v")
    assert (status["phase"], status["serverVersion"]) == ("Processed", "v1.16.2")
    assert {"kind": "ObjectStore", "name": "velero.io/aws"} in status["plugins"]
    c.clock.advance(60)
    c.sim.step()
    assert c.names(ssr) == []


def test_background_stepping_with_a_fast_real_clock(s3: MotoS3) -> None:
    import time

    from tests.cluster.clock import RealClock

    c = new_sim_cluster(s3, clock=RealClock(speed=3600))  # one wall second is a simulated hour
    c.s3.create_bucket("velero")
    location(c)
    c.create(SCHEDULE, objects.schedule("hourly", "0 * * * *"))
    stop = c.sim.start_background(period=0.05)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            phases = [c.status(BACKUP, n).get("phase") for n in c.names(BACKUP)]
            if "Completed" in phases:
                break
            time.sleep(0.05)
    finally:
        stop()
    assert "Completed" in phases
    assert all(n.startswith("hourly-2") and len(n) == len("hourly-20261124010000") for n in c.names(BACKUP))

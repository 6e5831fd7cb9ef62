"""Restores: scheduleName picks the newest Completed backup of the schedule, the namespaces come back
under their mapping, and a restore without a usable backup fails with Velero's reasons."""
from __future__ import annotations

import base64
from datetime import timedelta

from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.testing import BACKUP, RESTORE, SCHEDULE, SECRET, SimCluster, sim_cluster  # noqa: F401

NAMESPACE = ("", "v1", "namespaces")


def set_secret(c: SimCluster, file: str) -> None:
    secret = c.get(SECRET, "creds")
    secret["data"]["cloud"] = base64.b64encode(file.encode()).decode()
    c.store.replace(SECRET, "velero", "creds", secret)


def test_restore_of_schedule_takes_newest_completed_not_newer_failed(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    creds = c.s3.create_credentials()
    c.add_credentials("creds", creds)
    c.add_location("default", "velero", "creds", default=True)
    c.create(SCHEDULE, objects.schedule("hourly", "0 * * * *", included_namespaces=["app-a", "app-b"]))
    c.run(timedelta(hours=3))  # backups at 01:00 and 02:00 complete; 03:00 has just started
    assert c.status(BACKUP, "hourly-20261124030000")["phase"] == "InProgress"
    set_secret(c, creds.with_secret("rotated").shared_credentials_file())  # its upload will be refused
    c.run(timedelta(minutes=1))
    assert c.status(BACKUP, "hourly-20261124030000")["phase"] == "Failed"
    set_secret(c, creds.shared_credentials_file())

    c.create(RESTORE, objects.restore("r1", schedule_name="hourly", namespace_mapping={"app-a": "app-a-copy"}))
    c.run(timedelta(minutes=1))

    restore = c.get(RESTORE, "r1")
    assert restore["spec"]["backupName"] == "hourly-20261124020000"
    assert restore["status"]["phase"] == "Completed"
    assert restore["status"]["startTimestamp"] == "2026-11-24T03:01:00Z"
    assert restore["status"]["completionTimestamp"] > restore["status"]["startTimestamp"]
    assert restore["status"]["progress"]["itemsRestored"] == restore["status"]["progress"]["totalItems"] > 0
    [record] = c.sim.restore_records
    assert (record.name, record.backup) == ("r1", "hourly-20261124020000")
    assert record.namespaces == {"app-a": "app-a-copy", "app-b": "app-b"}
    assert record.created == ("app-a-copy",)
    assert c.store.get(NAMESPACE, None, "app-a-copy")["metadata"]["name"] == "app-a-copy"
    assert c.s3.keys("velero", "restores/r1/") == ["restores/r1/restore-r1-logs.gz", "restores/r1/restore-r1-results.gz"]


def test_restore_without_usable_backup_fails(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("default", "velero", "creds", default=True)
    c.create(SCHEDULE, objects.schedule("never", "0 0 1 1 *"))
    c.create(RESTORE, objects.restore("by-name", backup_name="nope"))
    c.create(RESTORE, objects.restore("by-schedule", schedule_name="never"))
    c.create(RESTORE, objects.restore("neither"))
    c.sim.step()
    assert c.status(RESTORE, "by-name") == {"phase": "FailedValidation", "validationErrors": [
        'Error retrieving backup: can\'t find backup velero/nope: backups.velero.io "nope" not found']}
    assert c.status(RESTORE, "by-schedule")["validationErrors"] == [
        "No backups found for schedule", "No completed backups found for schedule"]
    assert c.status(RESTORE, "neither")["validationErrors"] == [
        "Either a backup or schedule must be specified as a source for the restore, but not both"]


def test_restore_of_backup_whose_data_is_gone_fails(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("default", "velero", "creds", default=True, sync_period="0s")
    c.create(BACKUP, objects.backup("b1", included_namespaces=["app-a"]))
    c.run(timedelta(minutes=1))
    assert c.status(BACKUP, "b1")["phase"] == "Completed"
    s3 = c.s3.client("s3")
    s3.delete_object(Bucket="velero", Key="backups/b1/b1.tar.gz")
    c.create(RESTORE, objects.restore("r1", backup_name="b1"))
    c.sim.step()
    status = c.status(RESTORE, "r1")
    assert status["phase"] == "Failed"
    assert status["failureReason"].startswith(
        "error downloading backup: rpc error: code = Unknown desc = operation error S3: GetObject, "
        "https response error StatusCode: 404")
    assert "NoSuchKey: The specified key does not exist." in status["failureReason"]

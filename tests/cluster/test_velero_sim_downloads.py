"""The simulator's DownloadRequest controller against Velero's download_request_controller.go: a signed URL
to the right file of the right location, expiration now + 10 minutes, restores resolved to their backup,
unanswerable requests left New, every request deleted once expired."""
from __future__ import annotations

import gzip
import urllib.request
from datetime import timedelta

from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.downloads import DOWNLOAD_REQUEST
from tests.cluster.velero_sim.testing import BACKUP, RESTORE, SCHEDULE, SimCluster, sim_cluster  # noqa: F401


def _request(c: SimCluster, name: str, kind: str, target: str) -> None:
    c.create(DOWNLOAD_REQUEST, {"apiVersion": "velero.io/v1", "kind": "DownloadRequest", "metadata": {"name": name},
                                "spec": {"target": {"kind": kind, "name": target}}})


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (moto)
        return gzip.decompress(resp.read()).decode()


def test_download_requests_get_a_signed_url_then_expire(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    c.s3.create_bucket("velero")
    c.add_credentials("creds", c.s3.create_credentials())
    c.add_location("default", "velero", "creds", default=True, prefix="cluster-a")
    c.create(SCHEDULE, objects.schedule("hourly", "0 * * * *", included_namespaces=["app-a"]))
    c.run(timedelta(hours=1, minutes=10))
    c.create(RESTORE, objects.restore("r1", backup_name="hourly-20261124010000"))
    c.run(timedelta(minutes=2))
    assert c.status(RESTORE, "r1")["phase"] == "Completed"

    _request(c, "log-1", "BackupLog", "hourly-20261124010000")
    _request(c, "rlog-1", "RestoreLog", "r1")
    _request(c, "nope-1", "BackupLog", "no-such-backup")
    c.sim.step()
    now = c.clock.now()
    status = c.status(DOWNLOAD_REQUEST, "log-1")
    assert status["phase"] == "Processed"
    assert status["expiration"] == (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "/velero/cluster-a/backups/hourly-20261124010000/hourly-20261124010000-logs.gz" in status["downloadURL"]
    assert 'msg="Backup completed" backup=velero/hourly-20261124010000' in _read(status["downloadURL"])
    # a restore's files are in the bucket of its backup's location, under restores/
    rlog = c.status(DOWNLOAD_REQUEST, "rlog-1")["downloadURL"]
    assert "/cluster-a/restores/r1/restore-r1-logs.gz" in rlog and 'msg="restore completed"' in _read(rlog)
    # no such backup: Velero logs it and leaves the request New, with its expiration (the deferred patch)
    nope = c.status(DOWNLOAD_REQUEST, "nope-1")
    assert "downloadURL" not in nope and nope.get("phase", "New") == "New" and nope["expiration"]

    c.run(timedelta(minutes=9))
    assert c.names(DOWNLOAD_REQUEST) == ["log-1", "nope-1", "rlog-1"]
    c.run(timedelta(minutes=2))  # past the expiration: deleted, whatever the phase
    assert c.names(DOWNLOAD_REQUEST) == []

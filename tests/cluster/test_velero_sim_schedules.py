"""Schedules: backups at cron times with Velero's names, labels and expirations; retention removes the
old ones from the cluster and the bucket; CRON_TZ, @every, pause and validation behave as in Velero."""
from __future__ import annotations

from datetime import timedelta

from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.testing import BACKUP, SCHEDULE, SimCluster, sim_cluster  # noqa: F401

DBR = ("velero.io", "v1", "deletebackuprequests")


def with_location(c: SimCluster, bucket: str = "velero", prefix: str | None = "cluster-a") -> None:
    c.s3.create_bucket(bucket)
    c.add_credentials("cloud-credentials", c.s3.create_credentials())
    c.add_location("default", bucket, "cloud-credentials", prefix=prefix, default=True)


def test_retention_over_two_days(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("six-hourly", "0 */6 * * *", ttl="24h0m0s",
                                        included_namespaces=["app-a", "app-b"]))
    c.sim.step()
    assert c.names(BACKUP) == []  # no backup at creation: the first comes at the next cron time

    c.run(timedelta(days=2, minutes=1))

    kept = ["six-hourly-20261125060000", "six-hourly-20261125120000",
            "six-hourly-20261125180000", "six-hourly-20261126000000"]
    assert c.names(BACKUP) == kept
    for name in kept:
        b = c.get(BACKUP, name)
        start = f"2026-11-{name[-8:-6]}T{name[-6:-4]}:00:00Z"
        assert b["status"]["phase"] == "Completed"
        assert b["status"]["startTimestamp"] == start
        assert b["status"]["expiration"] == f"2026-11-{int(name[-8:-6]) + 1}T{name[-6:-4]}:00:00Z"
        assert b["status"]["progress"]["itemsBackedUp"] == b["status"]["progress"]["totalItems"] > 0
        assert b["metadata"]["labels"]["velero.io/schedule-name"] == "six-hourly"
        assert b["metadata"]["labels"]["velero.io/storage-location"] == "default"
        assert b["spec"]["includedNamespaces"] == ["app-a", "app-b"]
    dirs = {k.split("/")[2] for k in c.s3.keys("velero", "cluster-a/backups/")}
    assert dirs == set(kept)  # the four expired backups left the bucket too
    assert c.s3.keys("velero", f"cluster-a/backups/{kept[0]}/") == [
        f"cluster-a/backups/{kept[0]}/{kept[0]}-logs.gz",
        f"cluster-a/backups/{kept[0]}/{kept[0]}.tar.gz",
        f"cluster-a/backups/{kept[0]}/velero-backup.json",
    ]
    assert c.names(DBR) == []  # processed requests are cleaned up
    assert c.status(SCHEDULE, "six-hourly") == {"phase": "Enabled", "lastBackup": "2026-11-26T00:00:00Z"}


def test_backup_json_in_bucket_is_the_final_backup(sim_cluster: SimCluster) -> None:
    import json

    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("hourly", "@hourly"))
    c.run(timedelta(hours=1, minutes=1))
    stored = json.loads(c.s3.get_object("velero", "cluster-a/backups/hourly-20261124010000/velero-backup.json"))
    assert stored["kind"] == "Backup" and stored["apiVersion"] == "velero.io/v1"
    assert stored["status"]["phase"] == "Completed"
    assert stored["status"]["completionTimestamp"] == c.status(BACKUP, "hourly-20261124010000")["completionTimestamp"]
    assert stored["spec"]["ttl"] == "720h0m0s"  # Velero writes its default TTL into the spec


def test_labels_come_from_schedule_unless_template_sets_some(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("own", "0 1 * * *", labels={"team": "a"}))
    c.create(SCHEDULE, objects.schedule("templ", "0 1 * * *", labels={"team": "a"}, template_labels={"tier": "x"}))
    c.create(SCHEDULE, objects.schedule("empty", "0 1 * * *", labels={"team": "a"}, template_labels={}))
    c.run(timedelta(hours=1))
    labels = {n.rsplit("-", 1)[0]: c.get(BACKUP, n)["metadata"]["labels"] for n in c.names(BACKUP)}
    assert labels["own"]["team"] == "a"
    assert labels["templ"]["tier"] == "x" and "team" not in labels["templ"]
    assert "team" not in labels["empty"]
    assert all(v["velero.io/schedule-name"] for v in labels.values())


def test_cron_tz_is_honoured(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("ny", "CRON_TZ=America/New_York 0 2 * * *"))
    c.create(SCHEDULE, objects.schedule("utc", "0 2 * * *"))
    c.create(SCHEDULE, objects.schedule("india", "CRON_TZ=Asia/Kolkata 0 2 * * *"))
    c.run(timedelta(hours=23))
    # 02:00 in New York in November is 07:00 UTC; 02:00 in Kolkata is 20:30 UTC the day before.
    assert c.names(BACKUP) == ["india-20261124203000", "ny-20261124070000", "utc-20261124020000"]


def test_every_and_skip_immediately_written_back(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("every", "@every 6h"))
    c.run(timedelta(hours=13))
    assert c.names(BACKUP) == ["every-20261124060000", "every-20261124120000"]
    # Velero fills in the server default (false) in the spec of every Schedule it reconciles.
    assert c.get(SCHEDULE, "every")["spec"]["skipImmediately"] is False


def test_paused_schedule_makes_nothing_and_catches_up_once_unpaused(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("p", "0 * * * *", paused=True))
    c.create(SCHEDULE, objects.schedule("q", "0 * * * *", paused=True))
    c.run(timedelta(hours=3, minutes=30))
    assert c.names(BACKUP) == []
    assert "status" not in c.get(SCHEDULE, "p")  # a paused schedule is not even validated
    for name, skip in (("p", None), ("q", True)):
        s = c.get(SCHEDULE, name)
        s["spec"]["paused"] = False
        if skip:
            s["spec"]["skipImmediately"] = True
        c.store.replace(SCHEDULE, "velero", name, s)
    c.sim.step()
    # Unpaused, p is overdue and backs up at once; q skips that run and waits for the next hour.
    assert c.names(BACKUP) == ["p-20261124033000"]
    assert c.get(SCHEDULE, "q")["spec"]["skipImmediately"] is False
    assert c.status(SCHEDULE, "q")["lastSkipped"] == "2026-11-24T03:30:00Z"
    c.run(timedelta(minutes=30))
    assert c.names(BACKUP) == ["p-20261124033000", "p-20261124040000", "q-20261124040000"]


def test_server_skip_immediately_default_is_used_up_by_the_first_schedule(s3) -> None:
    # schedule_controller.go Reconcile points a nil skipImmediately at the reconciler's own field and then
    # clears it through that pointer: --schedule-skip-immediately=true skips for one schedule only.
    from tests.cluster.velero_sim import VeleroSimulator
    from tests.cluster.velero_sim.testing import new_sim_cluster

    c = new_sim_cluster(s3)
    c.sim = VeleroSimulator(c.store, c.clock, s3.url, schedule_skip_immediately=True)
    with_location(c)
    for name in ("a", "b"):
        c.create(SCHEDULE, objects.schedule(name, "0 * * * *", paused=True))
    c.run(timedelta(hours=2, minutes=30))
    for name in ("a", "b"):
        s = c.get(SCHEDULE, name)
        s["spec"]["paused"] = False
        c.store.replace(SCHEDULE, "velero", name, s)
    c.sim.step()
    assert c.status(SCHEDULE, "a")["lastSkipped"] == "2026-11-24T02:30:00Z"
    assert "lastSkipped" not in c.status(SCHEDULE, "b")
    assert c.names(BACKUP) == ["b-20261124023000"]  # b is overdue and runs at once despite the flag
    assert [c.get(SCHEDULE, n)["spec"]["skipImmediately"] for n in ("a", "b")] == [False, False]


def test_invalid_cron_fails_validation(sim_cluster: SimCluster) -> None:
    c = sim_cluster
    with_location(c)
    c.create(SCHEDULE, objects.schedule("six", "0 0 2 * * *"))
    c.create(SCHEDULE, objects.schedule("tz", "CRON_TZ=Mars/Olympus 0 2 * * *"))
    c.sim.step()
    assert c.status(SCHEDULE, "six") == {
        "phase": "FailedValidation",
        "validationErrors": ["invalid schedule: expected exactly 5 fields, found 6: [0 0 2 * * *]"],
    }
    assert c.status(SCHEDULE, "tz")["validationErrors"] == [
        "invalid schedule: provided bad location Mars/Olympus: unknown time zone Mars/Olympus"]
    assert c.sim.next_wakeup() is None


def test_server_flags_fill_in_what_a_schedule_leaves_empty(s3) -> None:
    """backup_controller.go prepareBackupRequest: ttl 0s -> --default-backup-ttl; no storageLocation -> the
    location marked default, else --default-backup-storage-location."""
    from tests.cluster.velero_sim.testing import new_sim_cluster

    c = new_sim_cluster(s3, server_args={"default-backup-ttl": "240h", "default-backup-storage-location": "site-b"})
    c.s3.create_bucket("velero")
    c.add_credentials("cloud-credentials", c.s3.create_credentials())
    c.add_location("site-a", "velero", "cloud-credentials", prefix="a")
    c.add_location("site-b", "velero", "cloud-credentials", prefix="b")
    c.create(SCHEDULE, objects.schedule("daily", "0 2 * * *", ttl="0s"))
    c.run(timedelta(hours=3))
    backup = c.get(BACKUP, "daily-20261124020000")
    assert backup["spec"]["ttl"] == "240h0m0s"
    assert backup["status"]["expiration"] == "2026-12-04T02:00:00Z"
    assert backup["spec"]["storageLocation"] == "site-b"  # none is marked default: the server's flag

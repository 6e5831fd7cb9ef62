"""Backups against real Velero: `backup create` into moto, `snapshots`/`snapshots show`, a restore from
{schedule} with a namespace mapping, `snapshots delete`, and a Backup only in the bucket synced back."""
from __future__ import annotations

import json

import pytest

from .scenario import (BACKUP, CONFIGMAPS, RESTORE, SECRETS, SERVICES, cli, env_for, make_app,
                       policy, xfail_on_secret_cache_race)

pytestmark = pytest.mark.conformance


@pytest.fixture
def applied(s3real, tmp_path, capsys, monkeypatch):
    """The policy applied (both locations Available) for an app with a ConfigMap, a Secret and a Service."""
    app, env = make_app(s3real.store), env_for(s3real)
    path = policy(tmp_path, s3real, app)
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", str(path), "--kubeconfig", str(s3real.cluster.kubeconfig),
              "--timeout", "2m", env=env)
    xfail_on_secret_cache_race(res)
    assert res.code == 0, res.out + res.err
    return s3real, app, path, env


def backup(capsys, monkeypatch, applied, name):
    s3real, _, path, env = applied
    res = cli(capsys, monkeypatch, "backup", "create", "-f", str(path), "--schedule", "nightly", "--name", name,
              "--timeout", "3m", "--kubeconfig", str(s3real.cluster.kubeconfig), env=env)
    assert res.code == 0, res.out + res.err
    return res


def snapshots(capsys, monkeypatch, s3real, *args):
    return cli(capsys, monkeypatch, "snapshots", *args, "--kubeconfig", str(s3real.cluster.kubeconfig))


def test_backup_create_makes_a_completed_backup_in_the_bucket(applied, capsys, monkeypatch):
    s3real, app, _, _ = applied
    res = backup(capsys, monkeypatch, applied, "first")
    progress = [line.split(": ", 1)[1] for line in res.err.splitlines() if line.startswith("backup first: ")]
    assert progress and progress[-1].startswith("Completed"), res.err
    obj = s3real.store.get(BACKUP, "velero", "first")
    assert obj["status"]["phase"] == "Completed"
    assert obj["spec"]["includedNamespaces"] == [app]
    assert obj["metadata"]["labels"]["velero.io/schedule-name"] == "nightly"
    keys = s3real.s3.keys(s3real.bucket, "primary/backups/first/")
    assert "primary/backups/first/velero-backup.json" in keys
    assert "primary/backups/first/first.tar.gz" in keys
    total = obj["status"]["progress"]["totalItems"]
    assert total >= 4  # the namespace, the ConfigMap, the Secret, the Service
    assert f"{total} of {total} backed up" in res.out


def test_snapshots_lists_and_shows_the_backup(applied, capsys, monkeypatch):
    s3real, app, path, _ = applied
    backup(capsys, monkeypatch, applied, "listed")
    res = snapshots(capsys, monkeypatch, s3real, "--json", "-f", str(path))
    assert res.code == 0, res.err
    rows = {row["name"]: row for row in json.loads(res.out)["backups"]}
    assert rows["listed"]["phase"] == "Completed"
    res = snapshots(capsys, monkeypatch, s3real, "show", "listed", "-f", str(path))
    assert res.code == 0, res.err
    assert "Completed" in res.out and "Schedule:            nightly" in res.out
    assert "Storage location:    primary" in res.out


def test_a_restore_from_the_schedule_maps_the_namespace(applied, tmp_path, capsys, monkeypatch):
    s3real, app, _, env = applied
    backup(capsys, monkeypatch, applied, "to-restore")
    target = f"{app}-restored"
    path = policy(tmp_path, s3real, app, extra=f"""\
restores:
  shop-back:
    from: {{schedule: nightly}}
    scope: application
    app: shop
    namespaceMapping: {{{app}: {target}}}
""")
    res = cli(capsys, monkeypatch, "apply", "--auto-approve", "-f", str(path), "--kubeconfig",
              str(s3real.cluster.kubeconfig), "--timeout", "3m", env=env)
    assert res.code == 0, res.out + res.err
    restore = s3real.store.get(RESTORE, "velero", "shop-back")
    assert restore["spec"]["backupName"] == "to-restore"
    assert restore["status"]["phase"] == "Completed", restore["status"]
    assert s3real.store.get(CONFIGMAPS, target, "settings")["data"] == {"colour": "teal"}
    assert s3real.store.get(SECRETS, target, "db")["data"]["password"]
    assert s3real.store.get(SERVICES, target, "web")["spec"]["ports"][0]["port"] == 80


def test_snapshots_delete_removes_the_data_and_the_backup(applied, capsys, monkeypatch):
    s3real, _, path, _ = applied
    backup(capsys, monkeypatch, applied, "doomed")
    assert s3real.s3.keys(s3real.bucket, "primary/backups/doomed/")
    res = snapshots(capsys, monkeypatch, s3real, "delete", "doomed", "--yes", "--json")
    assert res.code == 0, res.err
    request = json.loads(res.out)["delete_backup_request"]
    # On success Velero marks the request Processed, then deletes every request for the backup
    # (backup_deletion_controller.go Reconcile, DeleteAllOf): gone, not Processed, is what stays visible.
    s3real.wait_for(lambda: s3real.cluster.kube.get("velero.io", "backups", "velero", "doomed") is None, 90, "gone")
    s3real.wait_for(lambda: s3real.cluster.kube.get("velero.io", "deletebackuprequests", "velero", request) is None,
                  30, "request deleted")
    assert s3real.s3.keys(s3real.bucket, "primary/backups/doomed/") == []


def test_a_backup_only_in_the_bucket_is_synced_into_the_cluster(applied, capsys, monkeypatch):
    s3real, _, path, _ = applied
    backup(capsys, monkeypatch, applied, "from-bucket")
    uid = s3real.store.get(BACKUP, "velero", "from-bucket")["metadata"]["uid"]
    s3real.cluster.kube.delete("velero.io", "backups", "velero", "from-bucket")  # as if made by another cluster
    synced = s3real.wait_for(lambda: s3real.cluster.kube.get("velero.io", "backups", "velero", "from-bucket"), 60, "synced")
    assert synced["metadata"]["uid"] != uid and synced["status"]["phase"] == "Completed"
    res = snapshots(capsys, monkeypatch, s3real, "--json", "-f", str(path))
    assert "from-bucket" in {row["name"] for row in json.loads(res.out)["backups"]}

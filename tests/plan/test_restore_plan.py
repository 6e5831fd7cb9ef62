"""Restores at plan time: which backup, and the refusals, each with its message."""
from __future__ import annotations

import json

import yaml

from tests.helpers import NOW, run_cli, write

POLICY = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: rp}
veleroNamespace: velero
apps:
  shop: {namespaces: [shop, shop-db]}
storage:
  s3: {type: aws, default: true, bucket: acme, region: us-east-1, credentials: {secretRef: {name: cloud-credentials}}}
schedules:
  nightly: {scope: full, schedule: daily}
  shop-hourly: {scope: application, app: shop, schedule: hourly}
restores:
"""


def backup(name, schedule, phase="Completed", started="2026-11-24T02:00:00Z", completed="2026-11-24T02:04:00Z",
           namespaces=("*",)):
    return {"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero", "resourceVersion": "5",
                         "labels": {"velero.io/schedule-name": schedule} if schedule else {}},
            "spec": {"includedNamespaces": list(namespaces), "storageLocation": "s3"},
            "status": {"phase": phase, "startTimestamp": started, "completionTimestamp": completed}}


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "resourceVersion": "1"}}


def plan(tmp_path, capsys, monkeypatch, restores: str, *items, json_out=False):
    policy = write(tmp_path / "policy.yaml", POLICY + restores)
    state = write(tmp_path / "state.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
        namespace("velero"), *items]}))
    args = ["plan", "-f", str(policy), "--state", str(state), "--now", NOW] + (["--json"] if json_out else [])
    return run_cli(args, capsys, monkeypatch)


def test_from_schedule_picks_the_newest_completed_not_a_newer_failed(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch,
               "  back: {from: {schedule: nightly}, scope: full}\n",
               backup("nightly-20261123020000", "nightly", started="2026-11-23T02:00:00Z",
                      completed="2026-11-23T02:05:00Z"),
               backup("nightly-20261124020000", "nightly", completed="2026-11-24T02:04:00Z"),
               backup("nightly-20261125020000", "nightly", phase="Failed", started="2026-11-25T02:00:00Z"),
               backup("other-20261125030000", "other", started="2026-11-25T03:00:00Z"))
    assert res.code == 0, res.err
    assert ("will restore nightly-20261124020000, completed 2026-11-24 02:04 UTC, 1 day old "
            "(the newest Completed backup of schedule nightly)") in res.out
    assert "skipped newer: nightly-20261125020000 (Failed)" in res.out
    res = plan(tmp_path, capsys, monkeypatch, "  back: {from: {schedule: nightly}, scope: full}\n",
               backup("nightly-20261124020000", "nightly"), json_out=True)
    change = next(c for c in json.loads(res.out)["resource_changes"] if c["address"] == "restore.back")
    assert change["after"]["spec"]["backupName"] == "nightly-20261124020000"
    assert "scheduleName" not in change["after"]["spec"]  # Velero takes one source, not both


def test_no_completed_backup_leaves_the_restore_out_and_says_why(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "  back: {from: {schedule: nightly}, scope: full}\n",
               backup("nightly-20261125020000", "nightly", phase="Failed"))
    assert res.code == 0, res.err
    assert ("restore.back is not created: schedule nightly has no Completed backup to restore from "
            "(newest: nightly-20261125020000 Failed)") in res.out
    assert "snapplan backup create --schedule nightly" in res.out
    assert "# restore.back will be created" not in res.out


def test_partial_restore_refused_when_the_backup_lacks_the_apps_namespaces(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch,
               "  shop-back: {from: {backup: only-shop-20261124}, scope: application, app: shop}\n",
               backup("only-shop-20261124", None, namespaces=("shop",)))
    assert res.code == 1
    assert f"{tmp_path / 'policy.yaml'}:14:14: restore.shop-back: " in res.err  # where the entry is written
    assert ("restore.shop-back: backup only-shop-20261124 does not contain app shop's namespace(s) shop-db; "
            "it covers shop") in res.err


def test_partial_restore_from_a_full_snapshot_and_from_an_app_snapshot(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch,
               "  a: {from: {schedule: nightly}, scope: application, app: shop}\n"
               "  b: {from: {schedule: shop-hourly}, scope: application, app: shop}\n",
               backup("nightly-20261124020000", "nightly"),
               backup("shop-hourly-20261125070000", "shop-hourly", namespaces=("shop", "shop-db"),
                      completed="2026-11-25T07:01:00Z"), json_out=True)
    assert res.code == 0, res.err
    after = {c["address"]: c["after"]["spec"] for c in json.loads(res.out)["resource_changes"]
             if c["kind"] == "Restore"}
    assert after["restore.a"]["backupName"] == "nightly-20261124020000"
    assert after["restore.a"]["includedNamespaces"] == ["shop", "shop-db"]  # only the app's namespaces
    assert after["restore.b"]["backupName"] == "shop-hourly-20261125070000"


def test_a_failed_named_backup_is_refused(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "  back: {from: {backup: broken}, scope: full}\n",
               backup("broken", None, phase="Failed"))
    assert res.code == 1
    assert "restore.back: backup broken is Failed; only a Completed (or PartiallyFailed) backup can be restored" \
        in res.err


def test_existing_namespaces_with_existing_resources_none_warn(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch,
               "  back: {from: {backup: nightly-1}, scope: application, app: shop}\n",
               backup("nightly-1", "nightly"), namespace("shop"), namespace("shop-db"))
    assert res.code == 0, res.err
    assert ("restore.back: namespace(s) shop, shop-db already exist; with existingResources: none, objects "
            "already there stay as they are") in res.out
    res = plan(tmp_path, capsys, monkeypatch,
               "  back: {from: {backup: nightly-1}, scope: application, app: shop, "
               "namespaceMapping: {shop: shop-copy, shop-db: shop-db-copy}}\n",
               backup("nightly-1", "nightly"), namespace("shop"), namespace("shop-db"))
    assert "already exist" not in res.out


def test_a_backup_only_in_storage_is_waited_for(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "  dr: {from: {backup: nightly-20261101020000}, scope: full}\n")
    assert res.code == 0, res.err
    assert ("backup nightly-20261101020000 is not in the cluster yet: apply waits until Velero has synced it "
            "from a storage location, then restores") in res.out
    assert "# after: bsl.s3" in res.out.split("# restore.dr will be created")[1]


def test_times_with_an_offset_are_ordered_and_shown_in_utc(tmp_path, capsys, monkeypatch):
    # 03:00+05:00 is 22:00 UTC the day before: older than 02:00Z, and "UTC" in the plan must mean UTC
    res = plan(tmp_path, capsys, monkeypatch,
               "  back: {from: {schedule: nightly}, scope: full}\n",
               backup("nightly-a", "nightly", started="2026-11-24T02:00:00Z", completed="2026-11-24T04:04:00+02:00"),
               backup("nightly-b", "nightly", started="2026-11-24T03:00:00+05:00",
                      completed="2026-11-24T03:30:00+05:00"))
    assert res.code == 0, res.err
    assert "will restore nightly-a, completed 2026-11-24 02:04 UTC" in res.out

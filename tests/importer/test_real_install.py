"""`snapplan import` of a realistic install (tests/importer/real_install): several locations, two marked
default, locations and schedules managed by Helm and by the OADP operator, short provider names, hooks and
resource filters, schedules relying on Velero's default location. Every schedule whose location exists is
imported, and the imported policy plans no create, delete or replace, and no change to what Velero does."""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import run_cli, write
from tests.importer.support import acting, assert_adoption, extra_fields, import_cli, plan_cli

STATE = Path(__file__).parent / "real_install" / "cluster-state.yaml"
TEMPLATE_LABELS = 'spec.template.metadata.labels'


def test_real_install_imports_every_schedule_whose_location_exists_and_plans_only_adoption(tmp_path, capsys,
                                                                                          monkeypatch):
    out = tmp_path / "policy.yaml"
    res = import_cli(STATE, out, capsys, monkeypatch, "--name", "acme")
    doc = yaml.safe_load(out.read_text())
    # Helm's and the OADP operator's objects are left to them, with a note naming the tool
    assert "note: bsl.default: not imported: managed by Helm (label app.kubernetes.io/managed-by: Helm)" in res.err
    assert "note: bsl.dpa-sample-1: not imported: managed by oadp-operator" in res.err
    assert "note: schedule.velero-nightly: not imported: managed by Helm" in res.err
    assert set(doc["storage"]) == {"azure-cold", "gcp-archive", "minio-dr"}
    # short provider names: gcp, azure, velero.io/aws
    assert {n: s["type"] for n, s in doc["storage"].items()} == {
        "azure-cold": "azure", "gcp-archive": "gcp", "minio-dr": "s3-compatible"}
    assert doc["snapshotLocations"]["gcp-disks"]["type"] == "gcp"
    # every schedule whose location exists: Velero's default (two marked default: the newer, minio-dr, stays),
    # a location of its own, or one the OADP operator manages; not the one whose location is gone
    assert sorted(doc["schedules"]) == ["cold-monthly", "config-weekly", "daily-all", "mysql-daily", "payments-6h",
                                        "shop-hourly"]
    assert "note: schedule.legacy-site: not imported: its storage location 'old-site' does not exist" in res.err
    assert doc["storage"]["minio-dr"]["default"] is True and doc["externalStorage"] == ["dpa-sample-1"]
    assert "storage" not in doc["schedules"]["daily-all"] and doc["schedules"]["mysql-daily"]["storage"] == \
        "dpa-sample-1"
    # a schedule's own labels reach its backups while its template has none: carried as backupLabels
    assert doc["schedules"]["shop-hourly"]["backupLabels"] == {"app": "shop", "frequency": "hourly"}
    assert doc["schedules"]["config-weekly"]["backupLabels"] == {"tier": "config"}
    assert "spec.template.hooks" in out.read_text()  # kept as in the cluster, said so

    plan = plan_cli(out, STATE, capsys, monkeypatch)
    assert plan["summary"] == {"add": 0, "change": 10, "destroy": 0}
    changes = acting(plan)
    assert {r["action"] for r in changes.values()} == {"update"}
    for change in changes.values():
        assert_adoption(change)
    # Nothing Velero does changes: locations and snapshot locations only gain snapplan's label and annotations;
    # schedules gain template labels, snapplan's own (without them Velero would copy the Schedule's new
    # managed-by label to every backup) and the labels their backups already carried.
    for address, change in changes.items():
        extra = extra_fields(change)
        assert all(path.startswith(TEMPLATE_LABELS) for path in extra), (address, extra)
        assert all(f["before"] is None for f in change["fields"] if f["path"] in extra), address
    assert extra_fields(changes["schedule.shop-hourly"]) == {
        f"{TEMPLATE_LABELS}.app", f"{TEMPLATE_LABELS}.frequency", f'{TEMPLATE_LABELS}["snapplan.io/scope"]',
        f'{TEMPLATE_LABELS}["snapplan.io/app"]'}
    assert not [w for w in plan["warnings"] if "retention" in w or "replaced" in w]
    assert {"bsl.default", "bsl.dpa-sample-1", "schedule.velero-nightly"} <= set(plan["unmanaged"])


def test_a_policy_entry_for_another_tools_location_stays_an_error(tmp_path, capsys, monkeypatch):
    policy = write(tmp_path / "p.yaml", """apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: acme}
storage:
  default: {type: aws, default: true, bucket: acme-velero-primary, region: us-east-1, credentials: {secretRef: {name: velero}}}
""")
    res = run_cli(["plan", "-f", str(policy), "--state", str(STATE)], capsys, monkeypatch)
    assert res.code == 1
    assert "bsl.default is managed by 'Helm' (label app.kubernetes.io/managed-by)" in res.err


def test_schedules_without_a_location_use_the_servers_default_when_none_is_marked(tmp_path, capsys, monkeypatch):
    """The second real install: no location marked default, one named `default` (Velero's
    --default-backup-storage-location unless changed): its schedules naming no location are imported."""
    doc = yaml.safe_load(STATE.read_text())
    items = [o for o in doc["items"] if (o.get("metadata", {}).get("labels") or {}).get(
        "app.kubernetes.io/managed-by") != "oadp-operator" and o["metadata"]["name"] != "mysql-daily"]
    for o in items:
        if o["kind"] == "BackupStorageLocation":
            o["spec"].pop("default", None)
            if o["metadata"]["name"] == "default":  # the chart's location, made by hand instead of by Helm
                del o["metadata"]["labels"]
    state = write(tmp_path / "state.yaml", yaml.safe_dump({**doc, "items": items}))
    out = tmp_path / "policy.yaml"
    res = import_cli(state, out, capsys, monkeypatch, "--name", "acme")
    policy = yaml.safe_load(out.read_text())
    assert {"daily-all", "payments-6h"} <= set(policy["schedules"])
    assert "storage" not in policy["schedules"]["daily-all"]
    assert not any(s.get("default") for s in policy["storage"].values())
    assert ("Velero's default location 'default' (--default-backup-storage-location, from the velero Deployment's "
            "flags; no location is marked default)") in res.err
    plan = plan_cli(out, state, capsys, monkeypatch)
    assert plan["summary"]["add"] == 0 and plan["summary"]["destroy"] == 0
    daily = acting(plan)["schedule.daily-all"]
    assert not [f for f in daily["fields"] if "storageLocation" in f["path"]]
    assert "no storage named: backups go to Velero's default location default" in daily["reasons"]

    # Without the Deployment in the state, the policy says which location the server treats as default.
    items = [o for o in items if o["kind"] != "Deployment" and o["metadata"]["name"] != "default"]
    state = write(tmp_path / "state2.yaml", yaml.safe_dump({**doc, "items": items}))
    policy["storage"].pop("default")
    policy["storage"]["site-b"] = {"type": "gcp", "bucket": "acme-site-b"}
    write(out, yaml.safe_dump({**policy, "veleroServer": {"defaultBackupStorageLocation": "site-b"}}))
    plan = plan_cli(out, state, capsys, monkeypatch)
    daily = acting(plan)["schedule.daily-all"]
    assert "no storage named: backups go to Velero's default location site-b" in daily["reasons"]
    assert not [w for w in plan["warnings"] if "does not exist" in w]
    write(out, yaml.safe_dump(policy))
    plan = plan_cli(out, state, capsys, monkeypatch)
    assert any("Velero's default location 'default' (no location is marked default) does not exist" in w
               for w in plan["warnings"]), plan["warnings"]


def test_a_schedule_on_another_tools_location_that_is_gone_warns(tmp_path, capsys, monkeypatch):
    out = tmp_path / "policy.yaml"
    import_cli(STATE, out, capsys, monkeypatch, "--name", "acme")
    doc = yaml.safe_load(STATE.read_text())
    doc["items"] = [o for o in doc["items"] if o["metadata"]["name"] != "dpa-sample-1"]
    state = write(tmp_path / "state.yaml", yaml.safe_dump(doc))
    plan = plan_cli(out, state, capsys, monkeypatch)
    assert any(w.startswith("schedule.mysql-daily: its storage 'dpa-sample-1' (externalStorage, another tool's) is "
                            "not in") for w in plan["warnings"]), plan["warnings"]

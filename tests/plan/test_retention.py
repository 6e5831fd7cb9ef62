"""Retention changes in the plan: a warning about existing backups, except when nothing really changes."""
from __future__ import annotations

import yaml

from tests.helpers import NOW, run_cli, write

POLICY = """
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {name: ret}
veleroNamespace: velero
storage:
  s3: {type: aws, default: true, bucket: acme, region: us-east-1, credentials: {secretRef: {name: cloud-credentials}}}
schedules:
  nightly: {scope: full, schedule: daily, retention: RETENTION}
"""


def plan(tmp_path, capsys, monkeypatch, retention, live_ttl):
    from engine.model import build_desired
    from engine.model.manifest import to_manifest
    from engine.spec import load_policy

    policy = write(tmp_path / "p.yaml", POLICY.replace("RETENTION", retention))
    desired = build_desired(load_policy(write(tmp_path / "old.yaml", POLICY.replace("RETENTION", "30d")),
                                        env={})[0], {})
    items = []
    for d in desired.objects.values():
        obj = to_manifest(d)
        obj["metadata"]["resourceVersion"] = "7"
        if obj["kind"] == "Schedule":
            template = obj["spec"]["template"]
            template.pop("ttl")
            if live_ttl:
                template["ttl"] = live_ttl
            obj["metadata"]["annotations"].pop("snapplan.io/last-applied", None)
        items.append(obj)
    items += [{"apiVersion": "velero.io/v1", "kind": "Backup",
               "metadata": {"name": f"nightly-{i}", "namespace": "velero",
                            "labels": {"velero.io/schedule-name": "nightly"}}} for i in range(3)]
    state = write(tmp_path / "s.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    return run_cli(["plan", "-f", str(policy), "--state", str(state), "--now", NOW], capsys, monkeypatch)


def test_writing_out_velero_default_retention_is_not_a_change_of_expiry(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "30d", None)
    assert res.code == 0, res.err
    assert "retention written out: 720h0m0s is Velero's default, so backups keep the same expiry" in res.out
    assert "retention changes" not in res.out


def test_a_real_retention_change_warns_about_existing_backups(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "7d", None)
    assert ("schedule.nightly: retention changes from 720h0m0s (Velero's default) to 168h0m0s; "
            "3 existing backup(s) of this schedule keep their current expiry") in res.out
    res = plan(tmp_path, capsys, monkeypatch, "7d", "336h0m0s")
    assert "retention changes from 336h0m0s to 168h0m0s; 3 existing backup(s)" in res.out


def test_a_zero_ttl_is_velero_default(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "30d", "0s")
    assert "retention written out: 720h0m0s is Velero's default" in res.out
    assert "retention changes" not in res.out

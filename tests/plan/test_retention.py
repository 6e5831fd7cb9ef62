"""Retention changes in the plan: a warning about existing backups, except when nothing really changes."""
from __future__ import annotations

import json

import pytest
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


def plan(tmp_path, capsys, monkeypatch, retention, live_ttl, *args, extra_items=(), server=""):
    from engine.model import build_desired
    from engine.model.manifest import to_manifest
    from engine.spec import load_policy

    policy = write(tmp_path / "p.yaml", POLICY.replace("RETENTION", retention) + server)
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
    items += list(extra_items)
    state = write(tmp_path / "s.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    return run_cli(["plan", "-f", str(policy), "--state", str(state), "--now", NOW, *args], capsys, monkeypatch)


@pytest.mark.parametrize("retention, live_ttl", [
    ("30d", None), ("30d", "0s"),  # Velero reads a zero or missing ttl as its --default-backup-ttl, 720h
    ("30d", "720h"), ("720h0m0s", "720h"), ("720h", "720h0m0s"), ("1h30m", "90m"), ("2w", "336h0m0s"),
])
def test_one_duration_in_two_spellings_is_no_change(tmp_path, capsys, monkeypatch, retention, live_ttl):
    res = plan(tmp_path, capsys, monkeypatch, retention, live_ttl, "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["has_changes"] is False, doc["resource_changes"]
    assert not [w for w in doc["warnings"] if "retention" in w]


def test_a_real_retention_change_warns_about_existing_backups(tmp_path, capsys, monkeypatch):
    res = plan(tmp_path, capsys, monkeypatch, "7d", None)
    assert ("schedule.nightly: retention changes from 720h0m0s (Velero's default) to 168h0m0s; "
            "3 existing backup(s) of this schedule keep their current expiry") in res.out
    res = plan(tmp_path, capsys, monkeypatch, "7d", "336h0m0s")
    assert "retention changes from 336h0m0s to 168h0m0s; 3 existing backup(s)" in res.out
    res = plan(tmp_path, capsys, monkeypatch, "30d", "336h")
    assert "retention changes from 336h0m0s to 720h0m0s; 3 existing backup(s)" in res.out


def test_a_zero_ttl_is_the_servers_default_ttl(tmp_path, capsys, monkeypatch):
    """The velero Deployment's --default-backup-ttl is what a zero ttl means; the policy can say it too."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "velero", "namespace": "velero"},
                  "spec": {"template": {"spec": {"containers": [
                      {"name": "velero", "image": "velero/velero:v1.17.1",
                       "args": ["server", "--default-backup-ttl", "240h"]}]}}}}
    res = plan(tmp_path, capsys, monkeypatch, "30d", "0s", extra_items=[deployment])
    assert ("schedule.nightly: retention changes from 240h0m0s (Velero's default) to 720h0m0s; "
            "3 existing backup(s)") in res.out
    res = plan(tmp_path, capsys, monkeypatch, "10d", "0s", "--json", extra_items=[deployment])
    assert json.loads(res.out)["has_changes"] is False
    res = plan(tmp_path, capsys, monkeypatch, "10d", "0s", "--json", server="veleroServer: {defaultBackupTTL: 240h}")
    assert json.loads(res.out)["has_changes"] is False
    res = plan(tmp_path, capsys, monkeypatch, "10d", "0s")
    assert "retention changes from 720h0m0s (Velero's default) to 240h0m0s" in res.out

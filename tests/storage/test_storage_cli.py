"""`snapplan storage check`: text and --json, exit 1 on any failure, the cluster read only for its Backups."""
from __future__ import annotations

import json

import yaml
from jsonschema import Draft202012Validator

from engine.spec.schema import load_schema
from tests.cluster.s3 import MotoS3
from tests.helpers import run_cli, write

BACKUPS = ("velero.io", "v1", "backups")


def policy_file(tmp_path, s3: MotoS3, **storage_extra) -> str:
    creds = s3.create_credentials()
    write(tmp_path / "creds", creds.shared_credentials_file())
    doc = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"}, "storage": {
        "main": {"type": "s3-compatible", "bucket": "velero", "prefix": "prod", "endpoint": s3.url,
                 "credentials": {"file": "./creds"}, **storage_extra},
        "local": {"type": "hostpath", "path": "/var/lib/snapshots"},
    }}
    return str(write(tmp_path / "policy.yaml", yaml.safe_dump(doc)))


def backup_json(name: str, start: str) -> str:
    return json.dumps({"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": name},
                       "status": {"phase": "Completed", "startTimestamp": start}})


def test_text_report_and_exit_0(s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    s3.put_object("velero", "prod/backups/b1/velero-backup.json", backup_json("b1", "2026-11-20T03:00:00Z"))
    res = run_cli(["storage", "check", "-f", policy_file(tmp_path, s3)], capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    lines = res.out.splitlines()
    assert lines[:3] == ["storage.local (hostpath)", "  not checked: hostpath storage is checked by Velero", ""]
    assert lines[3] == "storage.main (s3-compatible, s3://velero/prod/, region us-east-1)"
    assert lines[4] == f"  ok    endpoint     {s3.url} answers"
    assert lines[5] == f"  ok    credentials  accepted: file {tmp_path / 'creds'} [default]"
    assert lines[6:9] == ["  ok    bucket       velero exists", "  ok    region       us-east-1",
                          "  ok    layout       s3://velero/prod/ holds only Velero's folders (backups)"]
    assert lines[9].startswith("  ok    write probe  wrote and deleted prod/.snapplan-probe-")
    assert lines[10:13] == ["  --    versioning   off (never enabled)", "  --    object lock  off",
                            "  ok    backups      1, newest b1 (2026-11-20T03:00:00Z, Completed)"]
    assert lines[-1] == "Storage check: 0 failed, 1 passed, 1 not checked."
    assert res.err == ""


def test_json_report_and_exit_1_on_a_failure(s3, tmp_path, capsys, monkeypatch):
    res = run_cli(["storage", "check", "main", "-f", policy_file(tmp_path, s3), "--json"], capsys, monkeypatch)
    assert res.code == 1
    doc = json.loads(res.out)
    Draft202012Validator(load_schema("storage-check.schema.json")).validate(doc)
    assert doc["ok"] is False and doc["format_version"] == "1.0"
    [main] = doc["storage"]
    assert (main["name"], main["failed"], main["endpoint"], main["prefix"]) == ("main", True, s3.url, "prod")
    assert [(c["name"], c["status"]) for c in main["checks"]] == \
        [("endpoint", "ok"), ("credentials", "ok"), ("bucket", "failed")]
    assert main["failures"] == [f"storage.main: bucket 'velero' does not exist at {s3.url} (NoSuchBucket): "
                                "create it on the server or fix `bucket`"]
    assert main["backups"] is None


def test_failure_in_text_is_marked_and_counted(s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    s3.put_object("velero", "prod/logs/x", "1")
    res = run_cli(["storage", "check", "-f", policy_file(tmp_path, s3), "--no-write-probe"], capsys, monkeypatch)
    assert res.code == 1
    assert '  FAIL  layout       s3://velero/prod/ holds folders that are not Velero\'s: logs. Velero marks the ' \
           'location Unavailable with "Backup store contains invalid top-level directories: [logs]"' in res.out
    assert "  skip  write probe  skipped (--no-write-probe)" in res.out
    assert res.out.splitlines()[-1] == "Storage check: 1 failed, 0 passed, 1 not checked."


def test_state_file_tells_which_backups_the_cluster_lacks(s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    for name, start in (("a", "2026-11-20T03:00:00Z"), ("b", "2026-11-21T03:00:00Z"), ("c", "2026-11-19T03:00:00Z")):
        s3.put_object("velero", f"prod/backups/{name}/velero-backup.json", backup_json(name, start))
    state = write(tmp_path / "state.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "a", "namespace": "velero"}}]}))
    res = run_cli(["storage", "check", "main", "-f", policy_file(tmp_path, s3), "--state", str(state), "--json"],
                  capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    doc = json.loads(res.out)
    Draft202012Validator(load_schema("storage-check.schema.json")).validate(doc)
    backups = doc["storage"][0]["backups"]
    assert backups["count"] == 3
    assert backups["newest"] == {"name": "b", "time": "2026-11-21T03:00:00Z", "phase": "Completed"}
    assert backups["unknownToCluster"] == ["b", "c"]


def test_live_cluster_is_read_for_its_backups(s3, cluster, kubeconfig, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    s3.put_object("velero", "prod/backups/known/velero-backup.json", backup_json("known", "2026-11-20T03:00:00Z"))
    cluster.store.create(BACKUPS, "velero", {"apiVersion": "velero.io/v1", "kind": "Backup",
                                             "metadata": {"name": "known"}, "spec": {}})
    res = run_cli(["storage", "check", "main", "-f", policy_file(tmp_path, s3), "--kubeconfig", str(kubeconfig)],
                  capsys, monkeypatch)
    assert res.code == 0, res.out + res.err
    assert "  ok    backups      1, newest known (2026-11-20T03:00:00Z, Completed); the cluster has them all" \
        in res.out
    assert cluster.requests.count(verb="list", resource="backups") == 1


def test_unknown_name_and_conflicting_options_are_one_line_errors(s3, tmp_path, capsys, monkeypatch):
    policy = policy_file(tmp_path, s3)
    res = run_cli(["storage", "check", "nope", "-f", policy], capsys, monkeypatch)
    assert res.code == 1
    assert res.err == "Error: no storage named 'nope' in the policy (known: local, main)\n"
    res = run_cli(["storage", "check", "-f", policy, "--state", "s.yaml", "--kubeconfig", "k"], capsys, monkeypatch)
    assert res.code == 1
    assert "give either --state or --kubeconfig/--context, not both" in res.err
    assert "Traceback" not in res.err

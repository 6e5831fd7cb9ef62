"""`snapplan import` as a user runs it: the policy it prints (golden), --json, notes on stderr, -o with CA files."""
from __future__ import annotations

import json

from tests.helpers import EXAMPLES, HARNESS_ENV, applied_state, dump_state, run_cli

HARNESS_STATE = EXAMPLES / "harness" / "cluster-state.yaml"


def _relative(text: str) -> str:
    return text.replace(str(EXAMPLES), "examples")


def test_import_of_the_harness_state(snapshot, capsys, monkeypatch):
    res = run_cli(["import", "--state", str(HARNESS_STATE)], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert _relative(res.out) == snapshot
    assert res.err.splitlines()[-1] == ("Imported policy harness-prod: 2 storage, 0 snapshot location(s), "
                                        "3 schedule(s); 0 not imported")
    assert "note: schedules.legacy-weekly: apply adds snapplan's backup labels to the template" in res.err


def test_json_carries_the_policy_and_the_notes(capsys, monkeypatch):
    res = run_cli(["import", "--json", "--state", str(HARNESS_STATE)], capsys, monkeypatch)
    doc = json.loads(res.out)
    assert doc["name"] == "harness-prod" and doc["restores_not_imported"] == ["harness-rollback"]
    assert sorted(doc["policy"]["schedules"]) == ["legacy-weekly", "nightly-full", "old-hourly"]
    assert [n["entry"] for n in doc["notes"]] == ["schedules.legacy-weekly", "schedules.legacy-weekly",
                                                  "storage.primary"]
    assert doc["policy"]["schedules"]["legacy-weekly"]["backupLabels"] == {"team": "platform"}


def test_output_file_and_its_ca_bundle(tmp_path, capsys, monkeypatch):
    state = dump_state(tmp_path / "state.yaml", applied_state(EXAMPLES / "harness" / "policy.yaml", HARNESS_ENV))
    out = tmp_path / "out" / "imported.yaml"
    out.parent.mkdir()
    res = run_cli(["import", "--state", str(state), "-o", str(out)], capsys, monkeypatch)
    assert res.code == 0 and res.out == ""
    assert "caFile: ./minio-ca.pem" in out.read_text()
    assert f"wrote {out.parent / 'minio-ca.pem'} (a CA bundle the policy names as caFile)" in res.err
    (out.parent / "minio-ca.pem").write_text("someone else's file\n")
    res = run_cli(["import", "--state", str(state), "-o", str(out)], capsys, monkeypatch)
    assert res.code == 1 and "minio-ca.pem exists with other content" in res.err


def test_a_cluster_without_velero_objects_of_snapplan_needs_a_name(capsys, monkeypatch):
    res = run_cli(["import", "--state", str(EXAMPLES / "minimal" / "cluster-state.yaml"), "--name", "Not_Valid"],
                  capsys, monkeypatch)
    assert res.code == 1
    assert res.err == ("Error: --name 'Not_Valid' is not a valid policy name: use lower-case letters, digits and '-' "
                       "(at most 63 characters)\n")


def test_output_into_a_missing_directory_is_one_message_even_with_a_ca_bundle(tmp_path, capsys, monkeypatch):
    state = dump_state(tmp_path / "state.yaml", applied_state(EXAMPLES / "harness" / "policy.yaml", HARNESS_ENV))
    out = tmp_path / "missing" / "imported.yaml"
    res = run_cli(["import", "--state", str(state), "-o", str(out)], capsys, monkeypatch)
    assert res.code == 1
    assert res.err == f"Error: cannot write {out.parent / 'minio-ca.pem'}: No such file or directory\n"


def test_an_empty_state_says_nothing_was_found(tmp_path, capsys, monkeypatch):
    state = tmp_path / "empty.yaml"
    state.write_text("apiVersion: v1\nkind: List\nitems: []\n")
    res = run_cli(["import", "--state", str(state), "--name", "x"], capsys, monkeypatch)
    assert res.code == 0
    assert "Warning: no BackupStorageLocation, VolumeSnapshotLocation or Schedule was found" in res.err

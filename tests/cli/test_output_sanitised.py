"""One output sanitiser for every command's text: escape sequences, carriage returns and bidi overrides from the
cluster, the bucket or a file are shown escaped, never sent to the terminal as they are."""
from __future__ import annotations

import json

import pytest
import yaml

from engine.cli.terminal import Terminal
from tests.helpers import run_cli, seed_backup, write

HOSTILE = "x\x1b[2J\x1b]0;owned\x07\rY\u202eZ\u200b\x9b"
RAW = ("\x1b", "\r", "\x07", "\u202e", "\u200b", "\x9b")
ESCAPED = "x\\x1b[2J\\x1b]0;owned\\x07\\rY\\u202eZ\\u200b\\x9b"


def assert_clean(text: str) -> None:
    for c in RAW:
        assert c not in text, f"{c!r} reached the terminal"
    assert ESCAPED in text


@pytest.fixture
def hostile_backup(cluster):
    backup = seed_backup(cluster.store, "nightly-full-20261124230000", "nightly-full", phase="Failed")
    backup["spec"]["storageLocation"] = HOSTILE
    backup["status"]["failureReason"] = HOSTILE
    backup["status"]["validationErrors"] = [HOSTILE]
    cluster.store.replace(("velero.io", "v1", "backups"), "velero", backup["metadata"]["name"], backup)
    return backup


def test_snapshots_list_and_show_escape_what_the_cluster_says(cluster, kubeconfig, hostile_backup, capsys,
                                                              monkeypatch):
    res = run_cli(["snapshots", "--kubeconfig", str(kubeconfig)], capsys, monkeypatch)
    assert res.code == 0, res.err
    for c in RAW:
        assert c not in res.out + res.err
    assert "x\\x1b[2J" in res.out
    res = run_cli(["snapshots", "show", "nightly-full-20261124230000", "--kubeconfig", str(kubeconfig)],
                  capsys, monkeypatch)
    assert res.code == 0, res.err
    assert_clean(res.out + res.err)
    res = run_cli(["snapshots", "show", "nightly-full-20261124230000", "--json", "--kubeconfig", str(kubeconfig)],
                  capsys, monkeypatch)
    assert json.loads(res.out)["failure_reason"] == HOSTILE  # JSON keeps the value; its encoding escapes it


def test_audit_escapes_a_location_message(tmp_path, capsys, monkeypatch):
    policy = write(tmp_path / "policy.yaml", yaml.safe_dump({
        "apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"},
        "storage": {"main": {"type": "aws", "default": True, "bucket": "velero", "region": "us-east-1",
                             "credentials": {"secretRef": {"name": "cloud"}}}}}))
    bsl = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
           "metadata": {"name": "main", "namespace": "velero", "resourceVersion": "1"},
           "spec": {"provider": "aws", "objectStorage": {"bucket": "velero"}},
           "status": {"phase": "Unavailable", "message": HOSTILE}}
    state = write(tmp_path / "state.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [bsl]}))
    res = run_cli(["audit", "-f", str(policy), "--state", str(state)], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert_clean(res.out + res.err)


def test_storage_check_escapes_s3_keys(s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    s3.put_object("velero", f"prod/{HOSTILE}/file", "x")
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    policy = write(tmp_path / "policy.yaml", yaml.safe_dump({
        "apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": "p"},
        "storage": {"main": {"type": "s3-compatible", "bucket": "velero", "prefix": "prod", "endpoint": s3.url,
                             "credentials": {"file": "./creds"}}}}))
    res = run_cli(["storage", "check", "-f", str(policy), "--no-write-probe"], capsys, monkeypatch)
    assert res.code == 1, res.out + res.err  # folders that are not Velero's: the layout check fails
    assert_clean(res.out + res.err)


def test_errors_are_escaped_too(tmp_path, capsys, monkeypatch):
    from engine.cli.failures import report_error
    from engine.errors import SnapplanError

    report_error(SnapplanError(f"the server said: {HOSTILE}"))
    assert_clean(capsys.readouterr().err)


def test_only_snapplans_own_colors_reach_a_color_terminal(monkeypatch, capsys):
    term = Terminal()
    term.color_out = True
    term.out(f"\x1b[32m+ create\x1b[0m {HOSTILE} \x1b[8mhidden\x1b[0m")
    out = capsys.readouterr().out
    assert out.startswith("\x1b[32m+ create\x1b[0m ")  # ours
    assert ESCAPED in out and "\\x1b[8mhidden" in out  # theirs, escaped (8 would conceal text)

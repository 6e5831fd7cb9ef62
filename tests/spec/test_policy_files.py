"""Files a policy names (credentials.file, caFile) must stay in the policy's directory tree: resolved, symlinks
followed; anything else is an error at FILE:LINE:COL unless the person running snapplan allows the directory."""
from __future__ import annotations

import os

import pytest

from engine.spec.load import _display
from tests.helpers import run_cli, write

POLICY = """apiVersion: snapplan/v1
kind: BackupPolicy
metadata:
  name: p
storage:
  s3:
    type: s3-compatible
    default: true
    bucket: b-one
    endpoint: https://minio.example:9000
    caFile: {ca}
    credentials:
      file: {creds}
"""
CREDS_LINE, CREDS_COL = 13, 13
CA_LINE, CA_COL = 11, 13


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "repo" / "backup"
    write(root / "aws-credentials", "[default]\naws_access_key_id=AKIAINSIDE\naws_secret_access_key=inside\n")
    write(root / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    write(tmp_path / "outside-credentials", "[default]\naws_access_key_id=AKIAOUTSIDE\n")
    return root


def validate(tree, capsys, monkeypatch, creds="./aws-credentials", ca="./ca.pem", env=None):
    path = write(tree / "policy.yaml", POLICY.format(creds=creds, ca=ca))
    return path, run_cli(["validate", "-f", str(path)], capsys, monkeypatch, env=env)


def test_files_inside_the_policy_tree_are_read(tree, capsys, monkeypatch):
    (tree / "sub").mkdir()
    os.symlink(tree / "aws-credentials", tree / "sub" / "link")  # a symlink that stays inside
    _, res = validate(tree, capsys, monkeypatch, creds="sub/link")
    assert res.code == 0, res.err


@pytest.mark.parametrize("creds", ["/etc/passwd", "../../../../../../../../etc/passwd", "/proc/self/environ",
                                   "../outside-credentials", "~/.aws/credentials"])
def test_a_file_outside_the_policy_tree_is_refused_at_its_position(tree, capsys, monkeypatch, creds):
    path, res = validate(tree, capsys, monkeypatch, creds=creds)
    assert res.code == 1, res.err
    assert f"{_display(path)}:{CREDS_LINE}:{CREDS_COL}: storage.s3.credentials.file: credentials file " in res.err
    assert f"is outside the policy's directory {tree.resolve()}" in res.err
    assert "SNAPPLAN_FILE_ROOTS=" in res.err


def test_a_symlink_out_of_the_tree_is_refused(tree, capsys, monkeypatch, tmp_path):
    os.symlink(tmp_path / "outside-credentials", tree / "creds-link")
    path, res = validate(tree, capsys, monkeypatch, creds="./creds-link")
    assert res.code == 1, res.err
    assert f"{_display(path)}:{CREDS_LINE}:{CREDS_COL}: storage.s3.credentials.file:" in res.err
    assert f"(it resolves to {tmp_path.resolve() / 'outside-credentials'})" in res.err


def test_a_ca_file_outside_the_tree_is_refused(tree, capsys, monkeypatch):
    path, res = validate(tree, capsys, monkeypatch, ca="/etc/hostname")
    assert res.code == 1, res.err
    assert f"{_display(path)}:{CA_LINE}:{CA_COL}: storage.s3.caFile: caFile '/etc/hostname' is outside" in res.err


def test_plan_never_ships_an_outside_file_to_the_cluster(tree, capsys, monkeypatch, tmp_path):
    path = write(tree / "policy.yaml", POLICY.format(creds="/etc/passwd", ca="./ca.pem"))
    state = write(tmp_path / "state.yaml", "apiVersion: v1\nkind: List\nitems: []\n")
    res = run_cli(["plan", "-f", str(path), "--state", str(state), "--json"], capsys, monkeypatch)
    assert res.code == 1 and "is outside the policy's directory" in res.err
    assert res.out == ""


def test_a_directory_allowed_by_the_operator_may_be_read(tree, capsys, monkeypatch, tmp_path):
    _, res = validate(tree, capsys, monkeypatch, creds="../../outside-credentials",
                      env={"SNAPPLAN_FILE_ROOTS": f"/nonexistent{os.pathsep}{tmp_path}"})
    assert res.code == 0, res.err

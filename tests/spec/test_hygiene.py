"""Names that hide characters are refused at FILE:LINE:COL; insecureSkipTLSVerify is warned about by validate,
plan and storage check."""
from __future__ import annotations

import pytest

from engine.spec.load import _display
from tests.helpers import run_cli, write

POLICY = """apiVersion: snapplan/v1
kind: BackupPolicy
metadata:
  name: p
storage:
  minio:
    type: s3-compatible
    default: true
    bucket: "{bucket}"
    region: "{region}"
    endpoint: https://minio.example:9000
    config: {{insecureSkipTLSVerify: "{skip}"}}
"""
BUCKET_AT, REGION_AT, SKIP_AT = "9:13", "10:13", "12:37"


def policy(tmp_path, bucket="velero", region="minio", skip="false"):
    return write(tmp_path / "policy.yaml", POLICY.format(bucket=bucket, region=region, skip=skip))


@pytest.mark.parametrize("field,value,char", [
    ("bucket", "velero\\u200b", "U+200B (ZERO WIDTH SPACE) at character 7"),
    ("bucket", "\\u202eorelev", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 1"),
    ("region", "us-east-1\\u200b", "U+200B (ZERO WIDTH SPACE) at character 10"),
    ("region", "us-\\u202e1-tsae", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 4"),
    ("bucket", "vel\\x1b[2Jero", "U+001B (a control character) at character 4"),
])
def test_hidden_characters_in_bucket_and_region_are_refused_at_their_position(tmp_path, capsys, monkeypatch,
                                                                             field, value, char):
    path = policy(tmp_path, **{field: value})
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 1, res.err
    at = BUCKET_AT if field == "bucket" else REGION_AT
    assert f"{_display(path)}:{at}: storage.minio.{field}: {field} " in res.err
    assert f"holds {char}: an invisible or control character" in res.err
    assert "\u200b" not in res.err and "\u202e" not in res.err and "\x1b" not in res.err  # shown escaped


@pytest.mark.parametrize("value", ["true", "True", "1", "t"])
def test_insecure_skip_tls_verify_is_warned_about_by_validate_and_plan(tmp_path, capsys, monkeypatch, value):
    path = policy(tmp_path, skip=value)
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 0, res.err
    warning = (f"{_display(path)}:{SKIP_AT}: warning: storage.minio.config.insecureSkipTLSVerify: TLS certificates of "
               "https://minio.example:9000 are not verified (insecureSkipTLSVerify)")
    assert warning in res.out + res.err
    state = write(tmp_path / "state.yaml", "apiVersion: v1\nkind: List\nitems: []\n")
    res = run_cli(["plan", "-f", str(path), "--state", str(state)], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert f"Warning: {warning}" in res.err and "set `caFile`" in res.err


def test_verified_tls_is_not_warned_about(tmp_path, capsys, monkeypatch):
    res = run_cli(["validate", "-f", str(policy(tmp_path, skip="false"))], capsys, monkeypatch)
    assert res.code == 0 and "insecureSkipTLSVerify" not in res.out + res.err

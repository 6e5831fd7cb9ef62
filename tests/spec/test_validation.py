"""`snapplan validate`: every error at once, each with FILE:LINE:COL, never a traceback."""
from __future__ import annotations

import pytest

from tests.helpers import EXAMPLES, run_cli, write

HEADER = "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata:\n  name: p\n"
STORAGE = """storage:
  s3:
    type: aws
    default: true
    bucket: b-one
    region: us-east-1
"""


def validate(tmp_path, capsys, monkeypatch, text: str, name="policy.yaml", env=None):
    path = write(tmp_path / name, text)
    return run_cli(["validate", "-f", str(path)], capsys, monkeypatch, env=env)


def test_examples_are_valid(capsys, monkeypatch):
    for example in ("harness", "minimal"):
        res = run_cli(["validate", "-f", str(EXAMPLES / example / "policy.yaml")], capsys, monkeypatch)
        assert res.code == 0, res.err
        assert "valid" in res.out


def test_all_errors_reported_at_once_with_positions(tmp_path, capsys, monkeypatch):
    text = HEADER + STORAGE + """schedules:
  a:
    scope: application
    schedule: "61 * * * *"
    retention: 3x
    timezone: Mars/Base
    colour: blue
"""
    res = validate(tmp_path, capsys, monkeypatch, text)
    assert res.code == 1
    lines = res.err.splitlines()
    f = str(tmp_path / "policy.yaml")
    expected = [
        f"{f}:13:12: schedules.a.scope: scope application needs `app:`",
        f"{f}:14:15: schedules.a.schedule: cron '61 * * * *': minute field '61' is out of range (0-59)",
        f"{f}:15:16: schedules.a.retention: '3x' is not valid here (use e.g. 30d, 2w, 36h or 1h30m)",
        f"{f}:16:15: schedules.a.timezone: unknown timezone 'Mars/Base': use an IANA name such as Europe/Berlin",
    ]
    for line in expected:
        assert line in lines, res.err
    assert any(l.startswith(f"{f}:17:5: schedules.a.colour: unknown field 'colour'") for l in lines)
    assert "Traceback" not in res.err
    assert "5 error(s)" in res.err


def test_duplicate_keys_are_errors(tmp_path, capsys, monkeypatch):
    text = HEADER + STORAGE + "  s3:\n    type: gcp\n    bucket: other\n"
    res = validate(tmp_path, capsys, monkeypatch, text)
    assert res.code == 1
    assert f"{tmp_path / 'policy.yaml'}:11:3: storage.s3: duplicate key 's3' (first defined at line 6)" in res.err


def test_yaml_syntax_error_has_position(tmp_path, capsys, monkeypatch):
    res = validate(tmp_path, capsys, monkeypatch, HEADER + "storage: [a\n  b: c\n")
    assert res.code == 1
    assert f"{tmp_path / 'policy.yaml'}:6:4: YAML syntax error" in res.err


@pytest.mark.parametrize("snippet, message, line", [
    ("schedules:\n  a: {scope: full, schedule: daily, storage: nope}\n",
     "schedules.a.storage: unknown storage 'nope' (known: s3)", 12),
    ("schedules:\n  a: {scope: application, app: ghost, schedule: daily}\n",
     "schedules.a.app: unknown app 'ghost' (none are defined)", 12),
    ("schedules:\n  a: {scope: full, schedule: '* * *'}\n",
     "cron '* * *' has 3 fields; expected 5", 12),
    ("restores:\n  r: {from: {schedule: ghost}, scope: full}\n",
     "restores.r.from.schedule: unknown schedule 'ghost' (none are defined)", 12),
    ("restores:\n  r: {from: {schedule: a, backup: b}, scope: full}\n",
     "restores.r.from: give exactly one of schedule, backup", 12),
    ("  two:\n    type: aws\n    default: true\n    bucket: b-two\n    region: eu-west-1\n",
     "storage.two.default: more than one default storage (s3, two)", 13),
    ("  two:\n    type: aws\n    bucket: b-one\n    region: eu-west-1\n",
     "storage.two.bucket: bucket 'b-one' prefix '(none)' overlaps storage 's3'", 13),
    ("  box:\n    type: hostpath\n    path: /x\n    credentials: {file: ./c}\n",
     "storage.box.credentials: hostpath storage takes no credentials", 14),
    ("  az:\n    type: azure\n    bucket: cont\n",
     "storage.az: missing required field 'storageAccount'", 12),
])
def test_semantic_and_schema_errors(tmp_path, capsys, monkeypatch, snippet, message, line):
    res = validate(tmp_path, capsys, monkeypatch, HEADER + STORAGE + snippet)
    assert res.code == 1
    assert message in res.err, res.err
    assert f"policy.yaml:{line}:" in res.err.split(message)[0].splitlines()[-1]


def test_missing_credential_sources_warn_at_validate_and_fail_at_plan(tmp_path, capsys, monkeypatch):
    text = HEADER + """storage:
  s3:
    type: aws
    default: true
    bucket: b-one
    region: us-east-1
    credentials: {env: {accessKeyId: SNAPPLAN_TEST_NOPE_ID, secretAccessKey: SNAPPLAN_TEST_NOPE_KEY}}
"""
    monkeypatch.delenv("SNAPPLAN_TEST_NOPE_ID", raising=False)
    res = validate(tmp_path, capsys, monkeypatch, text)
    assert res.code == 0
    assert "warning: storage.s3.credentials.env.accessKeyId: environment variable SNAPPLAN_TEST_NOPE_ID is not set" \
        in res.err
    state = write(tmp_path / "state.yaml", "kind: List\nitems: []\n")
    res = run_cli(["plan", "-f", str(tmp_path / "policy.yaml"), "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1
    assert f"{tmp_path / 'policy.yaml'}:11:38: storage.s3.credentials.env.accessKeyId: environment variable " \
           "SNAPPLAN_TEST_NOPE_ID is not set" in res.err
    assert "warning:" not in res.err


def test_non_utf8_and_empty_and_missing_file(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(HEADER.encode() + b"storage: {\xff: 1}\n")
    res = run_cli(["validate", "-f", str(bad)], capsys, monkeypatch)
    assert res.code == 1 and f"{bad}:5:1: file is not valid UTF-8" in res.err
    res = validate(tmp_path, capsys, monkeypatch, "", name="empty.yaml")
    assert res.code == 1 and "the policy is empty" in res.err
    res = run_cli(["validate", "-f", str(tmp_path / "nope.yaml")], capsys, monkeypatch)
    assert res.code == 1 and "no such file or directory" in res.err


def test_alias_bomb_is_refused(tmp_path, capsys, monkeypatch):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    res = validate(tmp_path, capsys, monkeypatch, HEADER + "\n".join(lines) + "\n")
    assert res.code == 1
    assert "alias bomb" in res.err


def test_directory_of_files_merges_and_reports_collisions(tmp_path, capsys, monkeypatch):
    write(tmp_path / "pol" / "a.yaml", HEADER + STORAGE)
    write(tmp_path / "pol" / "b.yaml", HEADER + "schedules:\n  n: {scope: full, schedule: daily}\n")
    res = run_cli(["validate", "-f", str(tmp_path / "pol")], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "1 storage, 1 schedules" in res.out
    write(tmp_path / "pol" / "c.yaml", HEADER + "schedules:\n  n: {scope: full, schedule: hourly}\n")
    res = run_cli(["validate", "-f", str(tmp_path / "pol")], capsys, monkeypatch)
    assert res.code == 1
    assert "c.yaml:6:3: schedules.n: schedules entry 'n' is already defined at" in res.err
    assert "b.yaml:6:3" in res.err


def test_validate_json(tmp_path, capsys, monkeypatch):
    import json

    path = write(tmp_path / "p.yaml", HEADER + STORAGE + "schedules:\n  a: {scope: full, schedule: '0 25 * * *'}\n")
    res = run_cli(["validate", "-f", str(path), "--json"], capsys, monkeypatch)
    assert res.code == 1
    doc = json.loads(res.out)
    assert doc["valid"] is False
    assert doc["diagnostics"] == [{"severity": "error", "file": str(path), "line": 12, "col": 30,
                                   "path": "schedules.a.schedule",
                                   "message": "cron '0 25 * * *': hour field '25' is out of range (0-23)"}]


def test_storage_without_type_is_one_error(tmp_path, capsys, monkeypatch):
    from tests.helpers import run_cli

    path = tmp_path / "p.yaml"
    path.write_text("apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata: {name: x}\nstorage:\n  s: {bucket: abc}\n")
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 1
    assert res.err.splitlines() == [f"{path}:5:6: storage.s: missing required field 'type'", "1 error(s) in the policy."]

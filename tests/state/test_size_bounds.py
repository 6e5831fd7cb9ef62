"""Input size is bounded before parsing: a state file or policy past its bound is one clear error naming the
limit and the variable that raises it (a 500 MB YAML state once ran 12 minutes and took 9 GB)."""
from __future__ import annotations

import os

import yaml

from engine.spec.load import _display
from tests.helpers import EXAMPLES, HARNESS_ENV, run_cli, write

POLICY = str(EXAMPLES / "minimal" / "policy.yaml")
MIB = 2**20


def sparse(path, head: bytes, size: int):
    path.write_bytes(head)
    os.truncate(path, size)  # no disk, no time: the reader must refuse it from its size
    return path


def test_a_huge_yaml_state_file_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    state = sparse(tmp_path / "state.yaml", b"apiVersion: v1\nkind: List\nitems:\n", 500 * MIB)
    res = run_cli(["plan", "-f", POLICY, "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1
    assert (f"Error: {state} is 500 MiB, more than the 64 MiB snapplan reads from a YAML state file" in res.err)
    assert "SNAPPLAN_MAX_STATE_MIB=501" in res.err and "-o json" in res.err


def test_a_huge_json_state_file_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    state = sparse(tmp_path / "state.json", b'{"apiVersion": "v1", "kind": "List", "items": [', 300 * MIB)
    res = run_cli(["audit", "-f", POLICY, "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1
    assert f"{state} is 300 MiB, more than the 256 MiB snapplan reads from a JSON state file" in res.err


def test_an_endless_state_file_is_read_only_up_to_the_bound(capsys, monkeypatch):
    monkeypatch.setenv("SNAPPLAN_MAX_STATE_MIB", "2")
    res = run_cli(["plan", "-f", POLICY, "--state", "/dev/zero"], capsys, monkeypatch)
    assert res.code == 1
    assert "/dev/zero is larger, more than the 2 MiB snapplan reads" in res.err


def test_the_state_bound_is_raised_with_its_variable(tmp_path, capsys, monkeypatch):
    doc = yaml.safe_load((EXAMPLES / "minimal" / "cluster-state.yaml").read_text())
    state = write(tmp_path / "state.yaml", "# " + "x" * (2 * MIB) + "\n" + yaml.safe_dump(doc))
    monkeypatch.setenv("SNAPPLAN_MAX_STATE_MIB", "1")
    res = run_cli(["plan", "-f", POLICY, "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1 and "more than the 1 MiB" in res.err and "SNAPPLAN_MAX_STATE_MIB=" in res.err
    monkeypatch.setenv("SNAPPLAN_MAX_STATE_MIB", "3")
    res = run_cli(["plan", "-f", POLICY, "--state", str(state)], capsys, monkeypatch)
    assert res.code == 0, res.err
    monkeypatch.setenv("SNAPPLAN_MAX_STATE_MIB", "lots")
    res = run_cli(["plan", "-f", POLICY, "--state", str(state)], capsys, monkeypatch)
    assert res.code == 1 and "SNAPPLAN_MAX_STATE_MIB='lots' is not a size" in res.err


def test_the_policy_bound_names_its_variable_and_is_raised_with_it(tmp_path, capsys, monkeypatch):
    text = (EXAMPLES / "minimal" / "policy.yaml").read_text()
    policy = write(tmp_path / "policy.yaml", "# " + "x" * (3 * MIB // 2) + "\n" + text)
    res = run_cli(["validate", "-f", str(policy)], capsys, monkeypatch)
    assert res.code == 1
    assert f"{_display(policy)}:1:1: the file is 1.5 MiB, more than the 1 MiB snapplan reads from a policy file" in res.err
    assert "SNAPPLAN_MAX_POLICY_MIB=" in res.err
    monkeypatch.setenv("SNAPPLAN_MAX_POLICY_MIB", "2")
    res = run_cli(["validate", "-f", str(policy)], capsys, monkeypatch)
    assert res.code == 0, res.err

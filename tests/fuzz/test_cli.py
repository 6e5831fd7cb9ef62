"""Hostile input through the CLI, in-process (tests/helpers.py run_cli): `snapplan validate -f` and
`snapplan plan -f ... --state ...` exit 0, 1 or 2, never print a traceback, and say where each error is."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import given

import engine.cli.failures
from tests.fuzz.budget import fuzz
from tests.fuzz.checks import check_cli, check_json_diagnostics
from tests.fuzz.figures import bounded, note
from tests.fuzz.strategies import dump, hostile_yaml, odd_policies, policies, state_files
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, run_cli

STATE = EXAMPLES / "harness" / "cluster-state.yaml"
POLICY = EXAMPLES / "harness" / "policy.yaml"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The harness' credential files beside the policy; a crash fails the example with its traceback (main()
    would turn it into "Internal error" and a log file)."""
    for name in ("aws-credentials", "minio-ca.pem"):
        shutil.copy(EXAMPLES / "harness" / name, tmp_path / name)

    def crash(exc):
        raise AssertionError("snapplan crashed: a bug, not a clear error") from exc

    monkeypatch.setattr(engine.cli.failures, "report_bug", crash)
    return tmp_path


@pytest.fixture(scope="module", autouse=True)
def warm():
    """Load what the first command imports (schemas, CRDs) before examples are timed."""
    from engine.planner import plan_from_files

    plan_from_files(POLICY, STATE, env=HARNESS_ENV, now=NOW)


def _outcome(res) -> str:
    return {0: "exit 0", 1: "exit 1", 2: "exit 2"}.get(res.code, f"exit {res.code}")


@fuzz(150)
@given(data=hostile_yaml())
def test_validate_hostile_yaml(data, workdir, capsys, monkeypatch):
    policy = workdir / "policy.yaml"
    policy.write_bytes(data)
    name = "cli: validate hostile YAML"
    with bounded(name):
        res = run_cli(["validate", "-f", str(policy)], capsys, monkeypatch)
    check_cli(res, policy)
    note(name, _outcome(res))


@fuzz(150)
@given(doc=odd_policies | policies, as_json=...)
def test_validate_generated_policy(doc, as_json: bool, workdir, capsys, monkeypatch):
    policy = workdir / "policy.yaml"
    policy.write_text(dump(doc))
    name = "cli: validate generated policy"
    with bounded(name):
        res = run_cli(["validate", "-f", str(policy), *(["--json"] if as_json else [])], capsys, monkeypatch)
    check_cli(res, policy)
    if as_json:
        check_json_diagnostics(res, policy)
    note(name, _outcome(res))


@fuzz(150)
@given(doc=policies, as_json=...)
def test_plan_generated_policy_against_harness_state(doc, as_json: bool, workdir, capsys, monkeypatch):
    policy = workdir / "policy.yaml"
    policy.write_text(dump(doc))
    name = "cli: plan generated policy --state harness"
    with bounded(name):
        res = run_cli(["plan", "-f", str(policy), "--state", str(STATE), "--now", NOW,
                       *(["--json"] if as_json else []), "--detailed-exitcode"], capsys, monkeypatch, env=HARNESS_ENV)
    check_cli(res, policy, STATE)
    note(name, _outcome(res))


@fuzz(150)
@given(state=state_files())
def test_plan_harness_policy_against_hostile_state(state, workdir, capsys, monkeypatch):
    data, _ = state
    path = workdir / "cluster-state.yaml"
    path.write_bytes(data)
    policy = workdir / "policy.yaml"
    shutil.copy(POLICY, policy)
    name = "cli: plan harness policy --state hostile"
    with bounded(name):
        res = run_cli(["plan", "-f", str(policy), "--state", str(path), "--now", NOW], capsys, monkeypatch,
                      env=HARNESS_ENV)
    check_cli(res, policy, path)
    if res.code == 1 and "Error: the plan cannot be made:" not in res.err:
        assert res.err.startswith(f"Error: {path}"), res.err[:500]  # a state problem names the state file first
    note(name, _outcome(res))

"""`snapplan plan` as a user runs it: golden text and JSON plans of the examples, exit codes, flags."""
from __future__ import annotations

import json

import pytest

from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, applied_state, dump_state, run_cli

HARNESS = ["-f", str(EXAMPLES / "harness" / "policy.yaml"), "--state",
           str(EXAMPLES / "harness" / "cluster-state.yaml"), "--now", NOW]
MINIMAL = ["-f", str(EXAMPLES / "minimal" / "policy.yaml"), "--state",
           str(EXAMPLES / "minimal" / "cluster-state.yaml"), "--now", NOW]


def _relative(text: str) -> str:
    return text.replace(str(EXAMPLES), "examples")


@pytest.mark.parametrize("name, args", [("harness", HARNESS), ("minimal", MINIMAL)])
def test_text_plan_of_examples(name, args, snapshot, capsys, monkeypatch):
    res = run_cli(["plan", *args], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    assert _relative(res.out) == snapshot


@pytest.mark.parametrize("name, args", [("harness", HARNESS), ("minimal", MINIMAL)])
def test_json_plan_of_examples(name, args, snapshot, capsys, monkeypatch):
    res = run_cli(["plan", "--json", *args], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    doc = json.loads(_relative(res.out))
    assert doc == snapshot
    from jsonschema import Draft202012Validator

    from engine.spec.schema import load_schema

    Draft202012Validator(load_schema("plan.schema.json")).validate(doc)


def test_harness_plan_says_what_matters(capsys, monkeypatch):
    res = run_cli(["plan", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    out = res.out
    assert "~ spec.config.region               = \"us-west-2\" -> \"us-east-1\"" in out
    assert "- spec.config.serverSideEncryption = \"AES256\" -> null" in out  # removed from the policy
    assert "14 existing backup(s) of this schedule keep their current expiry" in out
    assert "restore.harness-rollback: already ran: phase Completed" in out
    assert "schedule.old-hourly: would be removed with --prune" in out
    assert "schedule.legacy-weekly" in out.split("Not managed by snapplan")[1]
    assert "first backup: 2026-11-25 08:15 UTC (in 0h 15m)" in out
    assert out.rstrip().endswith("Plan: 4 to add, 2 to change, 0 to destroy.")
    assert "skipImmediately" not in out.split("# schedule.nightly-full")[1].split("#")[0]


def test_no_secret_value_in_any_output(capsys, monkeypatch):
    secrets = ["fakeSecretKeyForTheHarnessDemoOnly000001", HARNESS_ENV["MINIO_SECRET_KEY"],
               HARNESS_ENV["MINIO_ACCESS_KEY"], "AKIAFAKEHARNESS00001", "fakeLegacySecret"]
    for extra in ([], ["--json"]):
        res = run_cli(["plan", *extra, *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
        for s in secrets:
            assert s not in res.out and s not in res.err


def test_detailed_exitcode(tmp_path, capsys, monkeypatch):
    res = run_cli(["plan", "--detailed-exitcode", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 2
    policy = EXAMPLES / "harness" / "policy.yaml"
    state = dump_state(tmp_path / "applied.yaml", applied_state(policy, HARNESS_ENV))
    res = run_cli(["plan", "--detailed-exitcode", "-f", str(policy), "--state", str(state), "--now", NOW],
                  capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.out + res.err
    assert "No changes." in res.out
    res = run_cli(["plan", "--detailed-exitcode", "-f", str(policy), "--state", str(tmp_path / "nope.yaml")],
                  capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1 and "state file not found" in res.err


def test_idempotent_for_every_example(tmp_path, capsys, monkeypatch):
    for example in ("harness", "minimal"):
        policy = EXAMPLES / example / "policy.yaml"
        state = dump_state(tmp_path / f"{example}.yaml", applied_state(policy, HARNESS_ENV))
        res = run_cli(["plan", "--json", "-f", str(policy), "--state", str(state), "--now", NOW],
                      capsys, monkeypatch, env=HARNESS_ENV)
        doc = json.loads(res.out)
        assert doc["has_changes"] is False
        assert doc["summary"] == {"add": 0, "change": 0, "destroy": 0}


def test_target_plans_a_subset_plus_what_it_needs(capsys, monkeypatch):
    res = run_cli(["plan", "--json", "--target", "schedule.harness-hourly", *HARNESS], capsys, monkeypatch,
                  env=HARNESS_ENV)
    doc = json.loads(res.out)
    acting = [r["address"] for r in doc["resource_changes"] if r["action"] != "no-op"]
    assert acting == ["bsl.primary", "schedule.harness-hourly"]
    assert doc["resource_changes"][1]["depends_on"] == ["bsl.primary"]
    res = run_cli(["plan", "--target", "schedule.nope", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1 and "--target schedule.nope: no such object" in res.err
    res = run_cli(["plan", "--target", "cronjob.x", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1 and "invalid address 'cronjob.x'" in res.err


def test_prune_deletes_managed_leftovers_but_never_protected_or_unmanaged(capsys, monkeypatch):
    res = run_cli(["plan", "--json", "--prune", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    doc = json.loads(res.out)
    deletes = [r["address"] for r in doc["resource_changes"] if r["action"] == "delete"]
    assert deletes == ["schedule.old-hourly"]
    assert doc["summary"]["destroy"] == 1
    assert doc["unmanaged"] == ["bsl.default", "schedule.legacy-weekly"]


def test_colors_only_on_a_tty_and_never_with_no_color(capsys, monkeypatch):
    res = run_cli(["plan", *MINIMAL], capsys, monkeypatch)
    assert "\x1b[" not in res.out


def test_usage_error_exits_1_not_2(capsys, monkeypatch):
    res = run_cli(["plan", "--detailed-exitcode"], capsys, monkeypatch)
    assert res.code == 1
    assert "Missing option" in res.err

"""Editors and pre-commit: the hook this repository offers, the example config using it, and the
yaml-language-server schema line in every example policy."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from tests.ci.commands import check_call
from tests.helpers import EXAMPLES, HARNESS_ENV, ROOT, run_cli

SCHEMAS = Path(__file__).parent / "schemas"
LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


def _errors(doc, schema: str) -> list[str]:
    validator = Draft7Validator(json.loads((SCHEMAS / schema).read_text()))
    return [e.message for e in validator.iter_errors(doc)]


def test_pre_commit_hook_and_example_config_are_valid():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load((EXAMPLES / "ci" / "pre-commit-config.yaml").read_text())
    assert _errors(hooks, "pre-commit-hooks.json") == []
    assert _errors(config, "pre-commit-config.json") == []
    assert _errors([{"id": "x", "entry": "snapplan validate"}], "pre-commit-hooks.json")  # name, language missing
    ids = {h["id"] for h in hooks}
    used = [h for repo in config["repos"] for h in repo["hooks"]]
    assert {h["id"] for h in used} <= ids


def test_the_hook_runs_snapplan_validate_with_the_configured_args(capsys, monkeypatch):
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
                if h["id"] == "snapplan-validate")
    example = next(h for repo in yaml.safe_load((EXAMPLES / "ci" / "pre-commit-config.yaml").read_text())["repos"]
                   for h in repo["hooks"] if h["id"] == "snapplan-validate")
    words = shlex.split(hook["entry"])
    assert words[0] == "snapplan" and hook["pass_filenames"] is False  # a policy may span files: check it whole
    assert check_call(words[1:] + example["args"]) == []
    # as pre-commit runs it, with the path pointed at an example: exit 0 for a good policy, 1 for a bad one
    args = words[1:] + ["-f", str(EXAMPLES / "harness" / "policy.yaml")]
    assert run_cli(args, capsys, monkeypatch, env=HARNESS_ENV).code == 0


def test_a_bad_policy_fails_the_hook(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "policy.yaml"
    bad.write_text("apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata: {name: x}\nschedules: {a: {scope: nope}}\n")
    res = run_cli(["validate", "-f", str(bad)], capsys, monkeypatch)
    assert res.code == 1 and "policy.yaml:4:24: schedules.a.scope: 'nope' is not one of full, application" in res.err


def test_every_example_policy_names_the_schema_for_editors():
    policies = sorted(EXAMPLES.glob("*/policy.yaml"))
    assert len(policies) >= 2
    for policy in policies:
        text = policy.read_text()
        m = LINE.search(text)
        assert m, f"{policy} has no yaml-language-server line"
        target = (policy.parent / m.group(1)).resolve()
        assert target == ROOT / "schemas" / "policy.schema.json", policy
        if "${" in text:
            continue  # a fleet's base policy: valid once `snapplan render` has filled in its variables
        schema = json.loads(target.read_text())
        assert list(Draft202012Validator(schema).iter_errors(yaml.safe_load(text))) == []

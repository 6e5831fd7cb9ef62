"""`snapplan fleet matrix` and the example CI workflows that use it."""
from __future__ import annotations

import json
import re
import shlex

import typer
import yaml

from engine.cli.app import app
from tests.helpers import EXAMPLES, ROOT, run_cli

FLEET = str(EXAMPLES / "fleet" / "fleet.yaml")


def test_github_matrix_is_one_line_of_json_with_every_cluster(capsys, monkeypatch):
    r = run_cli(["fleet", "matrix", "--fleet", FLEET], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert r.out.count("\n") == 1  # one line: echo "matrix=$(...)" >> $GITHUB_OUTPUT
    doc = json.loads(r.out)
    assert doc == {"include": [
        {"cluster": "prod-eu", "context": "prod-eu", "region": "eu-central-1", "labels": {"env": "prod", "geo": "eu"}},
        {"cluster": "prod-us", "context": "prod-us", "region": "us-east-1", "labels": {"env": "prod", "geo": "us"}},
        {"cluster": "staging", "context": "staging", "region": "us-east-1", "labels": {"env": "staging", "geo": "us"}},
    ]}


def test_matrix_selector_and_gitlab_child_pipeline(capsys, monkeypatch):
    r = run_cli(["fleet", "matrix", "--fleet", FLEET, "--selector", "geo=us", "--format", "gitlab"], capsys,
                monkeypatch)
    assert r.code == 0, r.err
    pipeline = yaml.safe_load(r.out)  # GitLab reads the JSON as YAML
    assert pipeline["include"] == [{"local": "ci/snapplan-cluster.yml"}]
    assert pipeline["cluster:prod-us"] == {"extends": ".snapplan-cluster", "variables": {
        "SNAPPLAN_FLEET": FLEET, "SNAPPLAN_CLUSTER": "prod-us", "SNAPPLAN_REGION": "us-east-1"}}
    assert set(pipeline) == {"include", "cluster:prod-us", "cluster:staging"}


def test_matrix_errors_are_one_line(capsys, monkeypatch, tmp_path):
    r = run_cli(["fleet", "matrix", "--fleet", FLEET, "--format", "jenkins"], capsys, monkeypatch)
    assert r.code == 1 and "'jenkins' is not one of github, gitlab" in r.err
    bad = tmp_path / "fleet.yaml"
    bad.write_text("apiVersion: snapplan/v1\nkind: Fleet\nclusters: {}\n")
    r = run_cli(["fleet", "matrix", "--fleet", str(bad)], capsys, monkeypatch)
    assert r.code == 1 and "missing required field 'policy'" in r.err and "Traceback" not in r.err


# a command starts a line (a YAML list item, or a commented-out template line) or follows $( or ;
COMMAND = re.compile(r"(?:^[ \t#]*(?:- )?|\$\(|; )snapplan ((?:fleet matrix|plan|apply|audit|render)\b[^\n;|)>]*)", re.M)


def _commands(text: str) -> list[list[str]]:
    """Every `snapplan ...` command of a workflow file, continuations joined, up to a redirection or pipe;
    ${{ expressions }} and $VARIABLES become one word."""
    text = re.sub(r"\$\{\{[^}]*\}\}|\$\{?\w+\}?", "X", text.replace("\\\n", " "))
    return [shlex.split(m.group(1)) for m in COMMAND.finditer(text)]


def _parse(args: list[str]) -> None:
    """Parse like the CLI does, without running: unknown options or commands raise."""
    command = typer.main.get_command(app)
    ctx = command.make_context("snapplan", list(args))
    while hasattr(command, "resolve_command"):
        pending = [*(getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])), *ctx.args]
        name, command, rest = command.resolve_command(ctx, pending)
        ctx = command.make_context(name, rest, parent=ctx)


def test_every_snapplan_command_in_the_fleet_workflows_parses():
    seen = 0
    for name in ("github-fleet.yml", "gitlab-fleet.yml"):
        text = (ROOT / "examples" / "ci" / name).read_text()
        yaml.safe_load(text)
        for args in _commands(text):
            _parse(args)
            seen += 1
    assert seen >= 6


def test_github_fleet_workflow_plans_each_cluster_as_its_own_job():
    flow = yaml.safe_load((ROOT / "examples" / "ci" / "github-fleet.yml").read_text())
    plan = flow["jobs"]["plan"]
    assert plan["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.clusters) }}"
    assert plan["strategy"]["fail-fast"] is False
    assert "snapplan fleet matrix" in flow["jobs"]["matrix"]["steps"][-1]["run"]
    assert '--cluster "$CLUSTER"' in plan["steps"][-2]["run"]

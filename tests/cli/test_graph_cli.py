"""`snapplan graph`: the plan's DAG as DOT and Mermaid (golden), with the same edges the planner orders by."""
from __future__ import annotations

import re

import pytest

from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, run_cli

HARNESS = ["-f", str(EXAMPLES / "harness" / "policy.yaml"), "--state",
           str(EXAMPLES / "harness" / "cluster-state.yaml"), "--now", NOW]


def _relative(text: str) -> str:
    return text.replace(str(EXAMPLES), "examples")


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_of_the_harness_plan(fmt, snapshot, capsys, monkeypatch):
    res = run_cli(["graph", "--format", fmt, *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 0, res.err
    assert _relative(res.out) == snapshot


def test_graph_edges_and_actions_are_the_plans(capsys, monkeypatch):
    import json

    plan = json.loads(run_cli(["plan", "--json", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out)
    dot = run_cli(["graph", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV).out
    edges = set(re.findall(r'^  "([^"]+)" -> "([^"]+)";$', dot, re.M))
    assert edges == {(d, r["address"]) for r in plan["resource_changes"] for d in r["depends_on"]}
    assert ("bsl.primary", "schedule.nightly-full") in edges
    labels = dict(re.findall(r'^  "([^"]+)" \[label="([^"]+)"', dot, re.M))
    glyph = {"create": "+ ", "update": "~ ", "delete": "- ", "replace": "-/+ "}
    for r in plan["resource_changes"]:
        want = f"{r['address']} (no-op)" if r["action"] == "no-op" else glyph[r["action"]] + r["address"]
        assert labels[r["address"]] == want


def test_graph_with_a_target_and_a_moved_location(tmp_path, capsys, monkeypatch):
    from tests.helpers import write

    policy = write(tmp_path / "policy.yaml", (EXAMPLES / "harness" / "policy.yaml").read_text()
                   .replace("prefix: prod", "prefix: prod-2"))
    for name in ("aws-credentials", "minio-ca.pem"):
        write(tmp_path / name, (EXAMPLES / "harness" / name).read_text())
    args = ["-f", str(policy), "--state", str(EXAMPLES / "harness" / "cluster-state.yaml"), "--now", NOW]
    res = run_cli(["graph", "--format", "mermaid", "--target", "schedule.nightly-full", *args], capsys, monkeypatch,
                  env=HARNESS_ENV)
    assert res.code == 0, res.err
    assert res.out.splitlines()[2:6] == ['  n1["~ bsl.primary"]:::update',
                                         '  n2["~ schedule.nightly-full"]:::update',
                                         '  n3["secret.snapplan-primary-credentials (no-op)"]:::noop',
                                         "  n1 --> n2"]


def test_graph_errors_are_one_message(tmp_path, capsys, monkeypatch):
    res = run_cli(["graph", "--format", "svg", *HARNESS], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1 and "'svg' is not one of 'dot', 'mermaid'" in res.err
    res = run_cli(["graph", "-f", str(tmp_path / "missing.yaml"), "--state", str(tmp_path / "s.yaml")], capsys,
                  monkeypatch)
    assert res.code == 1 and "missing.yaml:1:1: no such file or directory" in res.err
    assert "Traceback" not in res.err

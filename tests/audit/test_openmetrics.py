"""`snapplan audit --format openmetrics`: the Prometheus text format, read back with prometheus_client's parsers."""
from __future__ import annotations

import json

import pytest

# a test extra (pyproject.toml); a virtualenv made before it was added lacks it until `make install`
pytest.importorskip("prometheus_client", reason="prometheus-client (test extra) is not installed: make install")
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families as prometheus_families  # noqa: E402

from tests.audit.test_audit_cli import HARNESS, audit, handmade  # noqa: F401  (fixture)
from tests.helpers import HARNESS_ENV, run_cli


def samples(text: str) -> dict[tuple, float]:
    """{(metric, ((label, value), ...)): value}, from the Prometheus parser; the OpenMetrics parser must agree."""
    out = {}
    for family in prometheus_families(text):
        assert family.type == "gauge"
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    strict = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in openmetrics_families(text) for s in family.samples}
    assert strict == out
    return out


def value(found: dict, name: str, **labels) -> float:
    hits = [v for (n, lbl), v in found.items() if n == name and set(labels.items()) <= set(lbl)]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


def test_harness_metrics_match_the_audit(capsys, monkeypatch):
    metrics = run_cli(["audit", *HARNESS, "--format", "openmetrics"], capsys, monkeypatch, env=HARNESS_ENV)
    assert metrics.code == 0, metrics.err
    assert metrics.out.endswith("# EOF\n")
    found = samples(metrics.out)
    doc = json.loads(run_cli(["audit", *HARNESS, "--json"], capsys, monkeypatch, env=HARNESS_ENV).out)
    assert value(found, "snapplan_schedule_rpo_seconds", schedule="nightly-full") == 25 * 3600
    assert value(found, "snapplan_schedule_last_completed_backup_age_seconds", schedule="nightly-full") == 9 * 3600
    assert value(found, "snapplan_schedule_restore_points", schedule="nightly-full", bound="low") == 13
    assert value(found, "snapplan_schedule_restore_points", schedule="nightly-full", bound="high") == 15
    for s in doc["schedules"]:
        assert value(found, "snapplan_schedule_rpo_seconds", schedule=s["name"]) == s["rpo"]["seconds"]
        ages = [v for (n, lbl), v in found.items()
                if n == "snapplan_schedule_last_completed_backup_age_seconds" and ("schedule", s["name"]) in lbl]
        assert ages == ([s["last_completed"]["age"]["seconds"]] if s["last_completed"] else [])  # never: absent
        assert value(found, "snapplan_schedule_failing", schedule=s["name"]) == (s["status"] in ("stale", "never-ran",
                                                                                                  "invalid"))
    assert value(found, "snapplan_drift_changes", action="create") == 4
    assert value(found, "snapplan_drift_changes", action="update") == 2
    assert value(found, "snapplan_uncovered_namespaces", policy="harness-prod", velero_namespace="velero") == 0
    assert value(found, "snapplan_audit_up") == 1


def test_uncovered_namespaces_and_unavailable_storage(handmade, capsys, monkeypatch):  # noqa: F811
    policy, state, tmp = handmade
    r = audit(policy, state, tmp, capsys, monkeypatch, "--format", "openmetrics", "--fail-on", "uncovered")
    assert r.code == 3  # the exit code does not depend on the format
    found = samples(r.out)
    doc = json.loads(audit(policy, state, tmp, capsys, monkeypatch, "--json").out)
    uncovered = doc["coverage"]["unprotected"]
    assert uncovered  # the hand-made cluster has namespaces no running schedule backs up
    assert value(found, "snapplan_uncovered_namespaces") == len(uncovered)
    assert sorted(dict(lbl)["namespace"] for (n, lbl), v in found.items()
                  if n == "snapplan_namespace_uncovered" and v == 1) == sorted(uncovered)
    assert value(found, "snapplan_storage_available", location="second-site") == 0
    assert value(found, "snapplan_storage_available", location="primary") == 1
    assert value(found, "snapplan_condition", condition="uncovered") == 1


def test_label_values_are_escaped(capsys, monkeypatch, tmp_path):
    from engine.audit.openmetrics import render_openmetrics

    doc = json.loads(run_cli(["audit", *HARNESS, "--json"], capsys, monkeypatch, env=HARNESS_ENV).out)
    text = render_openmetrics([({"cluster": 'a"b\\c\nd'}, doc), ({"cluster": "down"}, None)])
    found = samples(text)
    assert value(found, "snapplan_audit_up", cluster='a"b\\c\nd') == 1
    assert value(found, "snapplan_audit_up", cluster="down") == 0
    assert text.count("# TYPE snapplan_schedule_rpo_seconds gauge") == 1


def test_unknown_format_is_one_line(capsys, monkeypatch):
    r = run_cli(["audit", *HARNESS, "--format", "yaml"], capsys, monkeypatch, env=HARNESS_ENV)
    assert r.code == 1 and "'yaml' is not one of text, json, openmetrics" in r.err

"""The pure parts: expiry wording, retention comparison, coverage from labels or namespaces, label values."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.snapshots.build import label_value
from engine.snapshots.details import coverage_of, until
from engine.snapshots.retention import retention_check
from tests.helpers import run_cli, write

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)


def test_expiry_wording():
    assert until(NOW + timedelta(days=6, hours=23), NOW) == "in 6 days"
    assert until(NOW + timedelta(days=1), NOW) == "in 1 day"
    assert until(NOW + timedelta(hours=2, minutes=5), NOW) == "in 2 hours"
    assert until(NOW + timedelta(seconds=90), NOW) == "in 1 minute"
    assert until(NOW + timedelta(seconds=5), NOW) == "in less than a minute"
    assert until(NOW, NOW) == until(NOW - timedelta(days=3), NOW) == "expired"
    assert until(None, NOW) is None


def test_retention_compares_durations_not_spellings():
    assert retention_check("0s", "nightly", {"nightly": "720h"}, "cluster")["follows"] is True  # 0: the default
    assert retention_check("720h", "nightly", {"nightly": "720h0m0s"}, "cluster")["follows"] is True
    old = retention_check("168h0m0s", "nightly", {"nightly": "336h0m0s"}, "policy")
    assert old["follows"] is False and "keeps its old retention (168h0m0s)" in old["note"]
    assert retention_check("24h0m0s", None, {}, "policy")["follows"] is None
    assert retention_check("24h0m0s", "gone", {}, "policy")["note"] == "schedule gone is not in the policy"


def test_coverage_from_labels_first_then_namespaces():
    def backup(labels=None, included=None, excluded=None):
        spec = {k: v for k, v in (("includedNamespaces", included), ("excludedNamespaces", excluded)) if v}
        return {"metadata": {"labels": labels or {}}, "spec": spec}

    apps = {"shop": ("app-a", "app-a-db"), "blog": ("app-b",)}
    assert coverage_of(backup({"snapplan.io/scope": "application", "snapplan.io/app": "shop"}, ["x"])).text == \
        "partial (shop)"
    assert coverage_of(backup(included=["app-a-db", "app-a"]), apps).text == "partial (shop)"
    assert coverage_of(backup(included=["app-a"]), apps).text == "partial (app-a)"
    assert coverage_of(backup(included=["*"], excluded=["kube-system"])).text == "full (without kube-system)"
    assert coverage_of(backup()).full  # Velero: no includedNamespaces means every namespace


def test_label_values_follow_velero_s_get_valid_name():
    assert label_value("nightly-full-20261124020000") == "nightly-full-20261124020000"
    long = "a" * 70
    assert len(label_value(long)) == 63 and label_value(long).startswith("a" * 57)
    assert label_value(long) != label_value("a" * 71)


def test_a_broken_policy_is_reported_with_its_position(tmp_path, capsys, monkeypatch):
    policy = write(tmp_path / "policy.yaml", "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata: {name: x}\n"
                                             "schedules:\n  nightly: {scope: full, schedule: daily, retention: 2x}\n")
    res = run_cli(["backup", "create", "-f", str(policy), "--schedule", "nightly"], capsys, monkeypatch)
    assert res.code == 1
    assert f"{policy}:5:" in res.err and "retention" in res.err and "Traceback" not in res.err

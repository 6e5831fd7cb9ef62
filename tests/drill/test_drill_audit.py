"""Drill results recorded in the cluster and reported by `snapplan audit`: per app and per schedule, the last
successful drill and its age; `--fail-on untested` with the policy's `drills.every`."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from tests.drill.test_drill_live import _app_backup, drill, live  # noqa: F401  (the fixture)
from tests.helpers import run_cli


def audit(capsys, monkeypatch, kubeconfig, policy, *args):
    return run_cli(["audit", "-f", policy, "--kubeconfig", kubeconfig, *args], capsys, monkeypatch)


def _every(policy: str, period: str) -> str:
    text = open(policy).read()
    with open(policy, "w") as fh:
        fh.write(text + f"drills: {{every: {period}}}\n")
    return policy


def test_audit_reports_the_last_successful_drill_and_fails_on_untested(live, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    res = audit(capsys, monkeypatch, kubeconfig, policy, "--fail-on", "untested")
    assert res.code == 3
    assert "app shop: never restored in a successful drill (snapplan drill --app shop)" in " ".join(res.out.split())
    assert "Audit failed: untested (--fail-on); exit 3" in res.err

    _app_backup(cluster, "shop-only-20261125070000")
    assert drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "d0d0d").code == 0
    res = audit(capsys, monkeypatch, kubeconfig, policy, "--fail-on", "untested", "--json")
    assert res.code == 0, res.out + res.err
    drills = json.loads(res.out)["drills"]
    assert drills["known"] is True and drills["every"] is None
    [shop] = drills["apps"]
    assert shop["app"] == "shop" and shop["due"] is False and shop["last_run_passed"] is True
    assert shop["backup"] == "shop-only-20261125070000" and shop["schedule"] == "shop-only"
    assert drills["schedules"] == [{"schedule": "shop-only", "last_success": shop["last_success"],
                                    "age": shop["age"], "app": "shop"}]
    text = audit(capsys, monkeypatch, kubeconfig, policy).out
    assert "Restore drills" in text and "shop-only-20261125070000  passed" in text

    # a week later, with a policy that wants a drill every 3 days: untested again
    policy = _every(policy, "3d")
    later = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    res = audit(capsys, monkeypatch, kubeconfig, policy, "--fail-on", "untested", "--now", later)
    assert res.code == 3
    assert "app shop: no successful drill within 72h (3d); the last one finished" in " ".join(res.out.split())


def test_a_failed_drill_does_not_count_as_tested(live, s3, capsys, monkeypatch):
    cluster, kubeconfig, policy = live
    _app_backup(cluster, "shop-only-20261125070000")
    s3.client().delete_object(Bucket="backups", Key="backups/shop-only-20261125070000/"
                              "shop-only-20261125070000.tar.gz")
    assert drill(capsys, monkeypatch, kubeconfig, policy, "--app", "shop", "--id", "f0f0f").code == 1
    res = audit(capsys, monkeypatch, kubeconfig, policy, "--fail-on", "untested", "--json")
    assert res.code == 3
    [shop] = json.loads(res.out)["drills"]["apps"]
    assert shop["last_success"] is None and shop["last_run_passed"] is False and shop["due"] is True

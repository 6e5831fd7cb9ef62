"""`snapplan snapshots`: what two simulated days of schedules leave, with each backup's own expiry."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from engine.snapshots.details import parse_time
from tests.cluster.velero_sim import objects
from tests.helpers import run_cli
from tests.snapshots.live import BACKUP

END = datetime.fromisoformat("2026-11-25T23:00:00+00:00")
NOW = "2026-11-25T23:00:00Z"


def snapshots(live, capsys, monkeypatch, *args):
    return run_cli(["snapshots", "--kubeconfig", str(live.kubeconfig), "--now", NOW, *args], capsys, monkeypatch)


def two_days(live):
    live.run(END)


def test_two_days_of_schedules_listed_newest_first_with_their_expiry(live, capsys, monkeypatch):
    two_days(live)
    res = snapshots(live, capsys, monkeypatch, "--json")
    assert res.code == 0, res.err
    rows = json.loads(res.out)["backups"]
    # shop-twice-daily-20261124120000 expired at 2026-11-25 12:00 and Velero's GC deleted it.
    assert [r["name"] for r in rows] == ["shop-twice-daily-20261125120000", "nightly-full-20261125020000",
                                         "shop-twice-daily-20261125000000", "nightly-full-20261124020000"]
    for r in rows:
        ttl = timedelta(days=7) if r["schedule"] == "nightly-full" else timedelta(days=1)
        assert parse_time(r["expires"]) == parse_time(r["started"]) + ttl
        assert r["phase"] == "Completed" and r["storage_location"] == "primary" and not r["expired"]
    assert [r["expires_in"] for r in rows] == ["in 13 hours", "in 6 days", "in 1 hour", "in 5 days"]
    assert [(r["scope"], r["app"]) for r in rows] == [("partial", "shop"), ("full", None)] * 2

    res = snapshots(live, capsys, monkeypatch)
    lines = res.out.splitlines()
    assert lines[0].split() == ["NAME", "SCOPE", "SCHEDULE", "PHASE", "STARTED", "EXPIRES", "STORAGE",
                                "ERRORS/WARNINGS"]
    assert lines[1].split() == ["shop-twice-daily-20261125120000", "partial", "(shop)", "shop-twice-daily",
                                "Completed", "2026-11-25", "12:00", "2026-11-26", "12:00", "(in", "13", "hours)",
                                "primary", "0/0"]
    assert " ".join(lines[4].split()) == ("nightly-full-20261124020000 full (without kube-system) nightly-full "
                                          "Completed 2026-11-24 02:00 2026-12-01 02:00 (in 5 days) primary 0/0")


def test_filters_by_schedule_app_and_phase(live, capsys, monkeypatch):
    two_days(live)
    live.store.create(BACKUP, "velero", objects.backup("blog-by-hand", included_namespaces=["app-b"],
                                                       storage_location="primary", ttl="24h0m0s"))
    live.cluster.clock.advance(1)
    live.cluster.step()

    def names(*args, policy=True):
        extra = ["-f", str(live.policy)] if policy else []
        res = snapshots(live, capsys, monkeypatch, "--json", *extra, *args)
        assert res.code == 0, res.err
        return [r["name"] for r in json.loads(res.out)["backups"]]

    assert names("--schedule", "nightly-full") == ["nightly-full-20261125020000", "nightly-full-20261124020000"]
    assert names("--app", "shop") == ["shop-twice-daily-20261125120000", "shop-twice-daily-20261125000000"]
    # A backup without snapplan's labels is named after the policy app whose namespaces it covers.
    assert names("--app", "blog") == ["blog-by-hand"]
    assert names("--app", "blog", policy=False) == []
    assert len(names("--phase", "completed")) == 4 and names("--phase", "Failed") == []
    assert names("--phase", "inprogress") == ["blog-by-hand"]

    def row(*args):
        res = snapshots(live, capsys, monkeypatch, *args)
        return next(" ".join(line.split()[:4]) for line in res.out.splitlines() if line.startswith("blog-by-hand"))

    assert row() == "blog-by-hand partial (app-b) -"
    assert row("-f", str(live.policy)) == "blog-by-hand partial (blog) -"

    res = snapshots(live, capsys, monkeypatch, "--phase", "done")
    assert res.code == 1
    assert "--phase 'done' is not a backup phase; one of: New, Queued" in res.err


def test_empty_cluster_and_unreachable_cluster(live, capsys, monkeypatch, tmp_path):
    res = snapshots(live, capsys, monkeypatch)
    assert res.code == 0 and res.out == "No backups found.\n"
    from tests.helpers import EXAMPLES

    res = snapshots(live, capsys, monkeypatch, "-f", str(EXAMPLES / "minimal" / "policy.yaml"), "--schedule", "nope")
    assert res.code == 0 and "Warning: schedule 'nope' is not in the policy (it has: " in res.err
    live.cluster.stop()
    res = snapshots(live, capsys, monkeypatch)
    assert res.code == 1
    assert "cannot reach the Kubernetes API server" in res.err and "Traceback" not in res.err


def test_a_cluster_without_velero_is_named_as_such(cluster_factory, tmp_path, capsys, monkeypatch):
    bare = cluster_factory(with_velero=False)
    kubeconfig = str(bare.write_kubeconfig(tmp_path / "bare"))
    for args in (["snapshots"], ["snapshots", "show", "x"], ["snapshots", "delete", "x", "--yes"]):
        res = run_cli([*args, "--kubeconfig", kubeconfig], capsys, monkeypatch)
        assert res.code == 1
        assert "Velero is not installed in this cluster" in res.err and "Traceback" not in res.err


def test_show_tells_which_backups_keep_an_old_retention(live, capsys, monkeypatch, tmp_path):
    two_days(live)
    longer = live.write_policy(tmp_path / "longer.yaml", nightly_retention="14d")
    name = "nightly-full-20261125020000"

    res = run_cli(["snapshots", "show", name, "-f", str(longer), "--kubeconfig", str(live.kubeconfig),
                   "--now", NOW, "--json"], capsys, monkeypatch)
    assert res.code == 0, res.err
    retention = json.loads(res.out)["retention"]
    assert retention["follows"] is False and retention["source"] == "policy"
    assert retention["note"] == ("keeps its old retention (168h0m0s); schedule nightly-full now keeps backups "
                                 "336h0m0s")

    # Without -f, the cluster's Schedule is the reference: still 7 days there.
    res = run_cli(["snapshots", "show", name, "--kubeconfig", str(live.kubeconfig), "--now", NOW],
                  capsys, monkeypatch)
    assert "Retention:           168h0m0s: follows the current retention of schedule nightly-full (168h0m0s)" \
        in res.out
    assert "Included namespaces: *" in res.out and "Excluded namespaces: kube-system" in res.out
    assert "Expires:             2026-12-02 02:00:00 UTC (in 6 days)" in res.out

"""`snapplan lock show` and `snapplan lock break`: the holder named, breaking only after confirmation."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from engine.apply.lock import LEASE_NAME, micro_time
from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, HARNESS_ENV, run_cli, seed_backup

LEASES = ("coordination.k8s.io", "v1", "leases")
RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def live(tmp_path):
    with Cluster() as cluster:
        yield cluster, str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))


def hold(cluster, holder=f"alice@laptop pid 1 run {RUN}", age=0):
    now = datetime.now(timezone.utc) - timedelta(seconds=age)
    cluster.store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 60,
                 "acquireTime": micro_time(now), "renewTime": micro_time(now)}})


def leases(cluster):
    return cluster.store.list(LEASES, "velero")[0]


def test_lock_show_names_the_holder_and_its_run(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold(cluster)
    res = run_cli(["lock", "show", "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert f"Lock velero/snapplan-lock held by alice@laptop pid 1 (run {RUN})" in res.out
    assert "unless renewed" in res.out


def test_lock_show_without_a_holder(live, capsys, monkeypatch):
    res = run_cli(["lock", "show", "--kubeconfig", live[1]], capsys, monkeypatch)
    assert res.code == 0 and "No apply holds the lock in namespace velero." in res.out


def test_lock_break_refuses_without_a_terminal_or_yes(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold(cluster)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    res = run_cli(["lock", "break", "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert res.code == 1
    assert "Refusing to break the lock of alice@laptop pid 1" in res.err and "--yes" in res.err
    assert len(leases(cluster)) == 1


def test_lock_break_needs_the_holders_name_typed(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold(cluster)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *a: "yes")
    res = run_cli(["lock", "break", "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert res.code == 1 and "The name does not match; the lock was not broken." in res.err
    assert "Its apply may still be running" in res.err
    assert len(leases(cluster)) == 1
    monkeypatch.setattr("builtins.input", lambda *a: "alice@laptop pid 1")
    res = run_cli(["lock", "break", "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert "Broke the lock of alice@laptop pid 1" in res.out
    assert leases(cluster) == []


def test_lock_break_yes_breaks_it_and_a_new_apply_can_run(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    hold(cluster)
    res = run_cli(["lock", "break", "--yes", "--kubeconfig", kubeconfig], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert leases(cluster) == []


def test_lock_break_does_not_break_a_lock_that_changed_hands_since_it_was_read(live, monkeypatch):
    from engine.apply.lock import LockHeld, break_lock, current_holder
    from engine.state.kube import KubeTarget, api_client

    cluster, kubeconfig = live
    hold(cluster)
    with api_client(KubeTarget(kubeconfig)) as api:
        _, shown = current_holder(api, "velero")
        cluster.store.delete(LEASES, "velero", LEASE_NAME)
        hold(cluster, holder="bob@ci pid 7 run " + "f" * 32)
        with pytest.raises(LockHeld, match="changed since it was read"):
            break_lock(api, "velero", shown)
    assert leases(cluster)[0]["spec"]["holderIdentity"].startswith("bob@ci pid 7")


def test_an_apply_whose_lock_is_broken_stops_at_its_next_renewal(live):
    cluster, kubeconfig = live
    seed_backup(cluster.store, "nightly-full-20261124230000", "nightly-full")
    cluster.faults.add(verb="create", resource="schedules", latency=1.5)
    env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "engine", "apply", "--auto-approve", "--no-wait",
                             "--skip-storage-check", "-f", str(EXAMPLES / "harness" / "policy.yaml"),
                             "--kubeconfig", kubeconfig, "--parallelism", "1", "--lock-duration", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while cluster.requests.snapshot().get(("create", "schedules"), 0) == 0:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    broke = subprocess.run([sys.executable, "-m", "engine", "lock", "break", "--yes", "--kubeconfig", kubeconfig],
                           env=env, capture_output=True, text=True, timeout=60)
    assert broke.returncode == 0, broke.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert "Stopped because the lock was broken" in out


def test_lock_duration_is_capped(live, capsys, monkeypatch):
    cluster, kubeconfig = live
    res = run_cli(["apply", "--auto-approve", "--no-wait", "-f", str(EXAMPLES / "harness" / "policy.yaml"),
                   "--kubeconfig", kubeconfig, "--lock-duration", "999999999"], capsys, monkeypatch, env=HARNESS_ENV)
    assert res.code == 1
    assert "--lock-duration" in res.err and "600" in res.err
    assert leases(cluster) == []


def test_lock_show_json_for_scripts(live, capsys, monkeypatch):
    import json

    cluster, kubeconfig = live
    hold(cluster)
    doc = json.loads(run_cli(["lock", "show", "--json", "--kubeconfig", kubeconfig], capsys, monkeypatch).out)
    assert doc["namespace"] == "velero"
    assert (doc["lock"]["holder"], doc["lock"]["run"], doc["lock"]["expired"]) == ("alice@laptop pid 1", RUN, False)
    cluster.store.delete(LEASES, "velero", LEASE_NAME)
    doc = json.loads(run_cli(["lock", "show", "--json", "--kubeconfig", kubeconfig], capsys, monkeypatch).out)
    assert doc == {"namespace": "velero", "lock": None}

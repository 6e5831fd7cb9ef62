"""The Lease lock judged against clock skew: a fast local clock must not take over a live lock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.apply.lock import LEASE_NAME, LeaseLock, LockHeld, micro_time
from tests.conformance.fixtures import WORLDS

LEASES = ("coordination.k8s.io", "v1", "leases")


@pytest.fixture(params=WORLDS)
def cluster(request, cluster_factory):
    """The test API server, or (make conformance) real kube-apiserver: Lease times are MicroTime on both."""
    return request.getfixturevalue("real") if request.param == "real" else cluster_factory()


@pytest.fixture
def api(cluster, kubeconfig):
    from engine.state.kube import KubeTarget, api_client

    with api_client(KubeTarget(str(kubeconfig))) as client:
        yield client


def held(cluster, duration):
    now = datetime.now(timezone.utc)
    cluster.store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": "alice@ci pid 1", "leaseDurationSeconds": duration,
                 "acquireTime": micro_time(now), "renewTime": micro_time(now)}})


def test_a_fast_local_clock_does_not_take_over_a_live_lock(cluster, api):
    held(cluster, duration=20)
    skewed = LeaseLock(api, "velero", now=lambda: datetime.now(timezone.utc) + timedelta(seconds=25))
    with pytest.raises(LockHeld, match="alice@ci pid 1"):
        skewed.acquire()


def test_a_lock_not_renewed_while_we_watch_is_taken_over_whatever_the_clocks(cluster, api):
    held(cluster, duration=1)
    slow = LeaseLock(api, "velero", timeout=10, now=lambda: datetime.now(timezone.utc) - timedelta(hours=1))
    slow.acquire()  # its clock says the lease is fresh for an hour; it watched it go unrenewed for 1 s
    assert slow.took_over.identity == "alice@ci pid 1"
    slow.release()


def test_two_runs_with_the_same_user_host_and_pid_do_not_share_the_lock(cluster, api, monkeypatch):
    # Two containers with the same hostname, each apply PID 1: "user@host pid N" alone is the same for both.
    import engine.apply.lock as lock_module

    monkeypatch.setattr(lock_module.os, "getpid", lambda: 1)
    monkeypatch.setattr(lock_module.socket, "gethostname", lambda: "backup-job")
    first, second = LeaseLock(api, "velero"), LeaseLock(api, "velero")
    first.acquire()
    try:
        with pytest.raises(LockHeld) as refused:
            second.acquire()
        message = str(refused.value)
        assert "@backup-job pid 1, since " in message  # named as user@host pid, as before
        assert second.version is None
    finally:
        first.release()
    assert cluster.store.list(LEASES, "velero")[0] == []


def test_a_huge_lease_duration_does_not_keep_a_crashed_holder_for_years(cluster, api):
    from engine.apply.lock import MAX_LEASE_SECONDS

    stale = datetime.now(timezone.utc) - timedelta(seconds=MAX_LEASE_SECONDS + 60)
    cluster.store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": "crashed@ci pid 1", "leaseDurationSeconds": 999999999,
                 "acquireTime": micro_time(stale), "renewTime": micro_time(stale)}})
    taker = LeaseLock(api, "velero")
    taker.acquire()  # the holder stopped renewing longer ago than any lease snapplan writes may last
    assert taker.took_over.identity == "crashed@ci pid 1"
    taker.release()

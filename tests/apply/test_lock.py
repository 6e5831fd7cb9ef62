"""The Lease lock judged against clock skew: a fast local clock must not take over a live lock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.apply.lock import LEASE_NAME, LeaseLock, LockHeld, micro_time

LEASES = ("coordination.k8s.io", "v1", "leases")


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

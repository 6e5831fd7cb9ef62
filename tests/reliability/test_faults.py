"""apply of the harness example while the API server answers 10 % of requests with a fault, over 50 seeds.

Each run either succeeds or fails cleanly (exit 1 with one message or a summary, no traceback); a rerun
without faults converges, and the cluster then equals the policy: every object once, whole, nothing else.
The CLI runs in-process; the retry backoff it decides is recorded instead of slept.
"""
from __future__ import annotations

import functools
import random
import time
from collections import Counter
from datetime import datetime, timezone

from engine.apply import executor
from engine.apply.lock import Holder
from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import HARNESS_ENV, run_cli
from tests.reliability.support import APPLY, HARNESS, assert_equals_policy, harness_desired, inventory, objects, \
    seed_harness, writes

SEEDS = range(50)
# One fault kind per seed, in turn: 10 seeds each. Retry-After 0: the kubernetes client's urllib3 honours it
# on reads by sleeping itself, out of our reach (apply's own backoff is not slept, see below).
FAULTS = {"429": {"status": 429, "retry_after": 0}, "500": {"status": 500},
          "503": {"status": 503, "retry_after": 0}, "dropped connection": {"drop": True},
          "latency 0.1s": {"latency": 0.1}}


def classify(res, cluster) -> str:
    """How a faulted run ended; fails the test on anything but a clean success or a clean failure."""
    text = res.out + res.err
    assert res.code in (0, 1), text
    assert "Traceback" not in text and "This is a bug in snapplan" not in text, text
    if res.code == 0:
        assert "Apply complete! 8 added, 0 changed, 0 destroyed." in res.out, text
        return "succeeded"
    if "Apply failed:" in res.out:
        summary = res.out[res.out.index("Apply failed:"):].splitlines()
        assert all(line.startswith(("  failed:  ", "  skipped: ")) for line in summary[1:] if line), summary
        return "failed, with a summary"
    # Failed before acting (lock or read): one message, and nothing was written.
    errors = [line for line in res.err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, res.err
    assert writes(cluster) == 0, cluster.requests.snapshot()  # a fresh cluster: every write was this run's
    return "failed before writing, " + ("taking the lock" if "Lease" in errors[0] else "reading the cluster")


def wait_out(cluster) -> None:
    """A Lease left behind is expired after --lock-duration 1; wait for that rather than the next apply's 2 s poll."""
    for lease in objects(cluster.store, "Lease"):
        expires = Holder.of(lease).expires
        if expires:
            time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds()) + 0.05)


def test_apply_under_injected_faults_succeeds_or_fails_cleanly_and_a_rerun_converges(
        tmp_path, capsys, monkeypatch, figures):
    backoff: list[float] = []
    # Same retry decisions (Backoff, Retry-After honoured), but the sleeps are recorded, not slept.
    monkeypatch.setattr(executor, "ApplyOptions", functools.partial(executor.ApplyOptions, sleep=backoff.append))
    desired = harness_desired()
    ends: Counter = Counter()
    by_kind: dict[str, Counter] = {k: Counter() for k in FAULTS}
    fired = retries = leases_left = 0
    started = time.monotonic()
    for seed in SEEDS:
        kind = list(FAULTS)[seed % len(FAULTS)]
        random.seed(seed)  # the backoff jitter
        with Cluster() as cluster:
            seed_harness(cluster)
            kubeconfig = str(cluster.write_kubeconfig(tmp_path / f"kubeconfig-{seed}"))
            before = inventory(cluster.store)
            rule = cluster.faults.add(probability=0.1, seed=seed, **FAULTS[kind])
            monkeypatch.setattr("engine.apply.lock.identity", lambda: "faulted@ci pid 1")
            res = run_cli([*APPLY, HARNESS, "--kubeconfig", kubeconfig, "--lock-duration", "1"],
                          capsys, monkeypatch, env=HARNESS_ENV)
            end = classify(res, cluster)
            ends[end] += 1
            by_kind[kind][end] += 1
            fired += rule.fired
            retries += res.err.count(": retrying in ")
            cluster.faults.clear()
            left = objects(cluster.store, "Lease")
            leases_left += bool(left)
            wait_out(cluster)
            # The rerun is another process as far as the lock can tell.
            monkeypatch.setattr("engine.apply.lock.identity", lambda: "rerun@ci pid 2")
            again = run_cli([*APPLY, HARNESS, "--kubeconfig", kubeconfig, "--lock-timeout", "5s"],
                            capsys, monkeypatch, env=HARNESS_ENV)
            assert again.code == 0, (seed, kind, res.out + res.err, again.out + again.err)
            if left:
                assert "took over the expired lock of faulted@ci pid 1" in again.err
            if end == "succeeded":
                assert "No changes." in again.out and "Apply complete" not in again.out
            check = run_cli(["plan", "--detailed-exitcode", "-f", HARNESS, "--kubeconfig", kubeconfig],
                            capsys, monkeypatch, env=HARNESS_ENV)
            assert check.code == 0 and "No changes." in check.out, (seed, kind, check.out)
            assert_equals_policy(cluster.store, desired, before)
    elapsed = time.monotonic() - started
    assert sum(ends.values()) == len(SEEDS)
    assert ends["succeeded"] > 0 and fired > 0  # the faults fired, and apply still got through often
    figures(f"faults: {len(SEEDS)} seeds x (faulted apply + rerun + plan) in {elapsed:.1f}s; {fired} faults fired, "
            f"{retries} retries, {sum(backoff):.1f}s of backoff not slept")
    figures("faults: ends: " + ", ".join(f"{n} {e}" for e, n in sorted(ends.items())))
    for kind, counts in by_kind.items():
        figures(f"faults:   10% {kind}: " + ", ".join(f"{n} {e}" for e, n in sorted(counts.items())))
    figures(f"faults: lock Lease left behind by a faulted run: {leases_left}/{len(SEEDS)} (taken over once expired); "
            f"reruns converged: {len(SEEDS)}/{len(SEEDS)}, cluster == policy each time")

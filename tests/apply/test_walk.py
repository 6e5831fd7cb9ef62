"""The DAG walk: order, parallelism, failures skip dependents only, interruption."""
from __future__ import annotations

import threading
import time

import networkx as nx
import pytest

from engine.addr import Address
from engine.apply.retry import Backoff, TransientError, no_sleep
from engine.apply.walk import Status, walk


def a(name, kind="Schedule"):
    return Address(kind, "velero", name)


def test_dependencies_run_first_and_failures_skip_only_their_dependents():
    g = nx.DiGraph()
    secret, loc, s1, s2, other = a("cred", "Secret"), a("loc", "BackupStorageLocation"), a("s1"), a("s2"), a("o")
    g.add_edges_from([(secret, loc), (loc, s1), (loc, s2)])
    g.add_node(other)
    seen = []

    def run(node):
        seen.append(node)
        if node == loc:
            raise RuntimeError("BackupStorageLocation is Unavailable")
        return "ok"

    out = walk(g, run, parallelism=1)
    assert seen == [secret, loc, other]
    assert out[secret].status is Status.DONE and out[other].status is Status.DONE
    assert out[loc].status is Status.FAILED and out[loc].message == "BackupStorageLocation is Unavailable"
    assert out[s1].status is Status.SKIPPED and out[s1].message == "skipped: bsl.loc failed"
    assert out[s2].status is Status.SKIPPED


def test_independent_actions_run_in_parallel_up_to_the_limit():
    g = nx.DiGraph()
    g.add_nodes_from(a(f"s{i}") for i in range(8))
    active, peak, lock = [0], [0], threading.Lock()

    def run(node):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return ""

    out = walk(g, run, parallelism=4)
    assert all(o.status is Status.DONE for o in out.values())
    assert peak[0] == 4


def test_stop_lets_running_finish_and_starts_nothing_new():
    g = nx.DiGraph()
    first, second = a("a"), a("b")
    g.add_edge(first, second)
    stop = threading.Event()

    def run(node):
        stop.set()
        return "finished"

    out = walk(g, run, parallelism=2, stop=stop)
    assert out[first].status is Status.DONE
    assert out[second].status is Status.NOT_STARTED


def test_backoff_honours_retry_after_and_is_bounded():
    policy = Backoff(attempts=3, base=1.0, max_sleep=5.0, jitter=lambda: 1.0)
    assert policy(TransientError("429", 429, retry_after=2), 1).sleep == 2
    assert policy(TransientError("429", 429, retry_after=60), 1).sleep == 5.0
    assert policy(TransientError("503", 503), 1).sleep == 1.0
    assert policy(TransientError("503", 503), 2).sleep == 2.0
    assert policy(TransientError("503", 503), 3).retry is False
    assert policy(ValueError("bad"), 1).retry is False
    assert no_sleep()(TransientError("x"), 1).sleep == 0.0


def test_parallelism_must_be_positive():
    with pytest.raises(ValueError):
        walk(nx.DiGraph(), lambda n: "", parallelism=0)

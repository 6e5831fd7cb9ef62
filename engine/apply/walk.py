"""Walk a DAG of actions: each starts when everything it depends on succeeded; failures skip dependents.

Root causes only: a skipped action is reported as skipped, not as another failure. Ready actions are
dispatched in a stable order (kind rank, then name) to a bounded thread pool.
"""
from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum

import networkx as nx

from engine.addr import Address


class Status(str, Enum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_STARTED = "not started"  # interrupted before it could run


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str = ""


def walk(graph: nx.DiGraph, run: Callable[[Address], str], *, parallelism: int = 8,
         stop: threading.Event | None = None, on_skip: Callable[[Address, str], None] | None = None
         ) -> dict[Address, Outcome]:
    """Run `run(address)` for every node in dependency order. `run` returns a message or raises.

    When `stop` is set (or Ctrl-C arrives), nothing new starts; running actions finish (they should
    watch `stop` too), the rest are NOT_STARTED.
    """
    if parallelism < 1:
        raise ValueError("parallelism must be at least 1")
    stop = stop or threading.Event()
    outcomes: dict[Address, Outcome] = {}
    waiting = {n: set(graph.predecessors(n)) for n in graph.nodes}
    running: dict[Future, Address] = {}

    def settle_skips(failed: Address, reason: str) -> None:
        for node in nx.descendants(graph, failed):
            if node not in outcomes:
                outcomes[node] = Outcome(Status.SKIPPED, f"skipped: {reason}")
                waiting.pop(node, None)
                if on_skip:
                    on_skip(node, outcomes[node].message)

    ready: list = []  # a heap of (sort key, node): what can start, in a stable order

    def release(node: Address) -> None:
        heapq.heappush(ready, (node.sort_key(), node))

    for n, deps in waiting.items():
        if not deps:
            release(n)
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="snapplan-apply") as pool:
        while waiting or running:
            while ready and len(running) < parallelism and not stop.is_set():
                _, node = heapq.heappop(ready)
                if node not in waiting:
                    continue  # skipped after it became ready
                del waiting[node]
                running[pool.submit(run, node)] = node
            if not running:
                break  # stopped, or nothing can run
            try:
                done, _ = wait(running, return_when=FIRST_COMPLETED, timeout=0.5)
            except KeyboardInterrupt:  # Ctrl-C: start nothing new, let running actions end, report
                stop.set()
                continue
            for fut in done:
                node = running.pop(fut)
                try:
                    outcomes[node] = Outcome(Status.DONE, fut.result() or "")
                except BaseException as exc:  # noqa: BLE001 — every failure becomes an outcome
                    outcomes[node] = Outcome(Status.FAILED, str(exc) or type(exc).__name__)
                    settle_skips(node, f"{node} failed")
                    continue
                for succ in graph.successors(node):
                    if succ in waiting:
                        waiting[succ].discard(node)
                        if not waiting[succ]:
                            release(succ)
    for node in graph.nodes:
        outcomes.setdefault(node, Outcome(Status.NOT_STARTED, "not started: interrupted"))
    return outcomes

"""Time and memory of the hostile-input tests: bounded by assertions, reported in the test summary.

Generated examples are timed one by one, and the process's peak RSS is checked after each (tracing every
allocation would slow them three times). The hand-written worst cases (bombs, huge values, long files) are
also run under tracemalloc, which gives each its own peak.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

MAX_SECONDS = 5.0  # per example or case: a typical example takes 5-30 ms, the slowest about 0.5 s
MAX_TRACED_BYTES = 256 * 2**20  # Python allocations live at once while reading one hostile file
MAX_RSS_BYTES = 2 * 2**30  # the test process's peak resident size, whatever ran before


@dataclass
class Figure:
    examples: int = 0
    slowest: float = 0.0
    peak: int = 0  # traced bytes (worst cases) or 0
    outcomes: Counter = field(default_factory=Counter)  # how examples ended: shows input reaches the planner


FIGURES: dict[str, Figure] = {}


def rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@contextmanager
def bounded(test: str):
    """Time one example, record it, and fail it past MAX_SECONDS or if the process grew past MAX_RSS_BYTES."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        fig = FIGURES.setdefault(test, Figure())
        fig.examples += 1
        fig.slowest = max(fig.slowest, seconds)
    assert seconds < MAX_SECONDS, f"{test}: one example took {seconds:.2f} s (bound {MAX_SECONDS} s)"
    assert rss_bytes() < MAX_RSS_BYTES, f"{test}: the process grew to {rss_bytes() / 2**20:.0f} MiB"


def traced_peak(test: str, run) -> int:
    """Run `run()` under tracemalloc; record and return the peak of Python allocations, failing past the bound."""
    tracemalloc.start()
    try:
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    fig = FIGURES.setdefault(test, Figure())
    fig.peak = max(fig.peak, peak)
    assert peak < MAX_TRACED_BYTES, f"{test}: {peak / 2**20:.0f} MiB traced (bound {MAX_TRACED_BYTES >> 20} MiB)"
    return peak


def note(test: str, outcome: str) -> None:
    FIGURES.setdefault(test, Figure()).outcomes[outcome] += 1


def summary() -> list[str]:
    if not FIGURES:
        return []
    out = [f"{'test':<46} {'examples':>8} {'slowest':>9} {'traced':>9}  outcomes"]
    for name, f in sorted(FIGURES.items()):
        traced = f"{f.peak / 2**20:.1f} MiB" if f.peak else "-"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(f.outcomes.items()))
        out.append(f"{name:<46} {f.examples:>8} {f.slowest * 1000:>6.0f} ms {traced:>9}  {outcomes}")
    total = sum(f.examples for f in FIGURES.values())
    out.append(f"{'total':<46} {total:>8} {max(f.slowest for f in FIGURES.values()) * 1000:>6.0f} ms "
               f"{max(f.peak for f in FIGURES.values()) / 2**20:>5.1f} MiB  peak RSS {rss_bytes() / 2**20:.0f} MiB")
    return out

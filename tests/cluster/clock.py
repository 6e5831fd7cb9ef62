"""Clocks for the test cluster: a manual one tests advance, and a real-time one with a speed factor."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class ManualClock:
    """Time moves only when a test calls advance(); deterministic simulations use this."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += delta
            return self._now


class RealClock:
    """Follows wall time from start, `speed` times faster (speed=1: real time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start_wall = datetime.now(timezone.utc)
        self._start_mono = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._start_mono) * self.speed
        return self._start_wall + timedelta(seconds=elapsed)

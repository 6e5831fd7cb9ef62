"""Retry policy as a pure function: (error, attempt) -> Decision. Tests inject one that never sleeps."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Decision:
    retry: bool
    sleep: float = 0.0
    why: str = ""


class TransientError(Exception):
    """A failure worth retrying: throttled, a server error, a timeout, a dropped connection."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


RetryPolicy = Callable[[BaseException, int], Decision]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, bounded in attempts and in the longest single sleep.

    Retry-After from the server is honoured (capped at max_sleep).
    """

    attempts: int = 6
    base: float = 0.2
    max_sleep: float = 10.0
    jitter: Callable[[], float] = random.random

    def __call__(self, error: BaseException, attempt: int) -> Decision:
        if not isinstance(error, TransientError):
            return Decision(False, why="not retryable")
        if attempt >= self.attempts:
            return Decision(False, why=f"gave up after {attempt} attempts")
        if error.retry_after is not None:
            return Decision(True, min(max(error.retry_after, 0.0), self.max_sleep), "Retry-After")
        sleep = min(self.base * (2 ** (attempt - 1)), self.max_sleep)
        return Decision(True, sleep * (0.5 + self.jitter() / 2), "backoff")


def no_sleep(attempts: int = 6) -> Backoff:
    """The same decisions without waiting: for tests."""
    return _NoSleep(attempts=attempts)


@dataclass(frozen=True)
class _NoSleep(Backoff):
    def __call__(self, error: BaseException, attempt: int) -> Decision:
        d = Backoff.__call__(self, error, attempt)
        return Decision(d.retry, 0.0, d.why)

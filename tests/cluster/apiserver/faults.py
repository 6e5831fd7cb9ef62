"""Fault injection rules (latency, error statuses, dropped connections) and the request counter."""
from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from . import errors
from .errors import ApiError


@dataclass
class FaultRule:
    """Matches requests by verb, resource and path regex; then fires on the Nth match, with a seeded
    probability, or always (at most `times` times).

    verb: kube verb (get, list, watch, create, update, patch, delete, deletecollection) or, for paths that
    are not resources (/api, /openapi/v3, /version), the lower-case HTTP method. resource: the plural,
    with `/status` for the status subresource.
    """

    verb: str | None = None
    resource: str | None = None
    path: str | None = None
    status: int | None = None            # 429, 500, 503, ... answered with a Status body
    retry_after: int = 1                 # seconds, for 429 (and 503) Retry-After
    latency: float = 0.0                 # seconds added before the request is served
    drop: bool = False                   # close the connection without an answer
    nth: int | None = None               # fire only on the Nth matching request (1-based)
    times: int | None = None             # fire at most this many times
    probability: float | None = None     # fire with this probability (random.Random(seed))
    seed: int = 0
    message: str | None = None
    matched: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._path = re.compile(self.path) if self.path else None

    def _matches(self, verb: str, resource: str, path: str) -> bool:
        return ((self.verb is None or self.verb == verb) and (self.resource is None or self.resource == resource)
                and (self._path is None or bool(self._path.search(path))))

    def _fires(self) -> bool:
        self.matched += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.nth is not None and self.matched != self.nth:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def error(self) -> ApiError | None:
        if self.status is None:
            return None
        if self.status == 429:
            return errors.too_many_requests(self.retry_after)
        if self.status == 503:
            err = errors.service_unavailable(self.message or "the server is currently unable to handle the request")
            err.headers["Retry-After"] = str(self.retry_after)
            return err
        if self.status == 500:
            return errors.internal_error(self.message or "injected fault")
        return ApiError(self.status, "InternalError" if self.status >= 500 else "BadRequest",
                        self.message or f"injected fault ({self.status})")


@dataclass(frozen=True)
class Decision:
    latency: float = 0.0
    drop: bool = False
    error: ApiError | None = None


class Faults:
    """The cluster's fault rules; thread-safe."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule | None = None, **kwargs) -> FaultRule:
        rule = rule or FaultRule(**kwargs)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def decide(self, verb: str, resource: str, path: str) -> Decision:
        """Latency adds up over firing rules; the first drop or error wins."""
        latency, drop, error = 0.0, False, None
        with self._lock:
            for rule in self._rules:
                if rule._matches(verb, resource, path) and rule._fires():
                    latency += rule.latency
                    if not drop and error is None:
                        drop, error = rule.drop, rule.error()
        return Decision(latency, drop, error)


class RequestCounter:
    """Requests served, by (verb, resource); thread-safe. `access()` adds API group and namespace, which is
    what an RBAC rule names (tests compare it with examples/rbac)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._access: Counter[tuple[str, str, str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, verb: str, resource: str, group: str | None = None, namespace: str | None = None) -> None:
        with self._lock:
            self._counts[(verb, resource)] += 1
            if group is not None:
                self._access[(verb, group, resource, namespace or "")] += 1

    def access(self) -> dict[tuple[str, str, str, str], int]:
        """Resource requests by (verb, API group, resource[/subresource], namespace or "" when cluster-wide)."""
        with self._lock:
            return dict(self._access)

    def count(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._lock:
            return sum(n for (v, r), n in self._counts.items()
                       if (verb is None or v == verb) and (resource is None or r == resource))

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._access.clear()

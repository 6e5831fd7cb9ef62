"""Times and durations as Kubernetes and Velero write them: RFC 3339 timestamps and Go durations. Pure."""
from __future__ import annotations

import re
from datetime import datetime, timezone

_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_time(text) -> datetime | None:
    """An RFC 3339 timestamp (`2026-11-24T23:00:00Z`) as an aware datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def go_seconds(duration) -> int | None:
    """A Go duration (`720h0m0s`, `90m`) in whole seconds; None when it is not one."""
    if not isinstance(duration, str) or not duration:
        return None
    parts = _GO_PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        return None
    return int(sum(float(n) * _UNIT[u] for n, u in parts))


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, `Z` suffix: how snapplan's JSON writes every time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

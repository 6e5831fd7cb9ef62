"""Kubernetes timestamps and Go durations, as Velero writes and reads them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def rfc3339(t: datetime) -> str:
    """metav1.Time's form: UTC, whole seconds, 'Z'."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def parse_duration(text: str) -> timedelta:
    """Go's time.ParseDuration ("720h0m0s", "1h30m", "90s", "1.5h"); ValueError as Go words it."""
    s = text.strip()
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return timedelta(0)
    pos, seconds = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f'time: invalid duration "{text}"')
    return timedelta(seconds=sign * seconds)


def format_duration(d: timedelta) -> str:
    """Go's Duration.String() for whole and fractional seconds: 720h0m0s, 1m0s, 30s, 0s."""
    total = d.total_seconds()
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{secs:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{sign}{int(hours)}h{int(minutes)}m{sec_text}s"
    if minutes:
        return f"{sign}{int(minutes)}m{sec_text}s"
    return f"{sign}{sec_text}s"

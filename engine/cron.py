"""Schedule expressions: presets, 5-field cron, `@every <duration>`, timezones, next run times.

Pure functions shared by spec (validation), model (Velero's spec.schedule) and plan (first run).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRESETS = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 0",
    "monthly": "0 0 1 * *",
}
FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_EVERY = re.compile(r"^@every\s+((?:\d+(?:h|m|s))+)$")
_GO_PART = re.compile(r"(\d+)(h|m|s)")
_TZ_PREFIX = re.compile(r"^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$")


class CronError(ValueError):
    pass


def expand(expr: str) -> str:
    """A preset name becomes its cron line; anything else is returned stripped."""
    expr = expr.strip()
    return PRESETS.get(expr, expr)


def preset_of(cron: str) -> str | None:
    for name, line in PRESETS.items():
        if line == cron:
            return name
    return None


def every_interval(expr: str) -> timedelta | None:
    m = _EVERY.match(expr.strip())
    if not m:
        return None
    seconds = sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in _GO_PART.findall(m.group(1)))
    return timedelta(seconds=seconds)


def check(expr: str) -> None:
    """Raise CronError with a message naming the bad field, for a preset, cron line or @every."""
    from croniter import croniter

    expr = expand(expr)
    if expr.startswith("@every"):
        interval = every_interval(expr)
        if interval is None:
            raise CronError(f"invalid interval {expr!r}: use @every followed by a duration such as 6h or 90m")
        if interval < timedelta(minutes=1):
            raise CronError(f"interval {expr!r} is shorter than one minute")
        return
    if expr.startswith("@") or _TZ_PREFIX.match(expr):
        raise CronError(f"{expr!r} is not supported: use hourly, daily, weekly, monthly, a 5-field cron "
                        "line or @every <duration> (set the timezone with `timezone:`)")
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"cron {expr!r} has {len(fields)} fields; expected 5 "
                        "(minute hour day-of-month month day-of-week)")
    for i, value in enumerate(fields):
        probe = ["*"] * 5
        probe[i] = value
        if not croniter.is_valid(" ".join(probe)):
            problem = "is out of range" if value.isdigit() else "is not valid"
            raise CronError(f"cron {expr!r}: {FIELDS[i]} field {value!r} {problem} ({_range(i)})")
    if not croniter.is_valid(expr):
        raise CronError(f"cron {expr!r} is not valid")


def _range(i: int) -> str:
    return ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT")[i]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise CronError(f"unknown timezone {name!r}: use an IANA name such as Europe/Berlin") from None


def velero_schedule(expr: str, tz: str | None) -> str:
    """Velero's spec.schedule: the cron line, with `CRON_TZ=<tz> ` in front when a timezone is set."""
    line = expand(expr)
    return f"CRON_TZ={tz} {line}" if tz and not line.startswith("@") else line


def split_velero_schedule(value: str) -> tuple[str, str | None]:
    """Inverse of velero_schedule: (cron line, timezone or None)."""
    m = _TZ_PREFIX.match(value.strip())
    return (m.group(2).strip(), m.group(1)) if m else (value.strip(), None)


def next_runs(velero_value: str, after: datetime, count: int = 1) -> list[datetime]:
    """The next `count` run times (timezone-aware, in the schedule's zone) strictly after `after`."""
    from croniter import croniter

    line, tz = split_velero_schedule(velero_value)
    zone_ = zone(tz) if tz else timezone.utc
    start = after.astimezone(zone_)
    interval = every_interval(line)
    if interval is not None:
        return [start + interval * (i + 1) for i in range(count)]
    it = croniter(line, start)
    return [it.get_next(datetime) for _ in range(count)]

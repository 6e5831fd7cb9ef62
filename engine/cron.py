"""Schedule expressions: presets, 5-field cron, `@every <duration>`, timezones, next run times.

Pure functions shared by spec (validation), model (Velero's spec.schedule) and plan (first run).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import clip
from engine.times import Duration, DurationTooLong

PRESETS = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 0",
    "monthly": "0 0 1 * *",
}
FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_EVERY = re.compile(r"^@every\s+(\S+)$", re.ASCII)
_TZ_PREFIX = re.compile(r"^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$")
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
NAMES = {3: ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
         4: ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
_PART = re.compile(r"^(?P<start>\*|\?|[0-9]+|[A-Za-z]{3})(?:-(?P<end>[0-9]+|[A-Za-z]{3}))?(?:/(?P<step>[0-9]+))?$")
MAX_LENGTH = 200  # a schedule expression longer than this is a mistake, and croniter's time grows with it


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
    """The interval of `@every <duration>`; None when it is not one, or longer than Go's duration can hold."""
    m = _EVERY.match(expr.strip())
    if not m:
        return None
    try:  # robfig/cron's parser: time.ParseDuration, then Every() drops the fraction of a second
        span = Duration.go(m.group(1))
    except ValueError:
        return None
    return timedelta(seconds=span.nanoseconds // 10**9)


def _too_long(expr: str) -> bool:
    m = _EVERY.match(expr.strip())
    try:
        Duration.go(m.group(1) if m else "")
    except DurationTooLong:
        return True
    except ValueError:
        pass
    return False


def check(expr: str) -> None:
    """Raise CronError with a message naming the bad field, for a preset, cron line or @every.

    Accepts what Velero's parser (robfig/cron ParseStandard) accepts and croniter can compute runs for:
    croniter alone also takes L, W, #, H and day-of-week 7, which Velero refuses.
    """
    from croniter import croniter

    if len(expr) > MAX_LENGTH:
        raise CronError(f"schedule {clip(expr)} is longer than {MAX_LENGTH} characters")
    expr = expand(expr)
    if expr.startswith("@every"):
        interval = every_interval(expr)
        if interval is None and _too_long(expr):
            raise CronError(f"interval {clip(expr)} is longer than Velero can hold (about 292 years)")
        if interval is None:
            raise CronError(f"invalid interval {clip(expr)}: use @every followed by a duration such as 6h or 90m")
        if interval < timedelta(minutes=1):
            raise CronError(f"interval {clip(expr)} is shorter than one minute")
        return
    if expr.startswith("@") or _TZ_PREFIX.match(expr):
        raise CronError(f"{clip(expr)} is not supported: use hourly, daily, weekly, monthly, a 5-field cron "
                        "line or @every <duration> (set the timezone with `timezone:`)")
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"cron {clip(expr)} has {len(fields)} fields; expected 5 "
                        "(minute hour day-of-month month day-of-week)")
    for i, value in enumerate(fields):
        problem = _field_problem(i, value)
        if problem:
            raise CronError(f"cron {clip(expr)}: {FIELDS[i]} field {clip(value)} {problem} ({_range(i)})")
    if not croniter.is_valid(expr):
        raise CronError(f"cron {clip(expr)} is not valid")
    if _never_runs(expr):
        raise CronError(f"cron {clip(expr)} never runs (no such day in that month)")


def _field_problem(i: int, value: str) -> str | None:
    """Why one cron field is refused, by robfig/cron's rules: lists of `*`, `?`, N, N-M, each with /STEP."""
    low, high = BOUNDS[i]
    for part in value.split(","):
        m = _PART.match(part)
        if not m:
            return "is not valid"
        start_text, end_text, step = m.group("start"), m.group("end"), m.group("step")
        if step is not None and int(step[:6]) == 0:
            return "is not valid: a step must be at least 1"
        if start_text in ("*", "?"):
            if end_text is not None:
                return "is not valid"
            continue
        start, end = _number(i, start_text), _number(i, end_text) if end_text else None
        if start is None or (end_text and end is None):
            return "is not valid"
        if not low <= start <= high or (end is not None and not low <= end <= high):
            return "is out of range"
        if end is not None and start > end:
            return "is not valid: a range must go from low to high"
    return None


def _number(i: int, text: str) -> int | None:
    if text.isdigit():
        return int(text[:6]) if len(text) <= 6 else BOUNDS[i][1] + 1  # beyond any bound: out of range
    names = NAMES.get(i, ())
    return names.index(text.lower()) + BOUNDS[i][0] if text.lower() in names else None


def _never_runs(expr: str) -> bool:
    """True when no time ever matches (e.g. day 31 of February): Velero accepts it and never backs up."""
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(expr, datetime(2000, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
    except CroniterBadDateError:
        return True
    return False


def _range(i: int) -> str:
    return ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT")[i]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name, a directory
        raise CronError(f"unknown timezone {clip(name)}: use an IANA name such as Europe/Berlin") from None


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

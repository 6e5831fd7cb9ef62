"""Schedule expressions as Velero parses them (robfig/cron ParseStandard): five fields, an optional
`CRON_TZ=<zone> ` or `TZ=<zone> ` prefix, the @hourly-style descriptors and `@every <duration>`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .times import parse_duration

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A schedule robfig/cron rejects; str() is the message Velero puts after 'invalid schedule: '."""


@dataclass(frozen=True)
class CronSchedule:
    fields: str  # five cron fields, or "" for @every
    zone: tzinfo
    every: timedelta | None = None

    def next_after(self, t: datetime) -> datetime:
        """The first run strictly after t, in UTC."""
        if self.every is not None:
            # robfig's ConstantDelaySchedule: drop sub-second part, then add the delay.
            return (t.replace(microsecond=0) + self.every).astimezone(timezone.utc)
        local = t.astimezone(self.zone)
        nxt = croniter(self.fields, local).get_next(datetime)
        return nxt.astimezone(timezone.utc)


def parse_cron(text: str) -> CronSchedule:
    spec = text.strip()
    if not spec:
        raise CronError("empty spec string")
    zone: tzinfo = timezone.utc
    if spec.startswith(("CRON_TZ=", "TZ=")):
        head, _, spec = spec.partition(" ")
        name = head.split("=", 1)[1]
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise CronError(f"provided bad location {name}: unknown time zone {name}") from None
        spec = spec.strip()
    if spec.startswith("@every"):
        try:
            delay = parse_duration(spec[len("@every"):].strip())
        except ValueError as err:
            raise CronError(f"failed to parse duration {spec}: {err}") from None
        return CronSchedule("", zone, max(timedelta(seconds=int(delay.total_seconds())), timedelta(seconds=1)))
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    fields = ["*" if f == "?" else f for f in fields]
    expression = " ".join(fields)
    if not croniter.is_valid(expression):
        raise CronError(f"failed to parse cron expression {expression!r}")
    return CronSchedule(expression, zone)

"""When a Velero Schedule runs, as Velero decides it, and the figures that follow: the largest gap between
two runs (the RPO), the usual interval, and how many backups a retention keeps. Pure.

Velero reads `spec.schedule` with robfig/cron v3 (`cron.ParseStandard`): five fields, an optional
`CRON_TZ=`/`TZ=` prefix, the `@daily`-style descriptors and `@every <duration>`; without a zone the times
are the Velero pod's local time, which is UTC in Velero's images. Around a DST change robfig/cron walks
real time and matches the wall clock, so a wall time that does not exist that day (02:30 when clocks jump
from 02:00 to 03:00) is skipped, and one that happens twice (clocks go back) runs twice. croniter moves
a missing time to the next existing one instead, so run times here are built per day from croniter's
field expansion and resolved with zoneinfo rather than taken from croniter's iterator.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine import cron

DAY = 86400
RPO_WINDOW = timedelta(days=4 * 365 + 1)  # a leap-year cycle, so Feb 29 and every DST change are seen
HORIZON = timedelta(days=8 * 366)  # a schedule with no run within this never runs (robfig gives up after 5 years)
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


class CadenceError(ValueError):
    """A schedule the audit cannot compute run times for (Velero rejects these too)."""


@dataclass(frozen=True)
class Gap:
    seconds: int
    after: datetime | None  # the run before the gap (UTC); None for `@every`, where every gap is the same
    before: datetime | None  # the run after it


@dataclass(frozen=True)
class RestorePoints:
    """Backups of the schedule that exist at steady state: `low` just before a run (the oldest kept backup
    about to be replaced), `high` just after one. Counted over the runs themselves, so weekday-only and DST
    schedules come out right; for a regular schedule this is retention / interval."""

    low: int
    high: int
    retention: int  # seconds
    interval: int  # the most common gap between runs, seconds


@dataclass(frozen=True)
class Cadence:
    text: str  # Velero's spec.schedule, as written
    zone: tzinfo
    zone_name: str | None  # the CRON_TZ name; None means UTC
    every: int | None = None  # seconds, for `@every`
    times: tuple[int, ...] = ()  # seconds after local midnight, ascending
    doms: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    dows: frozenset[int] = frozenset()  # 0 = Sunday
    day_and: bool = True  # robfig: day-of-month AND day-of-week when either is `*`/`?`, else OR

    # ----- run times
    def day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.doms, d.isoweekday() % 7 in self.dows
        return (dom and dow) if self.day_and else (dom or dow)

    def _midnight(self, d: date) -> datetime:
        return datetime.combine(d, time(), tzinfo=self.zone)

    def _plain(self, d: date) -> bool:
        """No UTC offset change during this local day: its runs are midnight + the listed times."""
        return self._midnight(d).utcoffset() == self._midnight(d + timedelta(days=1)).utcoffset()

    def day_runs(self, d: date) -> list[int]:
        """Epoch seconds of the runs on local day `d`, as robfig/cron fires them (see the module text)."""
        if not self.day_matches(d):
            return []
        if self._plain(d):
            base = int(self._midnight(d).timestamp())
            return [base + t for t in self.times]
        out: list[int] = []
        for t in self.times:
            wall = datetime.combine(d, time()) + timedelta(seconds=t)
            early, late = wall.replace(tzinfo=self.zone, fold=0), wall.replace(tzinfo=self.zone, fold=1)
            if early.astimezone(timezone.utc).astimezone(self.zone).replace(tzinfo=None) != wall:
                continue  # does not exist today (clocks jumped over it): skipped
            out.append(int(early.timestamp()))
            if late.utcoffset() != early.utcoffset():
                out.append(int(late.timestamp()))  # happens twice (clocks went back): runs twice
        return sorted(set(out))

    def runs(self, after: datetime, until: datetime, anchor: datetime | None = None) -> list[int]:
        """Epoch seconds of the runs in (after, until]. `@every` counts from `anchor` (the last run)."""
        lo, hi = after.timestamp(), until.timestamp()
        if self.every is not None:
            start = int((anchor or after).timestamp())
            k = max(1, int((lo - start) // self.every) + 1)  # the first run after `after`
            out = []
            while start + k * self.every <= hi:
                if start + k * self.every > lo:
                    out.append(start + k * self.every)
                k += 1
            return out
        out = []
        d = after.astimezone(self.zone).date() - timedelta(days=1)
        last = until.astimezone(self.zone).date() + timedelta(days=1)
        while d <= last:
            out += [r for r in self.day_runs(d) if lo < r <= hi]
            d += timedelta(days=1)
        return out

    def next_runs(self, now: datetime, count: int = 5, anchor: datetime | None = None) -> list[datetime]:
        if self.every is not None:
            found = self.runs(now, now + timedelta(seconds=self.every * count), anchor)
        else:
            found, d = [], now.astimezone(self.zone).date()
            end = d + HORIZON
            while len(found) < count and d <= end:
                found += [r for r in self.day_runs(d) if r > now.timestamp()]
                d += timedelta(days=1)
        return [datetime.fromtimestamp(r, timezone.utc) for r in found[:count]]

    # ----- figures
    def largest_gap(self, start: datetime) -> Gap | None:
        """The longest time between two consecutive runs over RPO_WINDOW from `start`; None when the
        schedule runs less than twice within HORIZON. The first such gap when several are equal."""
        if self.every is not None:
            return Gap(self.every, None, None)
        inner = max(((b - a, a) for a, b in zip(self.times, self.times[1:])), default=None,
                    key=lambda p: p[0])
        best: tuple[int, int, int] | None = None  # (gap, after, before) in epoch seconds
        prev_last: int | None = None
        d = start.astimezone(self.zone).date() + timedelta(days=1)
        end, horizon = (start + RPO_WINDOW).timestamp(), (start + HORIZON).timestamp()
        while True:
            if self.day_matches(d):
                if self._plain(d):
                    base = int(self._midnight(d).timestamp())
                    first, last = base + self.times[0], base + self.times[-1]
                    gaps = [(inner[0], base + inner[1], base + inner[1] + inner[0])] if inner else []
                else:
                    rs = self.day_runs(d)
                    if not rs:
                        d += timedelta(days=1)
                        continue
                    first, last = rs[0], rs[-1]
                    gaps = [(b - a, a, b) for a, b in zip(rs, rs[1:])]
                if prev_last is not None:
                    gaps.insert(0, (first - prev_last, prev_last, first))
                for g in gaps:
                    if best is None or g[0] > best[0]:
                        best = g
                if prev_last is not None and first > end:
                    break  # the gap that crosses the end of the window is in
                prev_last = last
            if self._midnight(d).timestamp() > horizon:
                break
            d += timedelta(days=1)
        if best is None:
            return None
        return Gap(best[0], *(datetime.fromtimestamp(t, timezone.utc) for t in best[1:]))

    def restore_points(self, start: datetime, retention: int, gap: Gap) -> RestorePoints | None:
        """Count backups alive just before and just after each run over a year of steady state. A backup
        expires at its start + retention: one expiring at the instant of a run counts before it, not after."""
        span = timedelta(seconds=retention) + max(timedelta(days=366), timedelta(seconds=2 * gap.seconds))
        runs = self.runs(start, start + span, anchor=start)
        if len(runs) < 2:
            return None
        interval = Counter(b - a for a, b in zip(runs, runs[1:])).most_common(1)[0][0]
        low = high = None
        j_after = j_before = 0
        for i, r in enumerate(runs):
            if r - retention < runs[0]:
                continue  # not yet steady: backups from before the window would still be alive
            while runs[j_after] <= r - retention:
                j_after += 1
            while runs[j_before] < r - retention:
                j_before += 1
            after, before = i - j_after + 1, i - j_before
            high = after if high is None else max(high, after)
            low = before if low is None else min(low, before)
        if low is None:
            return None
        return RestorePoints(low, high, retention, interval)


def parse(value: str) -> Cadence:
    """Velero's spec.schedule -> Cadence; CadenceError when robfig/cron (so Velero) would refuse it."""
    line, tz = cron.split_velero_schedule(value or "")
    zone: tzinfo = timezone.utc
    if tz:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
            raise CadenceError(f"unknown time zone {tz!r}") from None
    line = DESCRIPTORS.get(line, line)
    if line.startswith("@every"):
        interval = cron.every_interval(line)
        if interval is None or interval.total_seconds() < 1:
            raise CadenceError(f"cannot read the interval in {value!r}")
        return Cadence(value, zone, tz, every=int(interval.total_seconds()))
    fields = line.split()
    if len(fields) != 5:
        raise CadenceError(f"{value!r} has {len(fields)} fields; Velero expects 5")
    return Cadence(value, zone, tz, **_expand(fields, value))


def _expand(fields: list[str], value: str) -> dict:
    from croniter import croniter

    cleaned = ["*" if f == "?" else f for f in fields]
    try:
        expanded, nth = croniter.expand(" ".join(cleaned))
    except Exception:  # croniter raises several unrelated types for bad input
        raise CadenceError(f"{value!r} is not a valid cron line") from None
    sets = []
    for i, (values, (low, high)) in enumerate(zip(expanded, _RANGES)):
        if values == ["*"]:
            sets.append(frozenset(range(low, high + 1)))
        elif nth or not all(isinstance(v, int) for v in values):
            raise CadenceError(f"{value!r}: {fields[i]!r} is not supported by Velero's cron (robfig/cron)")
        else:
            sets.append(frozenset(v % 7 if i == 4 else v for v in values))
    minutes, hours, doms, months, dows = sets
    if any(int(n) > 6 for part in fields[4].split(",") for n in re.findall(r"\d+", part.split("/")[0])):
        raise CadenceError(f"{value!r}: day-of-week {fields[4]!r} is out of range for Velero's cron (0-6)")
    star = [any(part.split("/")[0].split("-")[0] in ("*", "?") for part in f.split(",")) for f in fields]
    return {
        "times": tuple(sorted(h * 3600 + m * 60 for h in hours for m in minutes)),
        "doms": doms, "months": months, "dows": dows,
        "day_and": star[2] or star[4],
    }

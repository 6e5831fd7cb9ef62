"""Times and durations as Kubernetes and Velero write them: RFC 3339 timestamps and Go durations. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction

# Go's time.ParseDuration units, in nanoseconds (µ is U+00B5, μ U+03BC: Go takes both).
_GO_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
_GO_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)", re.ASCII)
# The policy's own spellings beside Go's: days and weeks (Go has neither).
_POLICY_UNITS = {"d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
_POLICY_DAYS = re.compile(r"^([0-9]{1,7})([dw])$", re.ASCII)
GO_MAX_NANOSECONDS = 2**63 - 1  # time.Duration is an int64 of nanoseconds


class DurationTooLong(ValueError):
    """Written as a duration, but longer than Go's time.Duration holds (about 292 years)."""


@dataclass(frozen=True, order=True)
class Duration:
    """A span of time compared by value: `720h`, `720h0m0s` and `30d` are one Duration.

    Parsed once at the edge (`parse` for the policy's spellings and Go's, `go` for Go's alone);
    `str()` is Go's own spelling (`time.Duration.String`), which is how Velero writes it back.
    """

    nanoseconds: int

    @classmethod
    def go(cls, text) -> Duration:
        """Go's time.ParseDuration: `720h0m0s`, `1h30m`, `1.5h`, `90s`, `0`; ValueError otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"not a duration: {text!r}")
        body = text[1:] if text[:1] in "+-" else text
        if body == "0":
            return cls(0)
        total, pos = Fraction(0), 0
        while pos < len(body):
            m = _GO_PART.match(body, pos)
            if not m or m.group(1) in ("", "."):
                raise ValueError(f"not a Go duration: {text!r}")
            total += Fraction(m.group(1)) * _GO_UNITS[m.group(2)]
            pos = m.end()
        if not body:
            raise ValueError(f"not a Go duration: {text!r}")
        if total > GO_MAX_NANOSECONDS:
            raise DurationTooLong(f"longer than a Go duration holds: {text!r}")
        value = int(total)
        return cls(-value if text[:1] == "-" else value)

    @classmethod
    def parse(cls, text) -> Duration:
        """The policy's spellings (`30d`, `2w`, `36h`, `1h30m`) and every Go one; ValueError otherwise."""
        m = _POLICY_DAYS.match(text) if isinstance(text, str) else None
        if m:
            value = int(m.group(1)) * _POLICY_UNITS[m.group(2)]
            if value > GO_MAX_NANOSECONDS:
                raise DurationTooLong(f"longer than a Go duration holds: {text!r}")
            return cls(value)
        return cls.go(text)

    @classmethod
    def of(cls, text) -> Duration | None:
        """`parse`, or None when `text` is absent or not a duration."""
        try:
            return cls.parse(text)
        except (ValueError, TypeError, ZeroDivisionError):
            return None

    @classmethod
    def from_seconds(cls, seconds: float) -> Duration:
        return cls(int(Fraction(seconds) * 10**9))

    @property
    def seconds(self) -> float:
        return self.nanoseconds / 10**9

    def timedelta(self) -> timedelta:
        return timedelta(microseconds=self.nanoseconds // 1000)

    def __str__(self) -> str:
        """Go's time.Duration.String(): `720h0m0s`, `1h30m0s`, `1m30s`, `1.5s`, `500ms`, `0s`."""
        n = self.nanoseconds
        if n == 0:
            return "0s"
        sign, u = ("-" if n < 0 else ""), abs(n)
        if u < 10**9:
            for unit, scale in (("ns", 1), ("µs", 10**3), ("ms", 10**6)):
                if u < scale * 1000:
                    return sign + _frac(u, scale) + unit
        seconds, minutes, hours = u % (60 * 10**9), (u // (60 * 10**9)) % 60, u // (3600 * 10**9)
        text = _frac(seconds, 10**9) + "s"
        if hours or minutes:
            text = f"{minutes}m" + text
        if hours:
            text = f"{hours}h" + text
        return sign + text

    def policy_text(self) -> str:
        """The shortest policy spelling: `30d` for whole days, `36h` for whole hours, else Go's (`1h30m`)."""
        day, hour = _POLICY_UNITS["d"], _GO_UNITS["h"]
        if self.nanoseconds > 0 and self.nanoseconds % day == 0:
            return f"{self.nanoseconds // day}d"
        if self.nanoseconds > 0 and self.nanoseconds % hour == 0:
            return f"{self.nanoseconds // hour}h"
        text = str(self)
        return re.sub(r"(?<=[hm])0s$", "", re.sub(r"(?<=h)0m(?=0s$)", "", text))


def _frac(value: int, scale: int) -> str:
    whole, rest = divmod(value, scale)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


# Velero's --default-backup-ttl unless the server is started with another (pkg/cmd/server/config/config.go
# defaultBackupTTL = 30 * 24 * time.Hour); backup_controller.go prepareBackupRequest uses it when a
# Backup's spec.ttl is 0 or absent.
DEFAULT_RETENTION = Duration.parse("720h")


def parse_time(text) -> datetime | None:
    """An RFC 3339 timestamp (`2026-11-24T23:00:00Z`) as an aware datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, `Z` suffix: how snapplan's JSON writes every time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

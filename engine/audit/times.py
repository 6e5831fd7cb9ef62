"""Durations as the audit shows them (reading times and Go durations is engine.times)."""
from __future__ import annotations


def duration(seconds: int | float) -> str:
    """`47h`, `23h30m`, `45m`, `168h (7d)`: hours and minutes, days added for whole days from 48h up."""
    total = int(round(seconds))
    if total < 60:
        return f"{total}s"
    hours, rem = divmod(total // 60, 60)
    if hours == 0:
        return f"{rem}m"
    text = f"{hours}h" + (f"{rem:02d}m" if rem else "")
    if hours >= 48 and total % 86400 == 0:
        text += f" ({total // 86400}d)"
    return text

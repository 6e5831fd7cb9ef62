"""Durations typed on the command line: `90s`, `10m`, `1h30m`, or plain seconds."""
from __future__ import annotations

import re

import typer


def parse_span(text: str, option: str) -> float:
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or not parts:
        raise typer.BadParameter(f"{text!r} is not a duration (use e.g. 90s, 10m, 1h30m)", param_hint=option)
    h, m, s = (int(x or 0) for x in parts.groups())
    return float(h * 3600 + m * 60 + s)

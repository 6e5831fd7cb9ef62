"""Durations typed on the command line: `90s`, `10m`, `1h30m` (Go's spellings), or plain seconds."""
from __future__ import annotations

import re

import typer


def parse_span(text: str, option: str) -> float:
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    from engine.times import Duration  # (fractions and decimal: not for --help)

    span = Duration.of(text)
    if span is None or span.nanoseconds < 0 or text[:1] in "+-":
        raise typer.BadParameter(f"{text!r} is not a duration (use e.g. 90s, 10m, 1h30m)", param_hint=option)
    return span.seconds

"""Hide credential values in messages from the API server before anyone sees them.

A server may quote what it was sent: an admission webhook that denies a Secret can echo its data in the
message, and apply prints the server's message. Every form a value can take there is replaced.
"""
from __future__ import annotations

import base64
from collections.abc import Iterable

HIDDEN = "(sensitive value hidden)"
SHORTEST = 6  # shorter fragments of a credentials file (`[default]`'s parts, `=`) would hide ordinary words


def needles(secrets: Iterable[bytes]) -> tuple[str, ...]:
    """The secrets as text and base64, whole and each `key = value` line's value; longest first."""
    found: set[str] = set()
    for data in secrets:
        text = data.decode("utf-8", "replace")
        parts = [text, text.strip(), *(line.split("=", 1)[1].strip() for line in text.splitlines() if "=" in line)]
        for part in parts:
            if len(part) >= SHORTEST:
                raw = part.encode()
                found |= {part, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
        if len(data) >= SHORTEST:
            found.add(base64.b64encode(data).decode())
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, hidden: tuple[str, ...]) -> str:
    for needle in hidden:
        if needle in text:
            text = text.replace(needle, HIDDEN)
    return text


class Redacted(Exception):
    """An action's failure whose message had a credential in it, with the credential hidden."""

"""The one output sanitiser: text bound for a terminal, with every character a terminal would act on escaped.

Names, messages and keys come from the cluster, the bucket and users' files: an ESC starts a control sequence
(clear the screen, move the cursor, rewrite a line), a CR overwrites the line, U+202E reverses what follows,
U+200B hides. Every command's text output goes through `for_terminal` (engine.cli.terminal, the error
reporter, the progress displays), so a hostile value shows as `\\x1b`, `\\r` or `\\u202e`, never acts.
Only the color codes snapplan's own renderers write survive, and only when colors are on.
"""
from __future__ import annotations

import re

# The SGR codes our renderers use (reset, bold, dim, red, green, yellow, magenta, cyan): nothing that hides
# text (8), swaps colors (7) or moves anything.
OWN_COLORS = re.compile(r"\x1b\[(?:0|1|2|31|32|33|35|36)m")
KEEP = {"\n", "\t", " "}


def escape_char(c: str) -> str:
    """A character as Python would write it in a string literal: \\x1b, \\r, \\u202e."""
    return repr(c)[1:-1] if c not in ("'", '"', "\\") else c


def escape_controls(text: str) -> str:
    """Every non-printable character escaped (control, format, bidi, zero-width, line separators), line breaks
    and tabs too. For single values: names, JSON fragments."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else escape_char(c) for c in text)


def for_terminal(text: str, colors: bool = False) -> str:
    """Whole lines of output: like escape_controls but keeping line breaks and tabs, and with `colors`
    snapplan's own color codes."""
    if text.isprintable():
        return text
    if not colors:
        return "".join(c if c.isprintable() or c in KEEP else escape_char(c) for c in text)
    out, last = [], 0
    for m in OWN_COLORS.finditer(text):
        out.append(for_terminal(text[last:m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(for_terminal(text[last:]))
    return "".join(out)

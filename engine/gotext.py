"""Text as Velero's Go code reads it: strconv.ParseBool. Pure."""
from __future__ import annotations

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(text) -> bool | None:
    """Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; None for anything else."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None

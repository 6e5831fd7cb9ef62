"""How much input snapplan reads: each bound, and the environment variable that raises it.

A state file of 500 MB of YAML took 12 minutes and 9 GB before this bound. Measured on `plan` (20,000 Backups,
9 MB): YAML peaks near 400 MB (about 40 times the file), JSON near 90 MB (about 5 times, growing linearly). The bounds are checked before a byte is parsed,
and the file is read only up to the bound, so /dev/zero or a FIFO cannot run on forever either.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SnapplanError

MIB = 2**20


@dataclass(frozen=True)
class Limit:
    what: str  # "a YAML state file"
    default_mib: int
    env_var: str

    def mib(self) -> int:
        raw = os.environ.get(self.env_var, "").strip()
        if not raw:
            return self.default_mib
        if not raw.isdigit() or int(raw) < 1:
            raise SnapplanError(f"{self.env_var}={raw!r} is not a size: give whole MiB, e.g. {self.env_var}=512")
        return int(raw)

    def too_big(self, name: str, size: int | None) -> str:
        """The message for a file over the bound: the limit, and how to raise it."""
        now = self.mib()
        have = f"{size / MIB:.4g} MiB" if size is not None else "larger"
        raise_to = max(now * 2, -(-(size or 0) // MIB) + 1)
        return (f"{name} is {have}, more than the {now} MiB snapplan reads from {self.what}; raise the limit with "
                f"the environment variable {self.env_var}={raise_to} (MiB) if the file is what you meant")


STATE_YAML = Limit("a YAML state file (about 40 times that in memory; export it as JSON, `kubectl get ... "
                   "-o json`, which reads up to 256 MiB in far less)", 64, "SNAPPLAN_MAX_STATE_MIB")
STATE_JSON = Limit("a JSON state file", 256, "SNAPPLAN_MAX_STATE_MIB")
POLICY = Limit("a policy file", 1, "SNAPPLAN_MAX_POLICY_MIB")


def read_bounded(path: Path, most: int) -> tuple[bytes, int | None]:
    """(up to `most` + 1 bytes of the file, its size when it is a regular file). OSError as open() raises it."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        size = st.st_size if os.path.stat.S_ISREG(st.st_mode) else None
        if size is not None and size > most:
            return b"", size
        return fh.read(most + 1), size

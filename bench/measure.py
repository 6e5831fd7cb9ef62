"""Run a command as a child process and measure it: wall time, CPU time and the peak RSS of that one process.

Measured by bench/child.py, a small launcher, so the peak RSS is the command's own (see there why).
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "child.py"


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    rss_kb: int  # peak resident set size of the process, KiB (Linux ru_maxrss)
    cpu: float  # user + system seconds the process used (less sensitive to a busy machine than wall time)
    code: int
    out: str
    err: str


class CommandFailed(Exception):
    pass


def run(cmd: list[str], *, env: dict | None = None, cwd: str | Path | None = None, timeout: float = 900,
        check: bool = True) -> Run:
    """One run; `check` raises CommandFailed (with its stderr) on a non-zero exit."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        report, out_path, err_path = Path(tmp, "report.json"), Path(tmp, "out"), Path(tmp, "err")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), str(report), *cmd],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
                                    start_new_session=True)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise CommandFailed(f"{' '.join(cmd[:4])} ... took longer than {timeout:.0f} s") from None
        if not report.exists():
            raise CommandFailed(f"the launcher failed ({proc.returncode}): {err_path.read_text()[-2000:]}")
        m = json.loads(report.read_text())
        result = Run(m["wall"], m["rss_kb"], m["cpu"], m["code"], out_path.read_text(errors="replace"),
                     err_path.read_text(errors="replace"))
    if check and result.code != 0:
        raise CommandFailed(f"{' '.join(cmd[:4])} ... exited {result.code}:\n{result.err[-2000:]}")
    return result


def median(values) -> float:
    return statistics.median(values)

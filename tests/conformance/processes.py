"""Child processes the harness starts: each logs to its own file, dies with the harness (PR_SET_PDEATHSIG)
even when the harness is killed, and is stopped with SIGTERM, then SIGKILL."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port free right now (the OS hands out another one to the next caller)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not glibc Linux: the harness's own stop() still ends the child
        pass


class Process:
    """One started program; `log` holds its stdout and stderr."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.log = name, list(argv), log
        self._out = open(log, "ab")  # noqa: SIM115  (closed in stop())
        # A session of its own: Ctrl-C in the harness's terminal reaches the harness only, which then
        # stops its children in order (velero before kube-apiserver before etcd).
        self._popen = subprocess.Popen(self.argv, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **(env or {})}, start_new_session=True,
                                       preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def running(self) -> bool:
        return self._popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ready() until it holds; raise with the program's last log lines if it exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with {self._popen.returncode} before {what}; "
                                   f"its log ({self.log}) ends:\n{self.tail()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not {what} after {timeout:.0f}s; its log ({self.log}) ends:\n{self.tail()}")

    def stop(self, grace: float = 10) -> None:
        if self.running():
            os.killpg(self._popen.pid, signal.SIGTERM)
            try:
                self._popen.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self._popen.pid, signal.SIGKILL)
                self._popen.wait()
        self._out.close()

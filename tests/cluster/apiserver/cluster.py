"""A test cluster: store, clock, HTTPS API server and kubeconfig, with or without Velero installed.

Controllers (the Velero simulator) attach with `attach()`; tests advance a ManualClock and call
`step()`, while `serve` runs them on a background thread against a RealClock.
"""
from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any, Callable, Protocol

from ..clock import ManualClock
from .bootstrap import install_velero, system_namespaces
from .faults import Faults, RequestCounter
from .server import ApiServer
from .store import Store
from .tls import ca_pem, kubeconfig, write_kubeconfig


class Controller(Protocol):
    def step(self) -> None: ...


class Cluster:
    """Everything a test needs to point a client at: `url`, `token`, `write_kubeconfig()`."""

    def __init__(self, *, clock: Any = None, with_velero: bool = True, token: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, velero_namespace: str = "velero") -> None:
        self.clock = clock or ManualClock()
        self.store = Store(self.clock)
        self.faults = Faults()
        self.requests = RequestCounter()
        self.token = token or secrets.token_urlsafe(24)
        self.with_velero = with_velero
        self.velero_namespace = velero_namespace
        self.server = ApiServer(self.store, self.token, host=host, port=port, faults=self.faults,
                                requests=self.requests)
        self.controllers: list[Controller] = []
        self._stoppers: list[Callable[[], None]] = []
        system_namespaces(self.store)
        if with_velero:
            install_velero(self.store, velero_namespace)

    # ----- lifecycle
    def start(self) -> "Cluster":
        self.server.start()
        return self

    def stop(self) -> None:
        for stopper in reversed(self._stoppers):
            stopper()
        self._stoppers.clear()
        self.server.stop()

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca_pem(self) -> bytes:
        return ca_pem()

    def kubeconfig(self, context: str = "test", namespace: str | None = None) -> dict:
        return kubeconfig(self.url, self.token, context, namespace)

    def write_kubeconfig(self, path: str | Path, context: str = "test", namespace: str | None = None) -> Path:
        """Write a kubeconfig (CA data, bearer token) for this cluster; returns the path."""
        return write_kubeconfig(path, self.url, self.token, context, namespace)

    # ----- controllers
    def attach(self, controller: Controller) -> Controller:
        """Plug in a controller with a `step()` (e.g. VeleroSimulator); `step()` and `run_controllers()`
        drive it."""
        self.controllers.append(controller)
        return controller

    def step(self) -> None:
        """Let every attached controller reconcile once at clock.now()."""
        for controller in self.controllers:
            controller.step()

    def run_controllers(self, period: float = 0.5) -> None:
        """Step the attached controllers every `period` wall seconds until stop() (for `serve`)."""
        for controller in self.controllers:
            start = getattr(controller, "start_background", None)
            if start is not None:
                self._stoppers.append(start(period))
                continue
            stop = threading.Event()

            def loop(c: Controller = controller, s: threading.Event = stop) -> None:
                while not s.wait(period):
                    c.step()
            thread = threading.Thread(target=loop, name="controller", daemon=True)
            thread.start()
            self._stoppers.append(lambda s=stop, t=thread: (s.set(), t.join(timeout=10)))

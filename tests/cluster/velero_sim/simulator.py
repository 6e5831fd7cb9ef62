"""VeleroSimulator: Velero's controllers run against the test cluster's store at the clock's time.

step() reconciles everything once at clock.now(), the way the real controllers would if they woke up
then. Nothing runs between steps: a clock jump over several cron times gives one backup, as a Velero
pod that was down would. run_until() moves a ManualClock from one due event to the next, so a
simulated day has every backup at its cron time and every expiry on time."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .backups import BackupController
from .context import DEFAULT_CREDENTIALS, DEFAULT_TTL, Context
from .deletion import DeletionController, GarbageCollector
from .downloads import DownloadRequestController
from .kube import Kube
from .locations import LocationController
from .objectstore import BackupStore, Clients
from .restores import RestoreController, RestoreRecord
from .schedules import ScheduleController
from .status_requests import StatusRequestController
from .sync import SyncController

_MAX_PASSES = 6  # passes per step until nothing changes (a schedule's backup starts in the same step)


class VeleroSimulator:
    """Velero v1.16 with the aws plugin, in one namespace, driven by step()."""

    def __init__(
        self,
        store: Any,
        clock: Any,
        s3_endpoint_url: str | None = None,
        namespace: str = "velero",
        *,
        default_credentials: tuple[str, str] | None = DEFAULT_CREDENTIALS,
        default_location: str = "default",
        default_ttl: timedelta = DEFAULT_TTL,
        schedule_skip_immediately: bool = False,
    ) -> None:
        """s3_endpoint_url stands in for AWS for locations without config.s3Url. default_credentials
        is the Secret (name, key) the velero pod mounts as its AWS credentials file."""
        self.clock = clock
        self.namespace = namespace
        self.ctx = Context(Kube(store, namespace), Clients(), s3_endpoint_url, default_credentials)
        self.locations = LocationController(self.ctx)
        self.sync = SyncController(self.ctx)
        self.gc = GarbageCollector(self.ctx)
        self.deletions = DeletionController(self.ctx)
        self.schedules = ScheduleController(self.ctx, schedule_skip_immediately)
        self.backups = BackupController(self.ctx, default_location, default_ttl)
        self.restores = RestoreController(self.ctx)
        self.status_requests = StatusRequestController(self.ctx)
        self.downloads = DownloadRequestController(self.ctx)
        self._lock = threading.RLock()
        self._started = False

    @property
    def restore_records(self) -> list[RestoreRecord]:
        """Completed restores in completion order: which namespaces went where."""
        return list(self.restores.records)

    def step(self) -> None:
        """Run every controller at clock.now() until nothing more happens at this instant."""
        with self._lock:
            self.ctx.now = self.clock.now()
            if not self._started:
                self._started = True
                self.backups.restart()
                self.restores.restart()
            for _ in range(_MAX_PASSES):
                before = self._fingerprint()
                self._pass()
                if self._fingerprint() == before:
                    break

    def _pass(self) -> None:
        self.locations.reconcile()
        self.sync.reconcile()
        self.gc.reconcile()
        self.deletions.reconcile()
        self.schedules.reconcile()
        self.backups.reconcile()
        self.restores.reconcile()
        self.status_requests.reconcile()
        self.downloads.reconcile()

    def _fingerprint(self) -> str:
        # The store's global resourceVersion moves with every write anywhere.
        return self.ctx.kube.store.resource_version

    def next_wakeup(self) -> datetime | None:
        """The earliest future time a controller has work: a cron time, the end of a backup or restore
        phase, an expiration. Location validation and sync are not events: they run at every step
        once their period has passed."""
        with self._lock:
            self.ctx.now = self.clock.now()
            times = [t for c in (self.schedules, self.backups, self.restores, self.gc)
                     if (t := c.next_wakeup()) is not None and t > self.ctx.now]
            return min(times, default=None)

    def backup_store(self, location: dict) -> BackupStore:
        """A location's bucket as Velero reaches it (for tests that look inside)."""
        return self.ctx.backup_store(location)

    def start_background(self, period: float = 0.5) -> Callable[[], None]:
        """Step every `period` wall seconds on a daemon thread (for `serve` with a RealClock).
        Returns a function that stops the thread and waits for it."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.step()
                except Exception:  # noqa: BLE001 - a controller error must not kill the loop
                    import traceback

                    traceback.print_exc()
                stop.wait(period)

        thread = threading.Thread(target=loop, name="velero-sim", daemon=True)
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(timeout=10)

        return stopper


def run_until(sim: VeleroSimulator, clock: Any, until: datetime | timedelta,
              tick: timedelta | float | None = None) -> None:
    """Advance a ManualClock to `until` (a time, or a span from now), stepping the simulator at every
    due event on the way, and at least every `tick` if one is given (tick emulates polling)."""
    if isinstance(tick, (int, float)):
        tick = timedelta(seconds=tick)
    end = clock.now() + until if isinstance(until, timedelta) else until
    sim.step()
    while clock.now() < end:
        target = end
        wake = sim.next_wakeup()
        if wake is not None:
            target = min(target, wake)
        if tick is not None:
            target = min(target, clock.now() + tick)
        clock.advance(target - clock.now())
        sim.step()

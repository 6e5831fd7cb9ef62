"""A deterministic Velero (v1.16, aws plugin) for the test cluster: its controllers for locations,
schedules, backups, restores, sync, expiry and deletion, acting on the API server's store and on S3.

Tests own the clock: `clock.advance(...)` then `sim.step()`, or `run_until(sim, clock, ...)`.
Imports: the store only through kube.py; S3 only through objectstore.py; nothing from engine/.
"""
from .objectstore import StorageError
from .restores import RestoreRecord
from .simulator import VeleroSimulator, run_until

__all__ = ["RestoreRecord", "StorageError", "VeleroSimulator", "run_until"]

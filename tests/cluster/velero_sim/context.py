"""What the simulated controllers share: the store, the time of the current pass, the way to a
location's bucket, and the in-memory state Velero also keeps only in memory (its backup tracker)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .kube import BSL, Kube
from .objectstore import BackupStore, Clients, StorageError, resolve_config

DEFAULT_CREDENTIALS = ("cloud-credentials", "cloud")  # what `velero install --secret-file` creates
DEFAULT_VALIDATION_FREQUENCY = timedelta(minutes=1)
DEFAULT_SYNC_PERIOD = timedelta(minutes=1)
DEFAULT_TTL = timedelta(hours=720)


@dataclass
class Context:
    kube: Kube
    clients: Clients
    aws_endpoint: str | None
    default_credentials: tuple[str, str] | None = DEFAULT_CREDENTIALS
    now: datetime = datetime.min
    # Backups being worked on by this Velero (uid -> plan); a DeleteBackupRequest may not touch them.
    in_progress: dict[str, object] = field(default_factory=dict)

    def location(self, name: str) -> dict | None:
        return self.kube.get(BSL, name) if name else None

    def backup_store(self, bsl: dict) -> BackupStore:
        """The location's bucket with its own credentials; StorageError if it cannot even be set up."""
        config = resolve_config(bsl, self.kube.read_secret, self.default_credentials, self.aws_endpoint)
        return BackupStore(config, self.clients)

    def try_backup_store(self, bsl: dict) -> tuple[BackupStore | None, str]:
        try:
            return self.backup_store(bsl), ""
        except StorageError as err:
            return None, str(err)

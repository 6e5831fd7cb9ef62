"""What a storage preflight found: one StorageReport per storage entry, as frozen data with a JSON form."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

FORMAT_VERSION = "1.0"


class Status(str, Enum):
    OK = "ok"
    INFO = "info"  # a fact worth knowing (versioning, object lock); never a failure
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_CHECKED = "not-checked"  # a storage type snapplan does not reach (gcp, azure, internal)


@dataclass(frozen=True)
class Check:
    """One step of the preflight. `message` is for people; a FAILED one names the fix."""

    name: str  # endpoint, credentials, bucket, region, write-probe, layout, versioning, object-lock, backups
    status: Status
    message: str


@dataclass(frozen=True)
class NewestBackup:
    name: str
    time: str | None  # the backup's startTimestamp, else creationTimestamp, else the object's LastModified
    phase: str | None


@dataclass(frozen=True)
class BackupsInBucket:
    """Velero backups under <prefix>/backups/, each a folder holding velero-backup.json."""

    count: int
    newest: NewestBackup | None
    unknown_to_cluster: tuple[str, ...] | None  # None: the cluster was not read
    without_metadata: tuple[str, ...] = ()  # folders under backups/ with no velero-backup.json


@dataclass(frozen=True)
class StorageReport:
    storage: str
    type: str
    checks: tuple[Check, ...]
    bucket: str | None = None
    prefix: str | None = None
    endpoint: str | None = None
    region: str | None = None
    credentials: str | None = None  # where the credentials came from, for people
    backups: BackupsInBucket | None = None

    @property
    def failed(self) -> bool:
        return any(c.status is Status.FAILED for c in self.checks)

    @property
    def checked(self) -> bool:
        return not any(c.status is Status.NOT_CHECKED for c in self.checks)

    @property
    def failures(self) -> tuple[str, ...]:
        """One line per failed check, each naming the storage: what a caller shows before refusing to go on."""
        return tuple(f"storage.{self.storage}: {c.message}" for c in self.checks if c.status is Status.FAILED)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)


def reports_to_json(reports: list[StorageReport] | tuple[StorageReport, ...]) -> dict:
    """The canonical form; the text renderer reads this, so `--json` and text cannot disagree."""
    return {
        "format_version": FORMAT_VERSION,
        "ok": not any(r.failed for r in reports),
        "storage": [_report_json(r) for r in reports],
    }


def _report_json(r: StorageReport) -> dict:
    backups = None
    if r.backups is not None:
        b = r.backups
        backups = {
            "count": b.count,
            "newest": None if b.newest is None else
            {"name": b.newest.name, "time": b.newest.time, "phase": b.newest.phase},
            "unknownToCluster": None if b.unknown_to_cluster is None else list(b.unknown_to_cluster),
            "withoutMetadata": list(b.without_metadata),
        }
    return {
        "name": r.storage,
        "type": r.type,
        "checked": r.checked,
        "failed": r.failed,
        "bucket": r.bucket,
        "prefix": r.prefix,
        "endpoint": r.endpoint,
        "region": r.region,
        "credentials": r.credentials,
        "checks": [{"name": c.name, "status": c.status.value, "message": c.message} for c in r.checks],
        "backups": backups,
        "failures": list(r.failures),
    }

"""What a Backup (or a Restore made from one) is, read from its object: coverage, phase, counts, Velero's
messages, expiry. Pure: the JSON form built here is what `--json` prints and what the text is made from."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from engine.model.desired import APP_LABEL, SCOPE_LABEL
from engine.times import parse_time, rfc3339

SCHEDULE_LABEL = "velero.io/schedule-name"
# Phases after which Velero does no more work on a backup; the last three are failures.
FINAL = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
FAILED = ("PartiallyFailed", "Failed", "FailedValidation")
PHASES = ("New", "Queued", "ReadyToStart", "FailedValidation", "InProgress", "WaitingForPluginOperations",
          "WaitingForPluginOperationsPartiallyFailed", "Finalizing", "FinalizingPartiallyFailed",
          "Completed", "PartiallyFailed", "Failed", "Deleting")


def until(moment: datetime | None, now: datetime) -> str | None:
    """`in 6 days`, `in 5 hours`, `in 12 minutes` or `expired`."""
    if moment is None:
        return None
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "expired"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"in {n} {unit}{'s' if n != 1 else ''}"
    return "in less than a minute"


@dataclass(frozen=True)
class Coverage:
    """Full (every namespace) or partial (an app's namespaces); `app` names the policy app when known."""

    full: bool
    app: str | None
    namespaces: tuple[str, ...]
    excluded: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.full:
            return "full" + (f" (without {', '.join(self.excluded)})" if self.excluded else "")
        return f"partial ({self.app or ', '.join(self.namespaces)})"


def coverage_of(backup: dict, apps: Mapping[str, tuple[str, ...]] | None = None) -> Coverage:
    """From snapplan's labels when present, else from spec.includedNamespaces; `apps` (a policy's app
    slug -> namespaces) names the app whose namespaces a partial backup covers exactly."""
    labels = backup.get("metadata", {}).get("labels") or {}
    spec = backup.get("spec") or {}
    included = tuple(spec.get("includedNamespaces") or ())
    excluded = tuple(spec.get("excludedNamespaces") or ())
    scope = labels.get(SCOPE_LABEL)
    if scope == "full" or (scope is None and (not included or "*" in included)):
        return Coverage(True, None, included or ("*",), excluded)
    app = labels.get(APP_LABEL) if scope == "application" else None
    if app is None and apps:
        app = next((slug for slug, ns in sorted(apps.items()) if set(ns) == set(included)), None)
    return Coverage(False, app, included, excluded)


@dataclass(frozen=True)
class Counts:
    attempted: int
    completed: int


@dataclass(frozen=True)
class FsBackups:
    """File-system volume backups: the PodVolumeBackups Velero made for this backup, by phase."""

    total: int
    completed: int
    failed: int


@dataclass(frozen=True)
class BackupDetails:
    name: str
    namespace: str
    phase: str
    coverage: Coverage
    schedule: str | None
    storage: str | None
    created: datetime | None
    started: datetime | None
    completed: datetime | None
    expires: datetime | None
    ttl: str | None
    items_backed_up: int | None
    items_total: int | None
    volume_snapshots: Counts | None
    csi_snapshots: Counts | None
    warnings: int
    errors: int
    validation_errors: tuple[str, ...]
    failure_reason: str | None
    fs_backups: FsBackups | None = None

    @property
    def final(self) -> bool:
        return self.phase in FINAL

    @property
    def failed(self) -> bool:
        return self.phase in FAILED

    @property
    def sort_key(self) -> tuple:
        """Newest first: by start (or creation) time, then name."""
        when = self.started or self.created or datetime.min.replace(tzinfo=timezone.utc)
        return (when, self.name)

    def to_json(self, now: datetime) -> dict:
        duration = (self.completed - self.started).total_seconds() if self.completed and self.started else None
        return {
            "name": self.name, "namespace": self.namespace, "phase": self.phase,
            "scope": "full" if self.coverage.full else "partial", "app": self.coverage.app,
            "coverage": self.coverage.text,
            "included_namespaces": list(self.coverage.namespaces),
            "excluded_namespaces": list(self.coverage.excluded),
            "schedule": self.schedule, "storage_location": self.storage,
            "created": _ts(self.created), "started": _ts(self.started), "completed": _ts(self.completed),
            "duration_seconds": duration,
            "expires": _ts(self.expires), "expires_in": until(self.expires, now),
            "expired": self.expires is not None and self.expires <= now, "ttl": self.ttl,
            "items": {"backed_up": self.items_backed_up, "total": self.items_total},
            "volume_snapshots": _counts(self.volume_snapshots), "csi_snapshots": _counts(self.csi_snapshots),
            "fs_volume_backups": None if self.fs_backups is None else {
                "total": self.fs_backups.total, "completed": self.fs_backups.completed,
                "failed": self.fs_backups.failed},
            "warnings": self.warnings, "errors": self.errors,
            "validation_errors": list(self.validation_errors), "failure_reason": self.failure_reason,
        }


def backup_details(backup: dict, apps: Mapping[str, tuple[str, ...]] | None = None,
                   fs_backups: FsBackups | None = None) -> BackupDetails:
    meta = backup.get("metadata") or {}
    spec = backup.get("spec") or {}
    status = backup.get("status") or {}
    progress = status.get("progress") or {}
    return BackupDetails(
        name=meta.get("name", ""), namespace=meta.get("namespace", ""), phase=status.get("phase") or "New",
        coverage=coverage_of(backup, apps), schedule=(meta.get("labels") or {}).get(SCHEDULE_LABEL),
        storage=spec.get("storageLocation"), created=parse_time(meta.get("creationTimestamp")),
        started=parse_time(status.get("startTimestamp")), completed=parse_time(status.get("completionTimestamp")),
        expires=parse_time(status.get("expiration")), ttl=spec.get("ttl"),
        items_backed_up=progress.get("itemsBackedUp"), items_total=progress.get("totalItems"),
        volume_snapshots=_read_counts(status, "volumeSnapshots"),
        csi_snapshots=_read_counts(status, "csiVolumeSnapshots"),
        warnings=status.get("warnings") or 0, errors=status.get("errors") or 0,
        validation_errors=tuple(status.get("validationErrors") or ()), failure_reason=status.get("failureReason"),
        fs_backups=fs_backups,
    )


def fs_backups_of(pod_volume_backups: list[dict]) -> FsBackups | None:
    if not pod_volume_backups:
        return None
    phases = [(p.get("status") or {}).get("phase") for p in pod_volume_backups]
    return FsBackups(len(phases), phases.count("Completed"), phases.count("Failed"))


def restore_json(restore: dict) -> dict:
    """A Restore made from a backup, as `snapshots show` lists it."""
    meta = restore.get("metadata") or {}
    spec = restore.get("spec") or {}
    status = restore.get("status") or {}
    progress = status.get("progress") or {}
    return {
        "name": meta.get("name"), "phase": status.get("phase") or "New",
        "created": meta.get("creationTimestamp"), "completed": status.get("completionTimestamp"),
        "included_namespaces": list(spec.get("includedNamespaces") or ["*"]),
        "namespace_mapping": dict(spec.get("namespaceMapping") or {}),
        "items": {"restored": progress.get("itemsRestored"), "total": progress.get("totalItems")},
        "warnings": status.get("warnings") or 0, "errors": status.get("errors") or 0,
        "failure_reason": status.get("failureReason"),
        "validation_errors": list(status.get("validationErrors") or []),
    }


def _read_counts(status: dict, prefix: str) -> Counts | None:
    attempted, completed = status.get(f"{prefix}Attempted"), status.get(f"{prefix}Completed")
    if attempted is None and completed is None:
        return None
    return Counts(attempted or 0, completed or 0)


def _counts(c: Counts | None) -> dict | None:
    return None if c is None else {"attempted": c.attempted, "completed": c.completed}


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)

"""The validated policy: complete, frozen dataclasses with every default applied."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import SourceRange
from engine.times import DEFAULT_RETENTION, Duration

OBJECT_STORAGE = ("aws", "s3-compatible", "gcp", "azure")
INTERNAL_STORAGE = ("hostpath", "nfs", "pvc")
# Each plugin's VolumeSnapshotter Init: ValidateVolumeSnapshotterConfigKeys with these keys, then its own checks.
# Velero notices a wrong key only when a backup snapshots a volume (PartiallyFailed), so the policy says it.
VSL_CONFIG_KEYS = {
    # velero-plugin-for-aws volume_snapshotter.go Init (region is required there)
    "aws": ("region", "profile", "credentialsFile", "enableSharedConfig", "ebsKmsKeyId"),
    # velero-plugin-for-gcp volume_snapshotter.go Init
    "gcp": ("snapshotLocation", "snapshotType", "project", "credentialsFile", "volumeProject"),
    # velero-plugin-for-microsoft-azure volume_snapshotter.go Init
    "azure": ("resourceGroup", "apiTimeout", "subscriptionId", "incremental", "tags", "credentialsFile"),
}
# Never a backupLabel: the managed-by label stays off backups (README), Velero sets its own on each one.
RESERVED_LABELS = ("app.kubernetes.io/managed-by", "velero.io/schedule-name", "velero.io/storage-location")


@dataclass(frozen=True)
class Credentials:
    """Exactly one source: a file's bytes, environment variable names, or an existing Secret."""

    file: Path | None = None
    env: tuple[tuple[str, str], ...] = ()  # (field, ENV_VAR_NAME), e.g. ("accessKeyId", "AWS_ACCESS_KEY_ID")
    secret_name: str | None = None
    secret_key: str = "cloud"

    @property
    def source(self) -> str:
        return "file" if self.file else ("env" if self.env else "secretRef")


@dataclass(frozen=True)
class DrillExpect:
    """A drill check: at least `min` objects of `kind` (or the one named) in the app's scratch namespaces."""

    kind: str
    name: str | None = None
    min: int = 1


@dataclass(frozen=True)
class ExecHook:
    """A command Velero runs in a pod's container; unset fields take Velero's defaults (Fail, 30s, first container)."""

    command: tuple[str, ...]
    container: str | None = None
    on_error: str | None = None  # Fail | Continue
    timeout: str | None = None  # a Go duration as written: 30s, 5m


@dataclass(frozen=True)
class Hooks:
    """An app's backup hooks: run in its pods by every backup that covers the app."""

    pre: tuple[ExecHook, ...] = ()
    post: tuple[ExecHook, ...] = ()
    label_selector: tuple[tuple[str, str], ...] = ()  # empty: the app's own labelSelector
    name: str | None = None  # the hook spec's name in Velero; None: the app's slug


@dataclass(frozen=True)
class ResourceFilter:
    """Velero's resource filters. `include`/`exclude` and `cluster` are the old style, the *_scoped lists the new."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_cluster_scoped: tuple[str, ...] = ()
    exclude_cluster_scoped: tuple[str, ...] = ()
    include_namespace_scoped: tuple[str, ...] = ()
    exclude_namespace_scoped: tuple[str, ...] = ()
    cluster: str = "auto"  # auto | include | exclude: includeClusterResources unset, true, false

    @property
    def old_style(self) -> bool:
        return bool(self.include or self.exclude or self.cluster != "auto")

    @property
    def new_style(self) -> bool:
        return bool(self.include_cluster_scoped or self.exclude_cluster_scoped or self.include_namespace_scoped
                    or self.exclude_namespace_scoped)


@dataclass(frozen=True)
class App:
    name: str
    namespaces: tuple[str, ...]
    label_selector: tuple[tuple[str, str], ...] = ()
    drill_expect: tuple[DrillExpect, ...] = ()
    hooks: Hooks | None = None


@dataclass(frozen=True)
class Storage:
    name: str
    type: str
    default: bool = False
    bucket: str | None = None
    prefix: str | None = None
    region: str | None = None
    endpoint: str | None = None
    path_style: bool | None = None
    ca_file: Path | None = None
    ca_cert_ref: tuple[str, str] | None = None  # (Secret name, key): objectStorage.caCertRef
    access_mode: str = "ReadWrite"
    protect: bool = False
    credentials: Credentials | None = None
    path: str | None = None
    server: str | None = None
    storage_class: str | None = None
    storage_size: str | None = None
    resource_group: str | None = None
    storage_account: str | None = None
    subscription_id: str | None = None
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SnapshotLocation:
    name: str
    type: str
    region: str | None = None
    credentials: Credentials | None = None
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Schedule:
    name: str
    scope: str  # full | application
    storage: str  # "" : Velero's default location (no storage given and no storage is default: true)
    schedule: str  # as written: preset, cron line or @every
    app: str | None = None
    snapshot_location: str | None = None
    timezone: str | None = None
    retention: Duration = DEFAULT_RETENTION
    enabled: bool = True
    start_immediately: bool = False
    volumes: str = "default"
    exclude: tuple[str, ...] = ()
    backup_labels: tuple[tuple[str, str], ...] = ()
    resources: ResourceFilter = ResourceFilter()


@dataclass(frozen=True)
class Restore:
    name: str
    scope: str
    from_schedule: str | None = None
    from_backup: str | None = None
    app: str | None = None
    namespace_mapping: tuple[tuple[str, str], ...] = ()
    existing_resources: str = "none"
    resources: ResourceFilter = ResourceFilter()


@dataclass(frozen=True)
class VeleroServer:
    """What the policy says of Velero's server flags, for a state that does not show its Deployment."""

    default_location: str | None = None  # --default-backup-storage-location
    default_ttl: Duration | None = None  # --default-backup-ttl


@dataclass(frozen=True)
class Policy:
    name: str
    velero_namespace: str
    apps: dict[str, App]
    storage: dict[str, Storage]
    snapshot_locations: dict[str, SnapshotLocation]
    schedules: dict[str, Schedule]
    restores: dict[str, Restore]
    files: tuple[str, ...] = ()
    drills_every: str | None = None  # `drills.every`: an app with no successful drill for longer is `untested`
    velero_server: VeleroServer = VeleroServer()
    external_storage: tuple[str, ...] = ()  # locations another tool manages, named by schedules
    positions: dict[str, SourceRange] = field(default_factory=dict, compare=False, hash=False)

    def where(self, dotted_path: str) -> SourceRange | None:
        """Source position of a dotted policy path, or of its nearest written ancestor."""
        path = dotted_path
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path.rpartition(".")[0]
        return None

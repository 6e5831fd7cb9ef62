"""Policy -> the Secrets, locations, Schedules and Restores snapplan wants in the cluster."""
from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine import cron
from engine.addr import Address
from engine.errors import Diagnostic, PolicyError, Severity
from engine.model.credentials import SourceMissing, digest, read_secret
from engine.model.provider import PROVIDERS
from engine.spec.policy import (App, Credentials, ExecHook, Policy, ResourceFilter, Restore, Schedule, SnapshotLocation,
                                Storage)
from engine.times import Duration

MANAGED_BY = ("app.kubernetes.io/managed-by", "snapplan")
POLICY_ANNOTATION = "snapplan.io/policy"
PROTECT_ANNOTATION = "snapplan.io/protect"
SCOPE_LABEL = "snapplan.io/scope"
APP_LABEL = "snapplan.io/app"
SECRET_KEY = "cloud"
LVP_MOUNT = "/var/velero-local-volume-provider"


@dataclass(frozen=True)
class DesiredObject:
    """One object as snapplan will write it. For Secrets, `secret` holds the data and `obj` has none."""

    address: Address
    obj: dict
    depends_on: tuple[Address, ...] = ()
    source: str = ""  # the policy path it comes from, e.g. "storage.primary"
    secret: Mapping[str, bytes] | None = field(default=None, repr=False)

    @property
    def secret_digests(self) -> dict[str, str]:
        return {k: digest(v) for k, v in (self.secret or {}).items()}


@dataclass(frozen=True)
class DesiredState:
    policy: Policy
    objects: dict[Address, DesiredObject]


def secret_name(storage: str) -> str:
    return f"snapplan-{storage}-credentials"


class _Builder:
    def __init__(self, policy: Policy, env: Mapping[str, str]):
        self.policy = policy
        self.ns = policy.velero_namespace
        self.env = env
        self.objects: dict[Address, DesiredObject] = {}
        self.problems: list[Diagnostic] = []

    def meta(self, name: str, extra_annotations: dict | None = None) -> dict:
        annotations = {POLICY_ANNOTATION: self.policy.name, **(extra_annotations or {})}
        return {"name": name, "namespace": self.ns, "labels": {MANAGED_BY[0]: MANAGED_BY[1]},
                "annotations": annotations}

    def add(self, obj: dict, source: str, depends_on=(), secret=None) -> Address:
        addr = Address.of(obj)
        self.objects[addr] = DesiredObject(addr, obj, tuple(depends_on), source, secret)
        return addr

    def credential(self, creds: Credentials | None, name: str, source: str,
                   profile: str = "default") -> tuple[dict | None, list[Address]]:
        """The `credential` selector for a location, adding the Secret it needs."""
        if creds is None:
            return None, []
        if creds.secret_name:
            return {"name": creds.secret_name, "key": creds.secret_key}, []
        try:
            data = read_secret(creds, self.env, profile)
        except SourceMissing as exc:
            path = f"{source}.{exc.field}"
            self.problems.append(Diagnostic(Severity.ERROR, str(exc), path, self.policy.where(path)))
            data = b""
        obj = {"apiVersion": "v1", "kind": "Secret", "metadata": self.meta(name), "type": "Opaque"}
        addr = self.add(obj, f"{source}.credentials", secret={SECRET_KEY: data})
        return {"name": name, "key": SECRET_KEY}, [addr]

    def storage(self, s: Storage) -> None:
        source = f"storage.{s.name}"
        selector, deps = self.credential(s.credentials, secret_name(s.name), source,
                                         dict(s.config).get("profile") or "default")
        obj_store: dict = {"bucket": s.bucket}
        if s.prefix:
            obj_store["prefix"] = s.prefix
        if s.ca_file is not None:
            try:
                obj_store["caCert"] = base64.b64encode(s.ca_file.read_bytes()).decode()
            except OSError as exc:
                path = f"{source}.caFile"
                self.problems.append(Diagnostic(Severity.ERROR, f"cannot read caFile: {exc.strerror or exc}",
                                                path, self.policy.where(path)))
        if s.ca_cert_ref is not None:
            obj_store["caCertRef"] = {"name": s.ca_cert_ref[0], "key": s.ca_cert_ref[1]}
        spec: dict = {"provider": PROVIDERS[s.type], "objectStorage": obj_store, "default": s.default,
                      "accessMode": s.access_mode}
        config = _location_config(s)
        if config:
            spec["config"] = config
        if selector:
            spec["credential"] = selector
        extra = {PROTECT_ANNOTATION: "true"} if s.protect else None
        obj = {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
               "metadata": self.meta(s.name, extra), "spec": spec}
        self.add(obj, source, deps)

    def snapshot_location(self, v: SnapshotLocation) -> None:
        source = f"snapshotLocations.{v.name}"
        selector, deps = self.credential(v.credentials, f"snapplan-{v.name}-vsl-credentials", source,
                                         dict(v.config).get("profile") or "default")
        spec: dict = {"provider": PROVIDERS[v.type]}
        config = dict(v.config)
        if v.region:
            config["region"] = v.region
        if config:
            spec["config"] = config
        if selector:
            spec["credential"] = selector
        obj = {"apiVersion": "velero.io/v1", "kind": "VolumeSnapshotLocation",
               "metadata": self.meta(v.name), "spec": spec}
        self.add(obj, source, deps)

    def schedule(self, s: Schedule) -> None:
        template = schedule_template(self.policy, s)
        deps = [Address("BackupStorageLocation", self.ns, s.storage)] if s.storage in self.policy.storage else []
        if s.snapshot_location:
            deps.append(Address("VolumeSnapshotLocation", self.ns, s.snapshot_location))
        spec = {"schedule": cron.velero_schedule(s.schedule, s.timezone), "paused": not s.enabled,
                "skipImmediately": not s.start_immediately, "template": template}
        obj = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": self.meta(s.name), "spec": spec}
        self.add(obj, f"schedules.{s.name}", deps)

    def restore(self, r: Restore) -> None:
        spec: dict = {}
        deps = []
        if r.from_schedule:
            spec["scheduleName"] = r.from_schedule
            deps.append(Address("Schedule", self.ns, r.from_schedule))
        else:
            spec["backupName"] = r.from_backup
        cov = coverage(self.policy, r.scope, r.app)
        cov.pop("includeClusterResources", None)
        spec.update(cov)
        spec.update(resource_filters(r.resources))
        if r.namespace_mapping:
            spec["namespaceMapping"] = dict(r.namespace_mapping)
        spec["existingResourcePolicy"] = r.existing_resources
        obj = {"apiVersion": "velero.io/v1", "kind": "Restore", "metadata": self.meta(r.name), "spec": spec}
        self.add(obj, f"restores.{r.name}", deps)


VOLUME_OPTIONS = {
    "default": {},
    "filesystem": {"defaultVolumesToFsBackup": True},
    "snapshot": {"snapshotVolumes": True, "defaultVolumesToFsBackup": False},
    "none": {"snapshotVolumes": False, "defaultVolumesToFsBackup": False},
}


def coverage(policy: Policy, scope: str, app: str | None, exclude=()) -> dict:
    """What a backup or restore covers: every namespace, or the app's namespaces and labels."""
    if scope == "full":
        out: dict = {"includedNamespaces": ["*"]}
        if exclude:
            out["excludedNamespaces"] = list(exclude)
        return out
    a = policy.apps[app]
    # includeClusterResources stays unset ("auto"): Velero then takes the cluster-scoped objects the
    # namespaced ones need, above all the PersistentVolumes of the claims; false would leave them out.
    out: dict = {"includedNamespaces": list(a.namespaces)}
    if a.label_selector:
        out["labelSelector"] = {"matchLabels": dict(a.label_selector)}
    return out


# Velero's spelling of each filter (BackupSpec / RestoreSpec); a Restore has only the first two.
FILTER_FIELDS = (("include", "includedResources"), ("exclude", "excludedResources"),
                 ("include_cluster_scoped", "includedClusterScopedResources"),
                 ("exclude_cluster_scoped", "excludedClusterScopedResources"),
                 ("include_namespace_scoped", "includedNamespaceScopedResources"),
                 ("exclude_namespace_scoped", "excludedNamespaceScopedResources"))
CLUSTER_RESOURCES = {"include": True, "exclude": False}  # auto: includeClusterResources stays unset


def resource_filters(f: ResourceFilter) -> dict:
    out: dict = {velero: list(getattr(f, attr)) for attr, velero in FILTER_FIELDS if getattr(f, attr)}
    if f.cluster in CLUSTER_RESOURCES:
        out["includeClusterResources"] = CLUSTER_RESOURCES[f.cluster]
    return out


def exec_hook(h: ExecHook) -> dict:
    """Only what the policy says. Unset in Velero: timeout 30s, the pod's first container
    (pkg/podexec/pod_command_executor.go ExecutePodCommand), and onError that does not stop the backup
    (internal/hook/item_hook_handler.go HandleHooks stops only on an explicit Fail)."""
    out: dict = {}
    if h.container:
        out["container"] = h.container
    out["command"] = list(h.command)
    if h.on_error:
        out["onError"] = h.on_error
    if h.timeout:
        out["timeout"] = h.timeout
    return {"exec": out}


def hook_resource(a: App) -> dict:
    """One BackupResourceHookSpec: the app's namespaces, its pods (the hooks' selector or the app's)."""
    out: dict = {"name": a.hooks.name or a.name, "includedNamespaces": list(a.namespaces)}
    selector = a.hooks.label_selector or a.label_selector
    if selector:
        out["labelSelector"] = {"matchLabels": dict(selector)}
    if a.hooks.pre:
        out["pre"] = [exec_hook(h) for h in a.hooks.pre]
    if a.hooks.post:
        out["post"] = [exec_hook(h) for h in a.hooks.post]
    return out


def backup_hooks(apps: Mapping[str, App], scope: str, app: str | None, exclude=()) -> dict:
    """`hooks` of a BackupSpec: the app's for an application backup; every app's (but those whose namespaces
    the backup leaves out) for a full one."""
    if scope == "full":
        covered = [a for _, a in sorted(apps.items()) if set(a.namespaces) - set(exclude)]
    else:
        covered = [apps[app]]
    resources = [hook_resource(a) for a in covered if a.hooks]
    return {"hooks": {"resources": resources}} if resources else {}


def backup_template(policy: Policy, *, scope: str, app: str | None, storage: str, retention: Duration,
                    volumes: str = "default", exclude=(), snapshot_location: str | None = None,
                    labels: Mapping[str, str] | None = None,
                    resources: ResourceFilter = ResourceFilter()) -> dict:
    """A Velero BackupSpec as snapplan writes it: a Schedule's template, or an on-demand Backup's spec.
    No `storage`: no storageLocation, so Velero picks its default location for each backup."""
    template: dict = {"metadata": {"labels": {**(labels or {}), **scope_labels(scope, app)}},
                      "ttl": str(retention)}  # Go's spelling, as Velero writes it back
    if storage:
        template["storageLocation"] = storage
    template.update(coverage(policy, scope, app, exclude))
    template.update(resource_filters(resources))
    template.update(VOLUME_OPTIONS[volumes])
    if snapshot_location:
        template["volumeSnapshotLocations"] = [snapshot_location]
    template.update(backup_hooks(policy.apps, scope, app, exclude))
    return template


def schedule_template(policy: Policy, s: Schedule) -> dict:
    return backup_template(policy, scope=s.scope, app=s.app, storage=s.storage, retention=s.retention,
                           volumes=s.volumes, exclude=s.exclude, snapshot_location=s.snapshot_location,
                           labels=dict(s.backup_labels), resources=s.resources)


def scope_labels(scope: str, app: str | None) -> dict:
    """Template labels every backup carries; never the managed-by label (see README, 'Backups are data')."""
    labels = {SCOPE_LABEL: scope}
    if app:
        labels[APP_LABEL] = app
    return labels


def _location_config(s: Storage) -> dict:
    config: dict = {}
    if s.type in ("aws", "s3-compatible"):
        config["region"] = s.region
        if s.endpoint:
            config["s3Url"] = s.endpoint
        if s.path_style:
            config["s3ForcePathStyle"] = "true"
    elif s.type == "azure":
        if s.resource_group:  # none: from the credentials file, or not needed (useAAD, storageAccountKeyEnvVar)
            config["resourceGroup"] = s.resource_group
        config["storageAccount"] = s.storage_account
        if s.subscription_id:
            config["subscriptionId"] = s.subscription_id
    elif s.type in ("hostpath", "nfs", "pvc"):
        root = "/".join(p for p in (LVP_MOUNT, s.bucket, s.prefix) if p)
        if s.type == "nfs":
            config["server"] = s.server
        if s.type in ("hostpath", "nfs"):
            config["path"] = s.path
        if s.type == "pvc":
            config["storageSize"] = s.storage_size
            if s.storage_class:
                config["storageClassName"] = s.storage_class
        config["resticRepoPrefix"] = f"{root}/restic"
    config.update(dict(s.config))
    return config


def build_desired(policy: Policy, env: Mapping[str, str]) -> DesiredState:
    """Every object the policy asks for, each checked against Velero's CRD schema; PolicyError otherwise."""
    from engine.model.crd import check_object

    b = _Builder(policy, env)
    for s in policy.storage.values():
        b.storage(s)
    for v in policy.snapshot_locations.values():
        b.snapshot_location(v)
    for s in policy.schedules.values():
        b.schedule(s)
    for r in policy.restores.values():
        b.restore(r)
    for d in b.objects.values():
        for message in check_object(d.obj):
            b.problems.append(Diagnostic(Severity.ERROR, f"generated {d.obj['kind']} is invalid: {message}",
                                         d.source, policy.where(d.source)))
    if b.problems:
        raise PolicyError(b.problems)
    ordered = dict(sorted(b.objects.items(), key=lambda kv: kv[0].sort_key()))
    return DesiredState(policy, ordered)

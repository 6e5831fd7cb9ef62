"""Turn a schema-valid policy document into the frozen Policy, applying every default."""
from __future__ import annotations

from pathlib import Path

from engine.spec.policy import (App, Credentials, DrillExpect, ExecHook, Hooks, Policy, ResourceFilter, Restore,
                                Schedule, SnapshotLocation, Storage, VeleroServer)
from engine.spec.source import Document, dotted
from engine.times import DEFAULT_RETENTION, Duration


def _pairs(mapping: dict | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((mapping or {}).items()))


def hooks_of(raw: dict | None) -> Hooks | None:
    if not raw:
        return None

    def execs(items) -> tuple[ExecHook, ...]:
        return tuple(ExecHook(command=tuple(h["command"]), container=h.get("container"), on_error=h.get("onError"),
                              timeout=h.get("timeout")) for h in items or ())

    return Hooks(pre=execs(raw.get("pre")), post=execs(raw.get("post")), label_selector=_pairs(raw.get("labelSelector")),
                 name=raw.get("name"))


def _filter(entry: dict) -> ResourceFilter:
    r = entry.get("resources") or {}
    return ResourceFilter(
        include=tuple(r.get("include") or ()), exclude=tuple(r.get("exclude") or ()),
        include_cluster_scoped=tuple(r.get("includeClusterScoped") or ()),
        exclude_cluster_scoped=tuple(r.get("excludeClusterScoped") or ()),
        include_namespace_scoped=tuple(r.get("includeNamespaceScoped") or ()),
        exclude_namespace_scoped=tuple(r.get("excludeNamespaceScoped") or ()),
        cluster=entry.get("clusterResources", "auto"))


def build_policy(doc: Document, base_dirs: dict[str, Path]) -> Policy:
    data = doc.data

    def file_path(path: tuple, value: str | None) -> Path | None:
        if value is None:
            return None
        p = Path(value)
        try:
            p = p.expanduser()
        except RuntimeError:
            pass  # `~nosuchuser/...`: checked as written, and reported as a file that does not exist
        return p if p.is_absolute() else base_dirs.get(doc.where(path).file, Path(".")) / p

    def creds(path: tuple, raw: dict | None) -> Credentials | None:
        if not raw:
            return None
        if "file" in raw:
            return Credentials(file=file_path(path + ("file",), raw["file"]))
        if "env" in raw:
            return Credentials(env=tuple((k, raw["env"][k]) for k in ("accessKeyId", "secretAccessKey", "sessionToken")
                                         if k in raw["env"]))
        ref = raw["secretRef"]
        return Credentials(secret_name=ref["name"], secret_key=ref.get("key", "cloud"))

    storage = {}
    for name, s in (data.get("storage") or {}).items():
        p = ("storage", name)
        kind = s["type"]
        storage[name] = Storage(
            name=name, type=kind, default=s.get("default", False),
            bucket=s.get("bucket", name if kind in ("hostpath", "nfs", "pvc") else None),
            prefix=s.get("prefix"),
            region=s.get("region", "us-east-1" if kind == "s3-compatible" else None),
            endpoint=s.get("endpoint"),
            path_style=s.get("pathStyle", True if kind == "s3-compatible" else None),
            ca_file=file_path(p + ("caFile",), s.get("caFile")),
            ca_cert_ref=(s["caCertRef"]["name"], s["caCertRef"]["key"]) if s.get("caCertRef") else None,
            access_mode=s.get("accessMode", "ReadWrite"), protect=s.get("protect", False),
            credentials=creds(p + ("credentials",), s.get("credentials")),
            path=s.get("path"), server=s.get("server"),
            storage_class=s.get("storageClassName"), storage_size=s.get("storageSize"),
            resource_group=s.get("resourceGroup"), storage_account=s.get("storageAccount"),
            subscription_id=s.get("subscriptionId"), config=_pairs(s.get("config")),
        )
    defaults = [s.name for s in storage.values() if s.default]
    default_storage = defaults[0] if len(defaults) == 1 else None

    vsls = {
        name: SnapshotLocation(name=name, type=v["type"], region=v.get("region"),
                               credentials=creds(("snapshotLocations", name, "credentials"), v.get("credentials")),
                               config=_pairs(v.get("config")))
        for name, v in (data.get("snapshotLocations") or {}).items()
    }
    apps = {name: App(name=name, namespaces=tuple(a["namespaces"]), label_selector=_pairs(a.get("labelSelector")),
                      drill_expect=tuple(DrillExpect(e["kind"], e.get("name"), e.get("min", 1))
                                         for e in (a.get("drill") or {}).get("expect") or ()),
                      hooks=hooks_of(a.get("hooks")))
            for name, a in (data.get("apps") or {}).items()}
    schedules = {
        name: Schedule(
            name=name, scope=s["scope"], storage=s.get("storage") or default_storage or "",
            schedule=s["schedule"], app=s.get("app"), snapshot_location=s.get("snapshotLocation"),
            timezone=s.get("timezone"), retention=_retention(s.get("retention")), enabled=s.get("enabled", True),
            start_immediately=s.get("startImmediately", False), volumes=s.get("volumes", "default"),
            exclude=tuple(s.get("exclude") or ()), backup_labels=_pairs(s.get("backupLabels")),
            resources=_filter(s),
        )
        for name, s in (data.get("schedules") or {}).items()
    }
    restores = {
        name: Restore(
            name=name, scope=r["scope"], from_schedule=r["from"].get("schedule"), from_backup=r["from"].get("backup"),
            app=r.get("app"), namespace_mapping=_pairs(r.get("namespaceMapping")),
            existing_resources=r.get("existingResources", "none"), resources=_filter(r),
        )
        for name, r in (data.get("restores") or {}).items()
    }
    server = data.get("veleroServer") or {}
    velero_server = VeleroServer(default_location=server.get("defaultBackupStorageLocation"),
                                 default_ttl=Duration.of(server.get("defaultBackupTTL")))
    positions = {dotted(path): pos for path, pos in doc.positions.items() if path}
    files = tuple(sorted({pos.file for pos in doc.positions.values()}))
    return Policy(
        name=data["metadata"]["name"], velero_namespace=data.get("veleroNamespace", "velero"),
        apps=apps, storage=storage, snapshot_locations=vsls, schedules=schedules, restores=restores,
        files=files, velero_server=velero_server, external_storage=tuple(data.get("externalStorage") or ()),
        positions=positions, drills_every=(data.get("drills") or {}).get("every"),
    )


def _retention(text) -> Duration:
    """The written retention; a bad one (reported by the schema or semantics) reads as the default."""
    span = Duration.of(text)
    return span if span is not None and span.nanoseconds > 0 else DEFAULT_RETENTION

"""Checks the schema cannot express: references, cron lines, timezones, overlaps, credential sources."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine import cron
from engine.errors import Diagnostics, clip, printable
from engine.spec.hygiene import check_hygiene
from engine.spec.policy import (INTERNAL_STORAGE, OBJECT_STORAGE, RESERVED_LABELS, VSL_CONFIG_KEYS, Credentials,
                                Policy)
from engine.spec.files import outside_problem
from engine.spec.source import Document
from engine.gotext import parse_bool
from engine.times import GO_MAX_NANOSECONDS, Duration, DurationTooLong

COMMON_FIELDS = {"type", "default", "accessMode", "protect", "config", "bucket", "prefix", "credentials"}
TYPE_FIELDS = {  # a CA bundle: the aws plugin and Velero's azure code read objectStorage.caCert(Ref); gcp does not
    "aws": {"region", "caFile", "caCertRef"},
    "s3-compatible": {"region", "endpoint", "pathStyle", "caFile", "caCertRef"},
    "gcp": set(),
    "azure": {"resourceGroup", "storageAccount", "subscriptionId", "caFile", "caCertRef"},
    "hostpath": {"path"},
    "nfs": {"server", "path"},
    "pvc": {"storageClassName", "storageSize"},
}
KNOWN_FIELDS = COMMON_FIELDS.union(*TYPE_FIELDS.values())
# Velero's own words, one line (pkg/controller/backup_controller.go, prepareBackupRequest and
# oldAndNewFilterParametersUsedTogether): a Backup with both styles fails validation.
MIXED_FILTERS = ("include-resources, exclude-resources and include-cluster-resources are old filter parameters. "
                 "include-cluster-scoped-resources, exclude-cluster-scoped-resources, "
                 "include-namespace-scoped-resources and exclude-namespace-scoped-resources are new filter "
                 "parameters. They cannot be used together")


def check_semantics(policy: Policy, doc: Document, diags: Diagnostics, *, strict_sources: bool,
                    env: Mapping[str, str], roots: Mapping[str, Path] | None = None) -> None:
    """`roots`: each policy file's directory, the tree the files it names must stay in (engine.spec.files)."""
    def at(*path):
        return doc.where(path)

    def at_key(*path):
        return doc.where_key(path)

    check_hygiene(policy, doc, diags)
    _check_storage(policy, doc, diags, strict_sources, env, roots or {})
    for i, name in enumerate(policy.external_storage):
        if name in policy.storage:
            diags.error(f"{clip(name)} is a storage entry of this policy, not another tool's location",
                        f"externalStorage.{i}", at("externalStorage", i))
    server_ttl = (doc.data.get("veleroServer") or {}).get("defaultBackupTTL")
    problem = _retention_problem(server_ttl)
    if problem:
        diags.error(problem.replace("retention", "defaultBackupTTL", 1), "veleroServer.defaultBackupTTL",
                    at("veleroServer", "defaultBackupTTL"))

    cron_problems: dict[str, str | None] = {}  # a policy repeats a few schedule lines many times
    for name, sched in policy.schedules.items():
        p = ("schedules", name)
        raw = doc.data["schedules"][name]
        if "storage" in raw and sched.storage not in policy.storage and sched.storage not in policy.external_storage:
            diags.error(f"unknown storage {clip(sched.storage)}{_known(policy.storage)} (a location another tool "
                        "manages is named in externalStorage)", f"schedules.{name}.storage", at(*p, "storage"))
        for key in dict(sched.backup_labels):
            if key.startswith("snapplan.io/") or key in RESERVED_LABELS:
                diags.error(f"label {clip(key)} is set by snapplan or Velero on every backup",
                            f"schedules.{name}.backupLabels.{key}", at_key(*p, "backupLabels", key))
        _check_scope(diags, doc, policy, p, sched.scope, sched.app)
        if sched.exclude and sched.scope != "full":
            diags.error("exclude applies to full scope only", f"schedules.{name}.exclude", at(*p, "exclude"))
        if sched.snapshot_location and sched.snapshot_location not in policy.snapshot_locations:
            diags.error(f"unknown snapshot location {clip(sched.snapshot_location)}"
                        f"{_known(policy.snapshot_locations)}",
                        f"schedules.{name}.snapshotLocation", at(*p, "snapshotLocation"))
        if sched.schedule not in cron_problems:
            cron_problems[sched.schedule] = _cron_problem(sched.schedule)
        if cron_problems[sched.schedule]:
            diags.error(cron_problems[sched.schedule], f"schedules.{name}.schedule", at(*p, "schedule"))
        if sched.timezone:
            try:
                cron.zone(sched.timezone)
            except cron.CronError as exc:
                diags.error(str(exc), f"schedules.{name}.timezone", at(*p, "timezone"))
            if cron.expand(sched.schedule).startswith("@every"):
                diags.warning("timezone has no effect on an @every interval", f"schedules.{name}.timezone",
                              at(*p, "timezone"))
        if sched.resources.old_style and sched.resources.new_style:
            diags.error(f"Velero refuses this backup: {MIXED_FILTERS}", f"schedules.{name}.resources",
                        at_key(*p, "resources"))
        hooked = _hooks_without_pods(policy, sched)
        if hooked:
            diags.warning(f"hooks of app {', '.join(hooked)} do not run: Velero runs a hook only in pods the backup "
                          "includes, and these resources leave pods out", f"schedules.{name}.resources",
                          at_key(*p, "resources"))
        problem = _retention_problem(raw.get("retention"))
        if problem:
            diags.error(problem, f"schedules.{name}.retention", at(*p, "retention"))

    for name, rest in policy.restores.items():
        p = ("restores", name)
        _check_scope(diags, doc, policy, p, rest.scope, rest.app)
        if rest.from_schedule and rest.from_schedule not in policy.schedules:
            diags.error(f"unknown schedule {clip(rest.from_schedule)}{_known(policy.schedules)}",
                        f"restores.{name}.from.schedule", at(*p, "from", "schedule"))
        source = policy.schedules.get(rest.from_schedule or "")
        if source and rest.scope == "application" and rest.app in policy.apps:
            wanted = set(policy.apps[rest.app].namespaces)
            if source.scope == "application" and source.app in policy.apps:
                missing = wanted - set(policy.apps[source.app].namespaces)
            else:
                missing = wanted & set(source.exclude)
            if missing:
                diags.error(f"backups of schedule {clip(source.name)} do not contain namespace(s) "
                            f"{printable(', '.join(sorted(missing)), 400)} of app {clip(rest.app)}",
                            f"restores.{name}.from.schedule", at(*p, "from", "schedule"))
        if rest.scope == "full" and source and source.scope == "application":
            diags.warning(f"schedule {clip(source.name)} backs up app {clip(source.app)} only; "
                          "a full restore from it restores just that app", f"restores.{name}.scope", at(*p, "scope"))
        if rest.scope == "application" and rest.app in policy.apps:
            restored = set(policy.apps[rest.app].namespaces)
            for src_ns, _ in rest.namespace_mapping:
                if src_ns not in restored:
                    diags.error(f"namespace {clip(src_ns)} is not one of app {clip(rest.app)}'s namespaces",
                                f"restores.{name}.namespaceMapping.{src_ns}",
                                doc.where_key(p + ("namespaceMapping", src_ns)))


MAX_TTL_HOURS = GO_MAX_NANOSECONDS // (3600 * 10**9)  # Velero's ttl is a Go time.Duration


def _retention_problem(retention) -> str | None:
    try:
        span = Duration.parse(retention)
    except DurationTooLong:
        return f"retention {clip(retention)} is longer than Velero can hold (at most {MAX_TTL_HOURS}h, about 292 years)"
    except (ValueError, TypeError):
        return None  # absent, or the schema reports it
    if span.nanoseconds <= 0:
        return f"retention {clip(retention)} is no time: Velero reads a zero ttl as its server default"
    return None


def _hooks_without_pods(policy: Policy, sched) -> list[str]:
    """The covered apps with hooks when the schedule's resource filters leave out pods (Velero runs hooks
    while it backs up the pod: pkg/backup/backup.go backupItemBlock)."""
    f = sched.resources
    pods = {"pods", "*"}
    included = (not f.include or pods & set(f.include)) and "pods" not in f.exclude
    included = included and (not f.include_namespace_scoped or pods & set(f.include_namespace_scoped)) \
        and "pods" not in f.exclude_namespace_scoped
    if included:
        return []
    if sched.scope == "full":
        apps = [a for _, a in sorted(policy.apps.items()) if set(a.namespaces) - set(sched.exclude)]
    else:
        apps = [policy.apps[sched.app]] if sched.app in policy.apps else []
    return [a.name for a in apps if a.hooks]


def _known(names) -> str:
    if not names:
        return " (none are defined)"
    shown = sorted(names)
    more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
    return f" (known: {printable(', '.join(shown[:20]), 400)}{more})"


def _check_scope(diags, doc, policy, p, scope, app) -> None:
    where = ".".join(p)
    if scope == "application" and not app:
        diags.error("scope application needs `app:`", f"{where}.scope", doc.where(p + ("scope",)))
    elif scope == "full" and app:
        diags.error("`app:` applies to scope application only", f"{where}.app", doc.where(p + ("app",)))
    elif app and app not in policy.apps:
        diags.error(f"unknown app {clip(app)}{_known(policy.apps)}", f"{where}.app", doc.where(p + ("app",)))


def _check_storage(policy: Policy, doc: Document, diags: Diagnostics, strict: bool, env, roots) -> None:
    defaults = [s for s in policy.storage.values() if s.default]
    for extra in defaults[1:]:
        diags.error(f"more than one default storage ({printable(', '.join(s.name for s in defaults), 400)})",
                    f"storage.{extra.name}.default", doc.where(("storage", extra.name, "default")))
    seen: dict[tuple, str] = {}
    for name, s in policy.storage.items():
        p = ("storage", name)
        raw = doc.data["storage"][name]
        allowed = COMMON_FIELDS | TYPE_FIELDS[s.type]
        for key in raw:
            if key in KNOWN_FIELDS and key not in allowed:
                diags.error(f"{key!r} does not apply to storage type {s.type}", f"storage.{name}.{key}",
                            doc.where_key(p + (key,)))
        if s.type in INTERNAL_STORAGE and "credentials" in raw:
            diags.error(f"{s.type} storage takes no credentials", f"storage.{name}.credentials",
                        doc.where_key(p + ("credentials",)))
        if s.credentials and s.credentials.env and s.type not in ("aws", "s3-compatible"):
            diags.error("env credentials build an AWS credentials file; use file or secretRef for "
                        f"{s.type}", f"storage.{name}.credentials.env", doc.where_key(p + ("credentials", "env")))
        if "caFile" in raw and "caCertRef" in raw:  # BackupStorageLocation.Validate (Velero 1.18)
            diags.error("give caFile or caCertRef, not both: Velero refuses a location with caCert and caCertRef",
                        f"storage.{name}.caCertRef", doc.where_key(p + ("caCertRef",)))
        if s.type == "azure" and not s.resource_group and not _azure_key_elsewhere(dict(s.config)):
            diags.warning("no resourceGroup: Velero needs it (with the subscription) to fetch the storage account's "
                          "access key, so it must come from the credentials file (AZURE_RESOURCE_GROUP); or set "
                          "config.useAAD or config.storageAccountKeyEnvVar", f"storage.{name}", doc.where_key(p))
        if s.type == "pvc" and s.prefix:
            diags.error("pvc storage does not support a prefix", f"storage.{name}.prefix", doc.where(p + ("prefix",)))
        if s.type in OBJECT_STORAGE:
            key = (s.type if s.type != "aws" else "s3", s.endpoint or "", s.bucket)
            for other_prefix, other in [(k[3], v) for k, v in seen.items() if k[:3] == key]:
                if _overlaps(s.prefix or "", other_prefix):
                    diags.error(f"bucket {clip(s.bucket)} prefix {clip(s.prefix or '(none)')} overlaps storage "
                                f"{other!r}: two locations must not share a bucket path", f"storage.{name}.bucket",
                                doc.where(p + ("bucket",)))
            seen[key + (s.prefix or "",)] = name
        _check_sources(diags, doc, p, s.credentials, strict, env, roots)
        problem = _file_problem(s.ca_file, _root(doc, p + ("caFile",), roots), env) if s.ca_file else None
        if problem:
            _source_problem(diags, strict or isinstance(problem, OutsideTree),
                            f"caFile {clip(str(s.ca_file), 200)} {problem}", f"storage.{name}.caFile",
                            doc.where(p + ("caFile",)))
    for name, v in policy.snapshot_locations.items():
        _check_sources(diags, doc, ("snapshotLocations", name), v.credentials, strict, env, roots)
        _check_snapshot_config(diags, doc, name, v)


def _check_snapshot_config(diags, doc, name: str, v) -> None:
    p = ("snapshotLocations", name)
    config = dict(v.config)
    valid = VSL_CONFIG_KEYS[v.type]
    if v.region is not None and v.type != "aws":
        diags.error(f"region does not apply to snapshot location type {v.type} (its plugin accepts config keys "
                    f"{', '.join(valid)})", f"snapshotLocations.{name}.region", doc.where_key(p + ("region",)))
    for key in config:
        if key not in valid:
            diags.error(f"config key {clip(key)} is not one the {v.type} plugin accepts ({', '.join(valid)}); "
                        "Velero would fail every volume snapshot of this location",
                        f"snapshotLocations.{name}.config.{key}", doc.where_key(p + ("config", key)))
    if v.type == "aws" and v.region is None and not config.get("region"):
        diags.error("an aws snapshot location needs region (the aws plugin refuses one without)",
                    f"snapshotLocations.{name}", doc.where_key(p))
    problem = None
    if v.type == "gcp" and config.get("snapshotType", "").upper() not in ("", "STANDARD", "ARCHIVE"):
        problem = ("snapshotType", "is not STANDARD or ARCHIVE")
    elif v.type == "azure" and config.get("apiTimeout") and Duration.of(config["apiTimeout"]) is None:
        problem = ("apiTimeout", "is not a duration (e.g. 2m0s)")
    elif v.type == "azure" and config.get("incremental") and parse_bool(config["incremental"]) is None:
        problem = ("incremental", "is not a boolean as Go reads one (true, false, 1, 0, ...)")
    if problem:
        key, why = problem
        diags.error(f"config.{key} {clip(config[key])} {why}", f"snapshotLocations.{name}.config.{key}",
                    doc.where(p + ("config", key)))


def _azure_key_elsewhere(config: dict) -> bool:
    """Velero's azure code (pkg/util/azure/storage.go GetStorageAccountCredentials) needs no resource group when
    the key comes from the credentials file (storageAccountKeyEnvVar) or Azure AD is used (useAAD)."""
    return bool(config.get("storageAccountKeyEnvVar")) or parse_bool(config.get("useAAD", "")) is True


def _overlaps(a: str, b: str) -> bool:
    a, b = a.strip("/"), b.strip("/")
    return a == b or not a or not b or a.startswith(b + "/") or b.startswith(a + "/")


def _root(doc: Document, path: tuple, roots: Mapping[str, Path]) -> Path:
    """The directory of the policy file that wrote `path` (relative paths are read from there too)."""
    return roots.get(doc.where(path).file, Path("."))


def _check_sources(diags, doc, p, creds: Credentials | None, strict: bool, env, roots) -> None:
    if creds is None:
        return
    where = ".".join(p)
    field = p + ("credentials", "file")
    problem = _file_problem(creds.file, _root(doc, field, roots), env) if creds.file is not None else None
    if problem:
        _source_problem(diags, strict or isinstance(problem, OutsideTree),
                        f"credentials file {clip(str(creds.file), 200)} {problem}",
                        f"{where}.credentials.file", doc.where(p + ("credentials", "file")))
    for field, var in creds.env:
        if var not in env:
            _source_problem(diags, strict, f"environment variable {printable(var, 80)} is not set",
                            f"{where}.credentials.env.{field}", doc.where(p + ("credentials", "env", field)))


def _file_problem(path: Path, root: Path, env) -> str | OutsideTree | None:
    """Why a file the policy names cannot be used, or None. Outside the policy's tree is an error even where
    a missing file is only a warning (validate): it is what a hostile policy would write."""
    outside = outside_problem(path, root, env)
    if outside:
        return OutsideTree(outside)
    try:
        if path.is_file():
            return None
        return "is not a regular file" if path.exists() else "does not exist"
    except OSError as exc:  # a name too long for the file system, a loop of symlinks
        return f"cannot be read ({exc.strerror or exc})"


class OutsideTree(str):
    """A file problem that is always an error."""


def _source_problem(diags, strict, message, path, where) -> None:
    (diags.error if strict else diags.warning)(message, path, where)


def _cron_problem(expr: str) -> str | None:
    try:
        cron.check(expr)
    except cron.CronError as exc:
        return str(exc)
    return None

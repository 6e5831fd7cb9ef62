"""Schedules back to `schedules` entries, and the `apps` their namespaces and label selectors make.

Inverse of engine.model.desired: CRON_TZ back to timezone, a cron line back to a preset, ttl back to
retention, includedNamespaces/labelSelector back to scope full or application.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine import cron
from engine.importer.hooks import filters_of, hook_entry, policy_hooks
from engine.model.desired import APP_LABEL, SCOPE_LABEL, VOLUME_OPTIONS
from engine.spec.policy import RESERVED_LABELS
from engine.state.server import ServerDefaults, effective_ttl
from engine.times import DEFAULT_RETENTION, Duration

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DESCRIPTORS = {"@hourly": "hourly", "@daily": "daily", "@midnight": "daily", "@weekly": "weekly",
                "@monthly": "monthly", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_ENTRY_ORDER = ("scope", "app", "exclude", "storage", "schedule", "timezone", "retention", "enabled",
                "startImmediately", "volumes", "snapshotLocation", "backupLabels", "resources", "clusterResources")
_SPEC_KEYS = {"schedule", "paused", "skipImmediately", "template"}
_TEMPLATE_KEYS = {"metadata", "ttl", "storageLocation", "includedNamespaces", "excludedNamespaces", "labelSelector",
                  "includeClusterResources", "volumeSnapshotLocations", "snapshotVolumes", "defaultVolumesToFsBackup"}


class Apps:
    """App scopes found so far, keyed by slug; the same namespaces and selector reuse one slug."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}
        self.hooks: dict[str, dict] = {}  # slug -> its `hooks` entry, read from the schedules that run them

    def with_namespaces(self, namespaces: list[str], wanted: str | None) -> str | None:
        """An app found so far with exactly these namespaces (the one named `wanted` first)."""
        found = [slug for slug, e in self.entries.items() if e["namespaces"] == namespaces]
        return wanted if wanted in found else (found[0] if found else None)

    def slug_for(self, namespaces: list[str], selector: dict[str, str], wanted: str | None) -> str:
        definition = {"namespaces": namespaces, **({"labelSelector": selector} if selector else {})}
        for slug, existing in self.entries.items():
            if existing == definition and (wanted is None or wanted == slug):
                return slug
        base = wanted if wanted and DNS_LABEL.match(wanted) else derive_slug(namespaces)
        slug, n = base, 2
        while slug in self.entries:
            slug = f"{base[:60]}-{n}"
            n += 1
        self.entries[slug] = definition
        return slug


def derive_slug(namespaces: list[str]) -> str:
    """The dash-separated words all namespaces start with (harness, harness-db -> harness); else the first."""
    words = [ns.split("-") for ns in namespaces]
    common = []
    for parts in zip(*words):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "-".join(common).strip("-") or namespaces[0]


def retention_of(ttl, defaults: ServerDefaults, note) -> Duration:
    """Velero's ttl as the policy's retention, by value (`720h`, `720h0m0s` and `30d` are one)."""
    span = effective_ttl(ttl, defaults)
    if span is None or span.nanoseconds < 0:
        note(f"ttl {ttl!r} is not a duration Velero reads; the policy keeps the default retention "
             f"{DEFAULT_RETENTION.policy_text()}")
        return DEFAULT_RETENTION
    if Duration.of(ttl) in (None, Duration(0)) and defaults.ttl != DEFAULT_RETENTION:
        note(f"ttl {ttl or 'not set'}: Velero gives its backups the server default {defaults.ttl} "
             f"(--default-backup-ttl, from {defaults.source}); the policy says so")
    return span


def schedule_expression(value: str, note) -> tuple[str, str | None] | None:
    """(schedule as the policy writes it, timezone) from Velero's spec.schedule; None if not expressible."""
    line, tz = cron.split_velero_schedule(value)
    if tz and value.strip().startswith("TZ="):
        note("the timezone prefix TZ= is written CRON_TZ= by snapplan (the same meaning); "
             "the plan shows the new spelling")
    if line in _DESCRIPTORS:
        note(f"{line} is written as the cron line {cron.expand(_DESCRIPTORS[line])!r} by snapplan (the same times); "
             "the plan shows the new spelling")
        line = _DESCRIPTORS[line]
    try:
        cron.check(line)
        if tz:
            cron.zone(tz)
    except cron.CronError as exc:
        note(f"not imported: {exc}")
        return None
    if tz and cron.expand(line).startswith("@every"):
        note(f"the timezone {tz} has no effect on an interval; snapplan writes the interval without it")
        tz = None
    return cron.preset_of(line) or line, tz


def volumes_of(template: dict, note) -> str:
    chosen = {k: template[k] for k in ("snapshotVolumes", "defaultVolumesToFsBackup") if k in template}
    for name, options in VOLUME_OPTIONS.items():
        if options == chosen:
            return name
    note(f"volume options {chosen} are not one of snapplan's volumes settings; kept as they are "
         "(volumes: default sets none of them)")
    return "default"


@dataclass
class Places:
    """Where a schedule's backups can go: what import knows of the locations in the cluster."""

    existing: set[str]  # every BackupStorageLocation in the namespace
    external: set[str]  # those another tool manages (not imported; schedules may name them)
    velero_default: tuple[str, str]  # (name, why): where a Backup naming no location goes
    policy_default: str | None = None  # the imported storage marked default
    used_external: set[str] = field(default_factory=set)


def _backup_labels(obj: dict, template: dict, note) -> dict[str, str]:
    """The labels the schedule's backups carry besides snapplan's: the template's, or, while the template has
    none, the Schedule's own (pkg/builder/backup_builder.go FromSchedule)."""
    meta = template.get("metadata") or {}
    if meta.get("labels") is not None:
        found, whose = dict(meta["labels"]), "template"
    else:
        found, whose = dict(obj["metadata"].get("labels") or {}), "own"
    found = {k: v for k, v in found.items() if k not in (SCOPE_LABEL, APP_LABEL)}
    reserved = sorted(k for k in found if k.startswith("snapplan.io/") or k in RESERVED_LABELS)
    labels = {k: v for k, v in sorted(found.items()) if k not in reserved}
    if reserved:
        note(f"labels {', '.join(reserved)} are not carried to its backups by the policy (snapplan or Velero "
             "sets them)")
    if labels and whose == "own":
        note(f"its own labels {_pairs(labels)} reach its backups while its template has none (Velero's "
             "backup_builder.go FromSchedule); the policy carries them as backupLabels, so they stay on its backups")
    return labels


def schedule_entry(obj: dict, apps: Apps, storage: dict[str, dict], snapshot_locations: dict[str, dict],
                   defaults: ServerDefaults, places: Places, note) -> dict | None:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    expression = schedule_expression(str(spec.get("schedule", "")), note)
    if expression is None:
        return None
    entry: dict = {"scope": "full"}
    labels = (template.get("metadata") or {}).get("labels") or {}
    included = list(template.get("includedNamespaces") or [])
    if included and "*" not in included:
        if not all(DNS_LABEL.match(ns) for ns in included):
            note(f"not imported: includedNamespaces {included} are not plain namespace names (patterns?)")
            return None
        selector = (template.get("labelSelector") or {}).get("matchLabels") or {}
        entry = {"scope": "application", "app": apps.slug_for(included, dict(selector), labels.get(APP_LABEL))}
        if (template.get("labelSelector") or {}).keys() - {"matchLabels"}:
            note("template.labelSelector.matchExpressions is kept as it is (the policy has no field for it)")
    else:
        excluded = list(template.get("excludedNamespaces") or [])
        if excluded and all(DNS_LABEL.match(ns) for ns in excluded):
            entry["exclude"] = excluded
        elif excluded:
            note(f"template.excludedNamespaces {excluded} is kept as it is (patterns are not policy names)")
        if template.get("labelSelector"):
            note("template.labelSelector is kept as it is (scope full has no label selector)")
    location = template.get("storageLocation")
    if not location:
        target, why = places.velero_default
        if target not in places.existing:
            note(f"not imported: template.storageLocation is not set, so its backups go to Velero's default location "
                 f"{target!r} ({why}), and no location of that name exists")
            return None
        then = ("snapplan writes it, the policy's default storage: the same location" if target == places.policy_default
                else "the policy leaves it to Velero too")
        note(f"template.storageLocation is not set: its backups go to Velero's default location {target!r} ({why}); "
             f"{then}")
    elif location in storage:
        if location != places.policy_default:
            entry["storage"] = location
    elif location in places.external:
        entry["storage"] = location
        places.used_external.add(location)
    elif location in places.existing:
        note(f"not imported: its storage location {location!r} is not imported")
        return None
    else:
        note(f"not imported: its storage location {location!r} does not exist (Velero fails its backups)")
        return None
    labels_of_backups = _backup_labels(obj, template, note)
    if labels_of_backups:
        entry["backupLabels"] = labels_of_backups
    wanted = {SCOPE_LABEL: entry["scope"], **({APP_LABEL: entry["app"]} if "app" in entry else {})}
    missing = {k: v for k, v in wanted.items() if labels.get(k) != v}
    if missing:
        text = "apply adds snapplan's backup labels to the template: " + _pairs(missing)
        if "labels" not in (template.get("metadata") or {}):
            text += (" (without template labels Velero copies the Schedule's own labels to its backups, and those "
                     "would now include the managed-by label)")
        note(text)
    vsls = list(template.get("volumeSnapshotLocations") or [])
    if len(vsls) == 1 and vsls[0] in snapshot_locations:
        entry["snapshotLocation"] = vsls[0]
    elif vsls:
        note(f"template.volumeSnapshotLocations {vsls} is kept as it is (a policy names one imported location)")
    entry["schedule"], tz = expression
    if tz:
        entry["timezone"] = tz
    retention = retention_of(template.get("ttl"), defaults, note)
    if retention != DEFAULT_RETENTION:
        entry["retention"] = retention.policy_text()
    if spec.get("paused") is True:
        entry["enabled"] = False
        # Velero leaves a paused schedule's skipImmediately alone and reads it at the un-pause; without
        # one it takes the server's --schedule-skip-immediately (false unless set): an overdue run starts.
        if spec.get("skipImmediately") is not True:
            entry["startImmediately"] = True
            if spec.get("skipImmediately") is None:
                note("paused, and spec.skipImmediately is not set: when enabled again Velero starts a run that "
                     "came due while paused at once (the server's --schedule-skip-immediately is false unless "
                     "changed), so the policy says startImmediately: true; write false to skip that run")
    volumes = volumes_of(template, note)
    if volumes != "default":
        entry["volumes"] = volumes
    filters, taken = filters_of(template, note)
    entry.update(filters)
    if filters.get("clusterResources") == "exclude" and entry["scope"] == "application":
        note("clusterResources: exclude leaves cluster-scoped resources, such as the PersistentVolumes of its "
             "claims, out of its backups (auto, the default, lets Velero take them)")
    if template.get("hooks") and take_hooks(template["hooks"], entry, apps, note):
        taken.add("hooks")
    kept = sorted(f"spec.{k}" for k in spec if k not in _SPEC_KEYS)
    kept += sorted(f"spec.template.{k}" for k in template if k not in _TEMPLATE_KEYS | taken)
    if kept:
        note(f"kept as in the cluster (the policy has no field for them): {', '.join(kept)}")
    return {k: entry[k] for k in _ENTRY_ORDER if k in entry}


def take_hooks(hooks: dict, entry: dict, apps: Apps, note) -> bool:
    """Read a template's hook specs into `apps.hooks`; False (nothing taken) when the policy cannot say them."""
    resources = hooks.get("resources") if isinstance(hooks, dict) and set(hooks) == {"resources"} else None
    parsed = [hook_entry(r) for r in resources or []]
    if not parsed or None in parsed:
        return False
    if entry["scope"] == "application" and (len(parsed) != 1
                                            or parsed[0][0] != apps.entries[entry["app"]]["namespaces"]):
        return False
    found: dict[str, dict] = {}
    for namespaces, selector, hook in parsed:
        slug = entry.get("app") or apps.with_namespaces(namespaces, hook["name"])
        if slug is None:
            slug = apps.slug_for(namespaces, {}, hook["name"])
        h = policy_hooks(hook, slug, apps.entries[slug].get("labelSelector") or {}, selector)
        if h is None or slug in found:
            return False
        if slug in apps.hooks and apps.hooks[slug] != h:
            note(f"its hooks for app {slug} differ from another schedule's; the policy has one set per app "
                 "(kept as in the cluster)")
            return False
        found[slug] = h
    apps.hooks.update(found)
    return True


def _pairs(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


def _show(value) -> str:
    return "not set" if value is None else str(value).lower()

"""Live state -> the policy document that reproduces its locations and schedules, with notes for a reader."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.addr import Address
from engine.diff import is_managed, other_manager, policy_of
from engine.errors import SnapplanError
from engine.importer.locations import snapshot_entry, storage_entry
from engine.importer.schedules import DNS_LABEL, Apps, Places, schedule_entry
from engine.model.desired import APP_LABEL, MANAGED_BY, backup_hooks
from engine.spec.build import hooks_of
from engine.spec.policy import App
from engine.state.live import LiveState
from engine.state.server import marked_default, server_defaults


class ImportProblem(SnapplanError):
    """The live state cannot be imported as asked (no policy name to keep, several to choose from)."""


@dataclass(frozen=True)
class Note:
    """Something the reader of the imported policy should know about one entry (or a skipped object)."""

    entry: str  # policy path, e.g. "storage.default", "schedules.legacy-weekly"
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    name: str
    namespace: str
    source: str
    document: dict
    notes: tuple[Note, ...] = ()
    not_imported: tuple[str, ...] = ()  # addresses left out; their notes say why
    restores: tuple[str, ...] = ()  # restores found (never imported: a restore runs once)
    files: dict[str, bytes] = field(default_factory=dict)  # written beside the policy (CA bundles)


def import_policy(live: LiveState, namespace: str = "velero", name: str | None = None) -> ImportResult:
    """The policy that reproduces the BackupStorageLocations, VolumeSnapshotLocations and Schedules in
    `namespace`; objects another policy manages are left to it."""
    policy_name = _policy_name(live, namespace, name)
    defaults = server_defaults(live, namespace)
    notes: list[Note] = []
    skipped: list[str] = []
    files: dict[str, bytes] = {}
    external: dict[str, dict] = {}  # locations another tool manages, by name

    def objects(kind: str) -> list[tuple[Address, dict]]:
        out = []
        for obj in sorted(live.of_kind(kind, namespace), key=lambda o: o["metadata"]["name"]):
            addr, owner = Address.of(obj), policy_of(obj)
            tool = other_manager(obj)
            if tool:
                notes.append(Note(str(addr), f"not imported: managed by {tool} (label {MANAGED_BY[0]}: {tool}); "
                                             "snapplan does not take over another tool's object, which stays as it "
                                             "is" + (", and schedules may name it (externalStorage)"
                                                     if kind == "BackupStorageLocation" else "")))
                skipped.append(str(addr))
                if kind == "BackupStorageLocation":
                    external[addr.name] = obj
            elif is_managed(obj) and owner and owner != policy_name:
                notes.append(Note(str(addr), f"not imported: managed by policy {owner!r} (import it with "
                                             f"--name {owner})"))
                skipped.append(str(addr))
            elif not DNS_LABEL.match(addr.name):
                notes.append(Note(str(addr), "not imported: its name is not a valid policy entry name "
                                             "(lower-case letters, digits and '-')"))
                skipped.append(str(addr))
            else:
                out.append((addr, obj))
        return out

    def add(section: str, addr: Address, obj: dict, make) -> dict | None:
        path = f"{section}.{addr.name}"
        mine: list[str] = []
        entry = make(obj, mine.append)
        if entry is None:
            skipped.append(str(addr))
        notes.extend(Note(path if entry is not None else str(addr), m) for m in mine)
        return entry

    storage: dict[str, dict] = {}
    for addr, obj in objects("BackupStorageLocation"):
        entry = add("storage", addr, obj, lambda o, n: storage_entry(o, n, files))
        if entry is not None:
            storage[addr.name] = entry
    all_locations = live.of_kind("BackupStorageLocation", namespace)
    kept = marked_default(all_locations)
    policy_default = _one_default(storage, kept, notes)
    velero_default = ((kept, "the location marked default: true") if kept else
                      (defaults.location, f"--default-backup-storage-location, from {defaults.source}; no location "
                                          "is marked default"))
    places = Places({o["metadata"]["name"] for o in all_locations}, set(external), velero_default, policy_default)
    vsls: dict[str, dict] = {}
    for addr, obj in objects("VolumeSnapshotLocation"):
        entry = add("snapshotLocations", addr, obj, snapshot_entry)
        if entry is not None:
            vsls[addr.name] = entry
    apps = Apps()
    schedules: dict[str, dict] = {}
    # Schedules that name their app (snapplan's template label) go first, so that name wins over a derived one.
    objects_by_name = [(addr.name, obj) for addr, obj in objects("Schedule")]
    for addr, obj in sorted(objects("Schedule"), key=lambda ao: (not _app_label(ao[1]), ao[0].name)):
        entry = add("schedules", addr, obj, lambda o, n: schedule_entry(o, apps, storage, vsls, defaults, places, n))
        if entry is not None:
            schedules[addr.name] = entry
    schedules = dict(sorted(schedules.items()))
    _hooks_each_schedule_runs(apps, schedules, dict(objects_by_name), notes)
    notes.sort(key=lambda n: n.entry)
    _managed_secrets(live, namespace, storage, vsls, notes)

    document: dict = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": policy_name}}
    if namespace != "velero":
        document["veleroNamespace"] = namespace
    if places.used_external:
        document["externalStorage"] = sorted(places.used_external)
    app_entries = {slug: {**e, **({"hooks": apps.hooks[slug]} if slug in apps.hooks else {})}
                   for slug, e in sorted(apps.entries.items())}
    for key, section in (("apps", app_entries), ("storage", storage),
                         ("snapshotLocations", vsls), ("schedules", schedules)):
        if section:
            document[key] = section
    restores = tuple(sorted(o["metadata"]["name"] for o in live.of_kind("Restore", namespace)))
    return ImportResult(policy_name, namespace, live.source, document, tuple(notes), tuple(skipped), restores, files)


def _hooks_each_schedule_runs(apps: Apps, schedules: dict[str, dict], live: dict[str, dict],
                              notes: list[Note]) -> None:
    """An app's hooks run in every backup that covers it: say where that changes a schedule's hooks."""
    if not apps.hooks:
        return
    model = {slug: App(slug, tuple(e["namespaces"]), tuple(sorted((e.get("labelSelector") or {}).items())),
                       hooks=hooks_of(apps.hooks.get(slug)))
             for slug, e in apps.entries.items()}
    for name, entry in schedules.items():
        wanted = backup_hooks(model, entry["scope"], entry.get("app"), entry.get("exclude", ())).get("hooks")
        have = ((live[name].get("spec") or {}).get("template") or {}).get("hooks")
        if wanted and wanted != have:
            notes.append(Note(f"schedules.{name}", "an app's hooks run in every backup that covers the app, so the "
                              "plan changes spec.template.hooks of this schedule to "
                              f"{', '.join(r['name'] for r in wanted['resources'])}"))


def _app_label(schedule: dict) -> str | None:
    template = (schedule.get("spec") or {}).get("template") or {}
    return ((template.get("metadata") or {}).get("labels") or {}).get(APP_LABEL)


def _policy_name(live: LiveState, namespace: str, requested: str | None) -> str:
    if requested is not None:
        if not DNS_LABEL.match(requested):
            raise ImportProblem(f"--name {requested!r} is not a valid policy name: use lower-case letters, "
                                "digits and '-' (at most 63 characters)")
        return requested
    names = sorted({policy_of(o) for a, o in live.objects.items()
                    if a.namespace == namespace and is_managed(o) and policy_of(o)})
    if len(names) == 1:
        return names[0]
    if not names:
        raise ImportProblem(f"no object in namespace {namespace} of {live.source} is managed by snapplan, so "
                            "there is no policy name to keep: pass --name NAME")
    raise ImportProblem(f"objects in namespace {namespace} are managed by several policies ({', '.join(names)}): "
                        "pass --name with the one to import")


def _one_default(storage: dict[str, dict], kept: str | None, notes: list[Note]) -> str | None:
    """The policy's default storage: the location marked default that Velero keeps (the most recently created:
    ensureSingleDefaultBSL sets the others false itself), when it is imported."""
    for name in [n for n, s in storage.items() if s.get("default") and n != kept]:
        del storage[name]["default"]
        notes.append(Note(f"storage.{name}", f"is also marked default in the cluster, but Velero keeps {kept!r} "
                                             "(the most recently created; ensureSingleDefaultBSL sets the others "
                                             "false), so the policy does not mark it"))
    return kept if kept in storage else None


def _managed_secrets(live: LiveState, namespace: str, storage: dict, vsls: dict, notes: list[Note]) -> None:
    """A location whose Secret snapplan wrote (from `file:` or `env:`) now refers to it by secretRef."""
    for section, entries in (("storage", storage), ("snapshotLocations", vsls)):
        for name, entry in entries.items():
            ref = (entry.get("credentials") or {}).get("secretRef") or {}
            secret = live.get(Address("Secret", namespace, ref.get("name", ""))) if ref else None
            if secret is not None and is_managed(secret):
                notes.append(Note(f"{section}.{name}", f"Secret {ref['name']!r} was written by snapplan from a "
                                  "credentials file or environment variables; the policy refers to it by "
                                  "secretRef, so apply leaves its content alone: put that source back to "
                                  "manage it again"))

"""(desired, live) -> changes, field by field. Pure: no I/O, no clock reads (`now` is passed in).

Only what snapplan sets is compared; fields a server or Velero fills in are not drift. A field removed
from the policy shows as removed because apply records what it set in LAST_APPLIED.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace

from engine.addr import Address
from engine.model.credentials import digest
from engine.model.desired import MANAGED_BY, POLICY_ANNOTATION, PROTECT_ANNOTATION, DesiredObject, DesiredState
from engine.plan.model import SENSITIVE, Action, Change, FieldChange
from engine.state.live import LiveState, content_parts
from engine.state.server import ServerDefaults, effective_ttl, marked_default, server_defaults

from engine.model.manifest import LAST_APPLIED, last_applied
from engine.model.provider import same_provider
PRUNABLE = ("Secret", "BackupStorageLocation", "VolumeSnapshotLocation", "Schedule")
LISTED_UNMANAGED = ("BackupStorageLocation", "VolumeSnapshotLocation", "Schedule", "Restore")
# A provider change replaces the location: Velero invalidates its BackupRepositories when a location is deleted
# or when its bucket, prefix, caCert or config change, not when only its provider does
# (backup_repository_controller.go needInvalidBackupRepo). Bucket, prefix and config change in place.
REPLACE_PATHS = {("spec", "provider")}
# A bucket or prefix change makes Velero's backup sync delete this location's Backup objects that the new
# place does not hold (backup_sync_controller.go deleteOrphanedBackups): the plan warns with their count.
MOVE_PATHS = {("spec", "objectStorage", "bucket"), ("spec", "objectStorage", "prefix")}
DRILL_LABEL = "snapplan.io/drill"  # a Restore `snapplan drill` made: its record, not a policy object
SKIP_IMMEDIATELY = ("spec", "skipImmediately")
# What Velero reads for a field left out (its Go types drop false and empty values): absent equals these.
# A Schedule without skipImmediately gets the server's --schedule-skip-immediately, false by default (and
# with the flag true, only the first schedule Velero reconciles gets it: see schedule_controller.go).
ABSENT_MEANS = {
    "Schedule": {("spec", "paused"): False, ("spec", "template", "includedNamespaces"): ["*"],
                 SKIP_IMMEDIATELY: False},
    "BackupStorageLocation": {("spec", "default"): False, ("spec", "accessMode"): "ReadWrite"},
}
ADOPT_REASON = "adopt: not managed by snapplan yet"
NEWEST = "9999-12-31T23:59:59Z"  # a location apply creates is the most recently created one
UNKNOWN = "(sensitive, not in state)"


@dataclass
class DiffResult:
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unmanaged: list[Address] = field(default_factory=list)
    kept: list[tuple[Address, str]] = field(default_factory=list)


def is_managed(obj: dict) -> bool:
    return (obj.get("metadata", {}).get("labels") or {}).get(MANAGED_BY[0]) == MANAGED_BY[1]


def other_manager(obj: dict) -> str | None:
    """The tool another than snapplan that manages the object (Helm, oadp-operator, ...), by its managed-by label."""
    tool = (obj.get("metadata", {}).get("labels") or {}).get(MANAGED_BY[0])
    return tool if tool and tool != MANAGED_BY[1] else None


def policy_of(obj: dict) -> str | None:
    return (obj.get("metadata", {}).get("annotations") or {}).get(POLICY_ANNOTATION)


def managed_view(obj: dict, digests: dict[str, str] | None = None) -> dict:
    """The part of an object snapplan owns: labels, annotations, spec (or a Secret's type and data digests)."""
    meta = obj.get("metadata") or {}
    view: dict = {"metadata": {k: dict(meta[k]) for k in ("labels", "annotations") if meta.get(k)}}
    view["metadata"].get("annotations", {}).pop(LAST_APPLIED, None)
    if obj.get("kind") == "Secret":
        view["type"] = obj.get("type", "Opaque")
        if digests is not None:
            view["data"] = digests
    elif "spec" in obj:
        view["spec"] = obj["spec"]
    return view


def live_secret_digests(obj: dict) -> dict[str, str] | None:
    """Digests of a live Secret's data, or None when the state does not carry the data."""
    if "data" not in obj and "stringData" not in obj:
        return None
    out = {}
    for k, v in (obj.get("data") or {}).items():
        try:
            out[k] = digest(base64.b64decode(v or ""))
        except (ValueError, TypeError):
            out[k] = "invalid"
    for k, v in (obj.get("stringData") or {}).items():
        out[k] = digest(str(v).encode())
    return out


def flatten(value, prefix: tuple = ()) -> dict[tuple, object]:
    """Leaves of nested maps; lists and empty maps are leaves (replaced whole, as Velero treats them)."""
    if isinstance(value, dict) and value:
        out: dict = {}
        for k, v in value.items():
            out.update(flatten(v, prefix + (k,)))
        return out
    return {prefix: value}


def _last_applied_paths(obj: dict) -> set[tuple]:
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return set()
    try:
        return set(flatten(json.loads(raw)))
    except (ValueError, TypeError, RecursionError):  # someone else's (or a hostile) annotation: no record
        return set()


def is_paused(obj: dict | None) -> bool:
    return bool(((obj or {}).get("spec") or {}).get("paused"))


def unpauses(want: dict, live: dict | None) -> bool:
    """The write enables a schedule that is paused in the cluster."""
    return want.get("kind") == "Schedule" and live is not None and is_paused(live) and not is_paused(want)


def _ignored(want: dict, live: dict) -> set[tuple]:
    """Fields Velero rewrites on its own, which are therefore not drift. Velero's schedule controller
    (schedule_controller.go Reconcile) consumes spec.skipImmediately on every schedule it reconciles
    (true -> status.lastSkipped, and the field written back false) and skips paused ones: the field
    means something only while the schedule stays paused or is enabled by this very write."""
    if want.get("kind") != "Schedule" or is_paused(want) or is_paused(live):
        return set()
    return {SKIP_IMMEDIATELY}


@dataclass(frozen=True)
class Velero:
    """What Velero reads for a field left to it: the server's defaults, and where a Schedule without a
    location sends its backups now and after apply. Values Velero reads alike are not drift."""

    defaults: ServerDefaults = ServerDefaults()
    default_now: str | None = None  # where a Backup naming no location goes now (None: not known)
    default_after: str | None = None  # ... and after apply
    transient_defaults: frozenset[str] = frozenset()  # marked default, but Velero unsets it (a newer one stays)

    def same(self, kind: str, path: tuple, have, want) -> bool:
        if kind == "Schedule" and path == ("spec", "template", "storageLocation") and self.default_now:
            # no location is Velero's default location (backup_controller.go prepareBackupRequest), now and after
            now = have or self.default_now
            return now == (want or self.default_after) and (have or self.default_after) == now
        if kind in ("BackupStorageLocation", "VolumeSnapshotLocation") and path == ("spec", "provider"):
            return same_provider(have, want)  # gcp is velero.io/gcp (clientmgmt/manager.go sanitizeName)
        if kind == "Schedule" and path == ("spec", "template", "ttl"):
            # 720h, 720h0m0s and 30d are one duration; 0s or none is the server's --default-backup-ttl
            span = effective_ttl(have, self.defaults)
            return span is not None and span == effective_ttl(want, self.defaults)
        return False


def field_changes(desired: DesiredObject, live: dict, velero: Velero = Velero()) -> list[FieldChange]:
    is_secret = desired.address.kind == "Secret"
    live_digests = live_secret_digests(live) if is_secret else None
    want = flatten(managed_view(desired.obj, desired.secret_digests if is_secret else None))
    have = flatten(managed_view(live, live_digests if is_secret else None))
    ignored = _ignored(desired.obj, live)
    absent_means = ABSENT_MEANS.get(desired.address.kind, {})
    out = []
    for path, value in want.items():
        if path in ignored or (path not in have and path in absent_means and _same(absent_means[path], value)):
            continue
        if velero.same(desired.address.kind, path, have.get(path), value):
            continue
        if path == ("spec", "default") and value is False and desired.address.name in velero.transient_defaults:
            continue  # ensureSingleDefaultBSL sets it false itself: a newer location stays default
        if is_secret and path[:1] == ("data",):
            if live_digests is None:
                out.append(FieldChange(path, UNKNOWN, SENSITIVE, sensitive=True))
            elif have.get(path) != value:
                out.append(FieldChange(path, SENSITIVE if path in have else None, SENSITIVE, sensitive=True))
            continue
        if have.get(path) != value:
            out.append(FieldChange(path, have.get(path), value))
    # An unmanaged object's last-applied record (left by an earlier owner) says nothing about what we set.
    recorded = _last_applied_paths(live) if is_managed(live) else set()
    for path in sorted(recorded - set(want), key=str):
        if path in have and path not in ignored and path[:1] != ("data",) and \
                not velero.same(desired.address.kind, path, have[path], None):
            out.append(FieldChange(path, have[path], None))
    return out


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def velero_of(desired: DesiredState, live: LiveState) -> Velero:
    """Velero's reading of what a policy leaves to it, from the live state and what apply will write."""
    ns = desired.policy.velero_namespace
    server = desired.policy.velero_server
    defaults = server_defaults(live, ns, location=server.default_location, ttl=server.default_ttl)
    now = live.of_kind("BackupStorageLocation", ns)
    after = {o["metadata"]["name"]: o for o in now}
    for addr, d in desired.objects.items():
        if addr.kind == "BackupStorageLocation":
            created = (after.get(addr.name) or {}).get("metadata", {}).get("creationTimestamp")
            obj = {**d.obj, "metadata": {**d.obj["metadata"], "creationTimestamp": created or NEWEST}}
            after[addr.name] = obj
    kept_now, kept_after = marked_default(now), marked_default(list(after.values()))
    transient = frozenset(o["metadata"]["name"] for o in now if (o.get("spec") or {}).get("default") is True
                          and kept_now and kept_now == kept_after and o["metadata"]["name"] != kept_now)
    return Velero(defaults, kept_now or defaults.location, kept_after or defaults.location, transient)


def diff(desired: DesiredState, live: LiveState, *, prune: bool = False) -> DiffResult:
    result = DiffResult()
    policy = desired.policy
    velero = velero_of(desired, live)
    for addr, want in desired.objects.items():
        have = live.get(addr)
        if have is None:
            after = _display_view(want.obj, sensitive=want.secret is not None)
            result.changes.append(Change(addr, Action.CREATE, None, after, _creation_fields(after)))
            continue
        if not is_managed(have):
            if addr.kind == "Secret":
                result.problems.append(_foreign_secret(desired, addr))
                continue
            adopted = _adopt(want, have, result, velero)
            if adopted:
                result.changes.append(adopted)
            continue
        owner = policy_of(have)
        if owner and owner != policy.name:
            result.problems.append(f"{addr} is managed by policy {owner!r}, not {policy.name!r}: "
                                   "two policies must not declare the same object")
            continue
        result.changes.append(_compare(want, have, result, velero))
    for addr, have in live.objects.items():
        if addr.kind == "Backup" or addr in desired.objects or addr.namespace != policy.velero_namespace:
            continue  # Backups are Velero's: never listed, never pruned (and most of what a cluster holds)
        if not is_managed(have):
            if addr.kind in LISTED_UNMANAGED and not is_drill(have):
                result.unmanaged.append(addr)
            continue
        if addr.kind not in PRUNABLE:
            continue
        owner = policy_of(have)
        if owner and owner != policy.name:
            continue  # another policy's object: not ours to remove
        users = _credential_users(desired, live, addr, prune) if addr.kind == "Secret" else []
        if users:
            result.kept.append((addr, f"used by {', '.join(users)}: never deleted while a location uses it"))
            continue
        protected = (have["metadata"].get("annotations") or {}).get(PROTECT_ANNOTATION) == "true"
        if protected:
            result.kept.append((addr, "protected (protect: true): never deleted"))
        elif not prune:
            result.kept.append((addr, "would be removed with --prune"))
        else:
            before = _display_view(have, sensitive=addr.kind == "Secret")
            result.changes.append(Change(addr, Action.DELETE, before, None,
                                         live_version=have["metadata"].get("resourceVersion"),
                                         live_content=content_parts(have)))
    return result


def _foreign_secret(desired: DesiredState, addr: Address) -> str:
    """A Secret with the name snapplan gives a storage's credentials, which snapplan did not make: adopting it
    would overwrite someone's credentials, so the plan stops and says how to go on."""
    users = [a for a, d in sorted(desired.objects.items(), key=lambda kv: kv[0].sort_key())
             if ((d.obj.get("spec") or {}).get("credential") or {}).get("name") == addr.name]
    who = f"{users[0]}: its credentials Secret" if users else "the Secret"
    key = ((desired.objects[users[0]].obj.get("spec") or {}).get("credential") or {}).get("key", "cloud") \
        if users else "cloud"
    return (f"{who} {addr.name} already exists in namespace {addr.namespace} and was not made by snapplan (no "
            f"label {MANAGED_BY[0]}: {MANAGED_BY[1]}); apply would overwrite its data. Delete it if nothing else "
            f"uses it (kubectl -n {addr.namespace} delete secret {addr.name}), or use it as it is: "
            f"credentials: {{secretRef: {{name: {addr.name}, key: {key}}}}}")


def _adopt(want: DesiredObject, have: dict, result: DiffResult, velero: Velero) -> Change | None:
    """An unmanaged object a policy entry names becomes managed by an update: snapplan's label and
    annotations, plus any real difference. Never by replacing it, and never a Restore (it ran once)."""
    addr = want.address
    if addr.kind == "Restore":
        result.problems.append(f"{addr} exists in namespace {addr.namespace} but is not managed by snapplan, "
                               "and a restore runs once: give the policy entry a new name")
        return None
    manager = other_manager(have)
    if manager:
        result.problems.append(f"{addr} is managed by {manager!r} (label {MANAGED_BY[0]}): snapplan does not "
                               "take over another tool's object; remove it from that tool first")
        return None
    change = _compare(want, have, result, velero)
    moved = [path_str(f.path) for f in change.fields if f.path in REPLACE_PATHS | MOVE_PATHS]
    if moved:  # a name collision more likely than an intent: never move someone else's backups out of view
        result.problems.append(f"{addr} exists but is not managed by snapplan, and adopting it would "
                               f"{'replace' if change.action is Action.REPLACE else 'move'} it ({', '.join(moved)} "
                               "differ): make the policy entry match it, or rename the entry")
        return None
    record = FieldChange(("metadata", "annotations", LAST_APPLIED), None, last_applied(want))
    meta = tuple(f for f in change.fields if f.path[0] == "metadata")
    rest = tuple(f for f in change.fields if f.path[0] != "metadata")
    return replace(change, action=Action.UPDATE, fields=meta + (record,) + rest, reasons=(ADOPT_REASON,))


def _credential_users(desired: DesiredState, live: LiveState, secret: Address, prune: bool) -> list[str]:
    """Every location and snapshot location in the Secret's namespace whose credential names it: the policy's
    (a secretRef to a Secret snapplan made) and the cluster's, managed or not, unless this plan deletes them."""
    def names_it(obj: dict) -> bool:
        return ((obj.get("spec") or {}).get("credential") or {}).get("name") == secret.name

    users = [f"{a} (credentials.secretRef)" for a, d in desired.objects.items()
             if a.namespace == secret.namespace and names_it(d.obj)]
    for a, obj in live.objects.items():
        if a.kind not in ("BackupStorageLocation", "VolumeSnapshotLocation") or a.namespace != secret.namespace \
                or a in desired.objects or not names_it(obj):
            continue
        if _pruned(obj, desired, prune):
            continue  # deleted by this plan, before the Secret (graph: location_delete_before_secret_delete)
        users.append(f"{a}" + ("" if is_managed(obj) else " (not managed by snapplan)"))
    return users


def _pruned(obj: dict, desired: DesiredState, prune: bool) -> bool:
    """A managed object that left the policy and that this plan deletes."""
    owner = policy_of(obj)
    return (prune and is_managed(obj) and (not owner or owner == desired.policy.name)
            and (obj["metadata"].get("annotations") or {}).get(PROTECT_ANNOTATION) != "true")


def _compare(want: DesiredObject, have: dict, result: DiffResult, velero: Velero) -> Change:
    addr = want.address
    version = have["metadata"].get("resourceVersion")
    before = _display_view(have, sensitive=want.secret is not None)
    after = _display_view(want.obj, sensitive=want.secret is not None)
    fields = field_changes(want, have, velero)
    if addr.kind == "Restore":
        # from a schedule: Velero (or the plan) picked the backup when it ran; which one is not drift
        picked = {("spec", "backupName"), ("spec", "scheduleName")} if "scheduleName" in want.obj["spec"] else set()
        fields = [f for f in fields if f.path[0] == "spec" and f.path not in picked]
        phase = (have.get("status") or {}).get("phase") or "New"
        if fields:
            result.problems.append(f"{addr} already exists (phase {phase}) and a restore runs once: its spec "
                                   f"cannot change ({', '.join(path_str(f.path) for f in fields)}); "
                                   "give the entry a new name to run another restore")
        return Change(addr, Action.NOOP, before, after, reasons=(f"already ran: phase {phase}",),
                      live_version=version)
    if not fields:
        return Change(addr, Action.NOOP, before, after, live_version=version)
    if addr.kind == "BackupStorageLocation" and any(f.path in REPLACE_PATHS for f in fields):
        if "true" in ((have["metadata"].get("annotations") or {}).get(PROTECT_ANNOTATION),
                      (want.obj["metadata"].get("annotations") or {}).get(PROTECT_ANNOTATION)):
            result.problems.append(f"{addr} is protected (protect: true) and a provider change replaces it (a "
                                   "delete, then a create): apply without protect: true first, then change the provider; or use a new name")
        return Change(addr, Action.REPLACE, before, after, tuple(fields), live_version=version,
                      live_content=content_parts(have))
    return Change(addr, Action.UPDATE, before, after, tuple(fields), live_version=version)


def _display_view(obj: dict, *, sensitive: bool) -> dict:
    """managed_view for plans: secret data reduced to a marker per key, never a value or digest."""
    view = managed_view(obj)
    if sensitive:
        keys = set((obj.get("data") or {})) | set((obj.get("stringData") or {}))
        view["data"] = {k: SENSITIVE for k in sorted(keys or {"cloud"})}
    return view


def _creation_fields(after: dict) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(p, None, v, sensitive=(p[:1] == ("data",))) for p, v in flatten(after).items())


def path_str(path: tuple) -> str:
    out = ""
    for part in path:
        text = str(part)
        if any(c in text for c in "./") or not text:
            out += f'["{text}"]'
        else:
            out += f".{text}" if out else text
    return out


def is_drill(obj: dict) -> bool:
    return DRILL_LABEL in ((obj.get("metadata") or {}).get("labels") or {})

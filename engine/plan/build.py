"""The planner: diff + graph + explanations -> Plan. Pure given its inputs (time is passed in)."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime

from engine import cron
from engine.addr import Address
from engine.diff import MOVE_PATHS, REPLACE_PATHS, UNKNOWN, diff, path_str, velero_of
from engine.errors import PlanError
from engine.graph import dependencies, ordered, refs_of
from engine.model.desired import DesiredState
from engine.plan.model import Action, Change, Plan, RetentionChange
from engine.plan.preflight import check_velero
from engine.plan.defaults import default_warnings
from engine.plan.schedules import schedule_reasons
from engine.state.live import LiveState
from engine.state.server import effective_ttl
from engine.times import Duration


@dataclass(frozen=True)
class PlanOptions:
    now: datetime
    prune: bool = False
    targets: tuple[str, ...] = ()
    restores: object = None  # engine.plan.restores.Resolution: explanations and refusals per restore


def make_plan(desired: DesiredState, live: LiveState, options: PlanOptions) -> Plan:
    ns = desired.policy.velero_namespace
    result = diff(desired, live, prune=options.prune)
    changes = {c.address: c for c in result.changes}
    problems = list(result.problems)
    problems += _deletes_still_referenced(changes, live, ns)
    resolved = options.restores
    deferred = []
    for addr, why in sorted((resolved.deferred if resolved else {}).items()):
        if changes.pop(addr, None) is not None:
            deferred.append(why)
    if options.targets:
        changes = _targeted(changes, desired, options.targets, ns, problems)
    if resolved is not None:
        problems += [p for a, ps in sorted(resolved.problems.items()) if a in changes for p in ps]
    if problems:
        raise PlanError([_located(p, desired.policy) for p in problems])
    graph = dependencies(changes.values())
    warnings = list(result.warnings) + deferred + default_warnings(desired, live, changes)
    explained: dict[Address, Change] = {}
    retention: list[RetentionChange] = []
    backup_counts = functools.cache(lambda: live.backups_by_schedule(ns))  # one pass over the Backups, if any
    for addr, c in changes.items():
        reasons, warns = _explain(c, live, ns, options.now, desired, backup_counts, retention)
        if resolved is not None:
            reasons = resolved.reasons.get(addr, []) + reasons
            warns = warns + resolved.warnings.get(addr, [])
        deps = tuple(sorted(graph.predecessors(addr), key=Address.sort_key)) if addr in graph else ()
        explained[addr] = replace(c, depends_on=deps, reasons=c.reasons + tuple(reasons))
        warnings += warns
    order = ordered(graph)
    noops = sorted((a for a, c in explained.items() if c.action is Action.NOOP), key=Address.sort_key)
    preflight = check_velero(desired.policy, live)
    warnings += _ca_cert_ref_warnings(desired.policy, preflight.version)
    return Plan(
        policy=desired.policy.name, namespace=ns, state_source=live.source,
        changes=tuple(explained[a] for a in order + noops),
        warnings=tuple(warnings),
        unmanaged=tuple(sorted(result.unmanaged, key=Address.sort_key)),
        kept=tuple(sorted(result.kept, key=lambda k: k[0].sort_key())),
        generated_at=options.now.isoformat(),
        preflight=preflight,
        retention_changes=tuple(retention),
    )


def _ca_cert_ref_warnings(policy, version: str | None) -> list[str]:
    """objectStorage.caCertRef is Velero 1.18's; an older Velero's CRD drops the field on write (structural
    pruning), so the location would reach its endpoint without the CA bundle."""
    m = re.match(r"^v?(\d+)\.(\d+)", version or "")
    if not m or (int(m.group(1)), int(m.group(2))) >= (1, 18):
        return []
    return [f"bsl.{s.name}: caCertRef needs Velero 1.18 or later, and this is {version}: its CRD drops the field, "
            "so the location would have no CA bundle; use caFile" for s in policy.storage.values() if s.ca_cert_ref]


# address type -> (policy section as written, Policy attribute)
SECTIONS = {"bsl": ("storage", "storage"), "vsl": ("snapshotLocations", "snapshot_locations"),
            "schedule": ("schedules", "schedules"), "restore": ("restores", "restores")}
_ADDRESS = re.compile(r"^(?:--target )?(bsl|vsl|schedule|restore)\.([a-z0-9][a-z0-9.-]*?)(?=[:\s]|$)")


def _located(problem: str, policy) -> str:
    """A problem about a policy entry, prefixed with where the entry is written (FILE:LINE:COL)."""
    m = _ADDRESS.match(problem)
    if not m:
        return problem
    section, attr = SECTIONS[m.group(1)]
    if m.group(2) not in getattr(policy, attr):
        return problem
    where = policy.where(f"{section}.{m.group(2)}")
    return f"{where}: {problem}" if where else problem


def _deletes_still_referenced(changes: dict[Address, Change], live: LiveState, ns: str) -> list[str]:
    """A location may go only when no schedule that stays (desired, unmanaged or kept) still uses it."""
    problems = []
    schedules = None  # one pass over the live objects, and only when a location goes
    for c in changes.values():
        if c.action is not Action.DELETE or c.address.kind != "BackupStorageLocation":
            continue
        users = set()
        schedules = live.of_kind("Schedule", ns) if schedules is None else schedules
        for sched in schedules:
            addr = Address.of(sched)
            remaining = changes.get(addr)
            if remaining and remaining.action is Action.DELETE:
                continue
            spec = remaining.after if remaining and remaining.after else sched
            if ((spec.get("spec") or {}).get("template") or {}).get("storageLocation") == c.address.name:
                users.add(addr.name)
        for other in changes.values():
            if other.address.kind == "Schedule" and other.action is not Action.DELETE and \
                    c.address.name in refs_of(other)["BackupStorageLocation"]:
                users.add(other.address.name)
        if users:
            problems.append(f"{c.address} cannot be deleted: still used by schedule(s) {', '.join(sorted(users))}")
    return problems


def _targeted(changes, desired: DesiredState, targets, ns, problems) -> dict[Address, Change]:
    wanted: set[Address] = set()
    for text in targets:
        try:
            addr = Address.parse(text, ns)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if addr not in desired.objects and addr not in changes:
            problems.append(f"--target {text}: no such object in the policy or the plan")
            continue
        stack = [addr]
        while stack:
            a = stack.pop()
            if a in wanted:
                continue
            wanted.add(a)
            if a in desired.objects:
                stack.extend(desired.objects[a].depends_on)
    return {a: c for a, c in changes.items() if a in wanted}


def _explain(c: Change, live: LiveState, ns: str, now: datetime, desired: DesiredState, backup_counts,
             retention: list[RetentionChange]):
    """Human reasons (display only) and plan warnings for one change; a retention change is also appended to
    `retention` as data. backup_counts() -> Counter by schedule."""
    reasons: list[str] = []
    warnings: list[str] = []
    addr = c.address
    if addr.kind == "Schedule" and c.action in (Action.CREATE, Action.UPDATE) and c.after:
        reasons.extend(schedule_reasons(c, live.get(addr), now))
        spec = c.after["spec"]
        named = (spec.get("template") or {}).get("storageLocation")
        if named in desired.policy.external_storage and live.objects and \
                live.get(Address("BackupStorageLocation", ns, named)) is None:
            warnings.append(f"{addr}: its storage {named!r} (externalStorage, another tool's) is not in {live.source}: "
                            "Velero fails its backups (FailedValidation) until it exists")
        if not named:
            target = velero_of(desired, live).default_after
            reasons.append(f"no storage named: backups go to Velero's default location {target}")
            location = Address("BackupStorageLocation", ns, target)
            if location not in desired.objects and live.get(location) is None:
                warnings.append(f"{addr}: names no storage, and Velero's default location {target!r} (no location "
                                "is marked default) does not exist: Velero fails its backups (FailedValidation)")
        ttl_change = next((f for f in c.fields if f.path == ("spec", "template", "ttl")), None)
        if ttl_change and c.action is Action.UPDATE:
            defaults = velero_of(desired, live).defaults
            before = effective_ttl(ttl_change.before, defaults)
            default = before is not None and Duration.of(ttl_change.before) in (None, Duration(0))
            was = f"{before or ttl_change.before}" + (" (Velero's default)" if default else "")
            n = backup_counts().get(addr.name, 0)
            after = effective_ttl(ttl_change.after, defaults)
            warnings.append(f"{addr}: retention changes from {was} to {after}; "
                            f"{n} existing backup(s) of this schedule keep their current expiry")
            retention.append(RetentionChange(addr, str(before or ttl_change.before), str(after), n))
    if addr.kind == "BackupStorageLocation" and c.action in (Action.UPDATE, Action.REPLACE):
        warnings += _location_moves(c, live, ns)
    if addr.kind == "BackupStorageLocation" and c.action is Action.CREATE:
        users = sorted(o["metadata"]["name"] for o in live.of_kind("Schedule", ns)
                       if ((o.get("spec") or {}).get("template") or {}).get("storageLocation") == addr.name)
        if users:  # e.g. a replacement that deleted it and could not create it again
            reasons.append(f"missing: schedule(s) {', '.join(users)} use it, and their backups fail until it exists")
    if addr.kind == "Secret" and any(f.before == UNKNOWN for f in c.fields):
        reasons.append("the state has no Secret data, so its content is unknown; apply writes it")
    if addr.kind in ("BackupStorageLocation", "VolumeSnapshotLocation") and c.after:
        ref = (c.after.get("spec") or {}).get("credential") or {}
        secret = Address("Secret", ns, ref.get("name", "")) if ref.get("name") else None
        if secret and secret not in desired.objects and live.get(secret) is None and live.objects:
            warnings.append(f"{addr}: credential Secret {ref['name']!r} (secretRef) is not in {live.source}")
    return reasons, warnings


def _location_moves(c: Change, live: LiveState, ns: str) -> list[str]:
    """What Velero does with the backups of a location whose provider, bucket or prefix changes."""
    addr = c.address
    moved = [f for f in c.fields if f.path in MOVE_PATHS or f.path in REPLACE_PATHS]
    if not moved:
        return []
    what = ", ".join(f"{path_str(f.path)} {f.before!r} -> {f.after!r}" for f in moved)
    n = live.orphanable_backups(ns, addr.name)
    vanish = (f"Velero's backup sync will then delete the {n} Backup object(s) of this location (Completed or "
              "PartiallyFailed) that the new place does not hold (backup_sync_controller.go "
              "deleteOrphanedBackups): their data stays in the old place, but this cluster no longer lists them "
              "and restores `from: {schedule}` cannot pick them")
    if c.action is Action.REPLACE:
        return [f"{addr} must be replaced ({what}): Velero resets its BackupRepositories when a location is "
                "deleted, not when only its provider changes. If apply stops between the delete and the create, "
                f"the location stays deleted until apply runs again. {vanish}"]
    return [f"{addr} moves ({what}), updated in place; Velero resets the location's BackupRepositories itself "
            f"(backup_repository_controller.go invalidateBackupReposForBSL). {vanish}"]

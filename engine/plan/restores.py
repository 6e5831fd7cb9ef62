"""Restores resolved at plan time: `from: {schedule: X}` becomes the newest Completed backup of X, named in
the plan; `from: {backup: B}` is checked (phase, what it contains) or, when the cluster does not have it
yet, left for apply to wait until Velero syncs it from storage (disaster recovery)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from engine.addr import Address
from engine.model.desired import DesiredState
from engine.state.live import LiveState
from engine.times import parse_time

FROM_SCHEDULE = "snapplan.io/restore-from-schedule"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class Resolution:
    desired: DesiredState
    reasons: dict[Address, list[str]] = field(default_factory=dict)
    problems: dict[Address, list[str]] = field(default_factory=dict)
    warnings: dict[Address, list[str]] = field(default_factory=dict)
    deferred: dict[Address, str] = field(default_factory=dict)  # left out of this plan, and why


def _time(obj: dict, *keys: str) -> datetime | None:
    status = obj.get("status") or {}
    for key in keys:
        when = parse_time(status.get(key) or (obj.get("metadata") or {}).get(key))
        if when is not None:
            # Velero writes UTC; anything else is shown (and labelled) in UTC too, and naive means UTC
            return when.astimezone(timezone.utc)
    return None


def _age(then: datetime, now: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "just now"
    days, rest = divmod(seconds, 86400)
    if days:
        return f"{days} day{'s' if days != 1 else ''} old"
    hours, rest = divmod(rest, 3600)
    return f"{hours}h {rest // 60:02d}m old"


def _started(obj: dict) -> tuple[str, int]:
    """When a backup started, as a sort key in UTC: ("YYYY-MM-DDTHH:MM:SS", microseconds), ("", 0) unknown.
    Velero writes `...Z` to the second, which is its own key: only other spellings are parsed (a schedule
    can hold thousands of backups and a policy dozens of restores)."""
    status = obj.get("status") or {}
    text = status.get("startTimestamp") or (obj.get("metadata") or {}).get("creationTimestamp")
    if isinstance(text, str) and len(text) == 20 and text[19] == "Z" and text[10] == "T":
        return text[:19], 0
    when = _time(obj, "startTimestamp", "creationTimestamp")
    return (when.strftime("%Y-%m-%dT%H:%M:%S"), when.microsecond) if when else ("", 0)


def newest_completed(live: LiveState, namespace: str, schedule: str) -> tuple[dict | None, list[dict]]:
    """(the newest Completed backup of a schedule, the newer ones that are not Completed)."""
    backups = live.backups_of_schedule(namespace, schedule)
    backups.sort(key=lambda b: (_started(b), b["metadata"]["name"]), reverse=True)
    skipped = []
    for b in backups:
        if (b.get("status") or {}).get("phase") == "Completed":
            return b, skipped
        skipped.append(b)
    return None, skipped


def covers(backup: dict, namespaces: tuple[str, ...]) -> list[str]:
    """The namespaces of `namespaces` the backup does not contain."""
    spec = backup.get("spec") or {}
    included = spec.get("includedNamespaces") or ["*"]
    excluded = set(spec.get("excludedNamespaces") or ())
    return [ns for ns in namespaces if ns in excluded or ("*" not in included and ns not in included)]


def resolve_restores(desired: DesiredState, live: LiveState, now: datetime) -> Resolution:
    ns = desired.policy.velero_namespace
    objects = dict(desired.objects)
    res = Resolution(desired)
    for addr, want in desired.objects.items():
        if addr.kind != "Restore" or live.get(addr) is not None:
            continue  # an existing restore already ran: the diff shows it as such
        entry = desired.policy.restores[addr.name]
        spec = want.obj["spec"]
        reasons, problems = res.reasons.setdefault(addr, []), res.problems.setdefault(addr, [])
        if entry.from_schedule:
            backup, newer = newest_completed(live, ns, entry.from_schedule)
            if backup is None:
                seen = ", ".join(f"{b['metadata']['name']} {(b.get('status') or {}).get('phase') or 'New'}"
                                 for b in newer[:3])
                res.deferred[addr] = (
                    f"{addr} is not created: schedule {entry.from_schedule} has no Completed backup to restore from"
                    + (f" (newest: {seen})" if seen else " yet") + "; a later apply creates it once one completed "
                    f"(take one now: snapplan backup create --schedule {entry.from_schedule}), or restore from a "
                    "named backup")
                continue
            name = backup["metadata"]["name"]
            obj = copy.deepcopy(want.obj)
            obj["spec"] = {"backupName": name, **{k: v for k, v in spec.items() if k != "scheduleName"}}
            obj["metadata"].setdefault("annotations", {})[FROM_SCHEDULE] = entry.from_schedule
            objects[addr] = replace(want, obj=obj)
            done = _time(backup, "completionTimestamp")
            when = f", completed {done.strftime('%Y-%m-%d %H:%M')} UTC, {_age(done, now)}" if done else ""
            reasons.append(f"will restore {name}{when} (the newest Completed backup of schedule "
                           f"{entry.from_schedule})")
            if newer:
                reasons.append("skipped newer: " + ", ".join(
                    f"{b['metadata']['name']} ({(b.get('status') or {}).get('phase') or 'New'})" for b in newer))
        else:
            backup = live.get(Address("Backup", ns, entry.from_backup))
            if backup is None:
                reasons.append(f"backup {entry.from_backup} is not in the cluster yet: apply waits until Velero "
                               "has synced it from a storage location, then restores")
                if not desired.policy.storage:
                    problems.append(f"{addr}: backup {entry.from_backup} is not in the cluster and the policy "
                                    "declares no storage Velero could sync it from")
                continue
            phase = (backup.get("status") or {}).get("phase") or "New"
            if phase not in ("Completed", "PartiallyFailed"):
                problems.append(f"{addr}: backup {entry.from_backup} is {phase}; only a Completed (or "
                                "PartiallyFailed) backup can be restored")
                continue
            done = _time(backup, "completionTimestamp")
            reasons.append(f"will restore {entry.from_backup} ({phase}"
                           + (f", completed {done.strftime('%Y-%m-%d %H:%M')} UTC, {_age(done, now)}" if done else "")
                           + ")")
            if phase == "PartiallyFailed":
                res.warnings.setdefault(addr, []).append(
                    f"{addr}: backup {entry.from_backup} is PartiallyFailed: some items were not backed up")
        if entry.scope == "application":
            app = desired.policy.apps[entry.app]
            missing = covers(backup, app.namespaces)
            if missing:
                problems.append(f"{addr}: backup {backup['metadata']['name']} does not contain app {entry.app}'s "
                                f"namespace(s) {', '.join(missing)}; it covers "
                                f"{', '.join((backup.get('spec') or {}).get('includedNamespaces') or ['*'])}")
        if entry.existing_resources == "none":
            mapping = dict(entry.namespace_mapping)
            targets = _restored_namespaces(entry, desired, backup, live)
            present = sorted(mapping.get(n, n) for n in targets if mapping.get(n, n) in live.namespaces)
            if present:
                res.warnings.setdefault(addr, []).append(
                    f"{addr}: namespace(s) {', '.join(present)} already exist; with existingResources: none, "
                    "objects already there stay as they are (Velero skips them with a warning)")
    res.desired = DesiredState(desired.policy, objects)
    return res


def _restored_namespaces(entry, desired: DesiredState, backup: dict, live: LiveState) -> list[str]:
    if entry.scope == "application":
        return list(desired.policy.apps[entry.app].namespaces)
    spec = backup.get("spec") or {}
    included = spec.get("includedNamespaces") or ["*"]
    if "*" in included:
        excluded = set(spec.get("excludedNamespaces") or ())
        return [n for n in live.namespaces if n not in excluded and n not in SYSTEM_NAMESPACES
                and n != desired.policy.velero_namespace]
    return list(included)

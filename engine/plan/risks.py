"""What a reviewer must not miss in a plan, read from its JSON form. Pure; display only.

Deletions and replacements, retention shortened (with the backups it concerns), the default location
moving, schedules paused, restores that will run, and objects Velero reports unhealthy.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from engine.times import Duration

MOVE_PATHS = ("spec.objectStorage.bucket", "spec.objectStorage.prefix")  # a location moving in place


@dataclass(frozen=True)
class Risk:
    kind: str      # delete, replace, move, retention, default-location, paused, restore, unhealthy, velero
    address: str   # "" when it concerns no single object
    title: str
    html: str      # the sentence, safe to put in markdown (user values escaped)


def _c(value) -> str:
    return f"<code>{html.escape(str(value), quote=False)}</code>"


def _field(r: dict, path: str) -> dict | None:
    return next((f for f in r["fields"] if f["path"] == path), None)


def _spec(obj: dict | None) -> dict:
    return (obj or {}).get("spec") or {}


def risks(plan: dict) -> list[Risk]:
    """In the plan's order, grouped by kind in the order a reviewer should read them."""
    found: dict[str, list[Risk]] = {k: [] for k in
                                    ("delete", "replace", "move", "retention", "default-location", "paused", "restore",
                                     "unhealthy", "velero")}
    changes = plan["resource_changes"]
    for r in changes:
        addr, action = r["address"], r["action"]
        if action == "delete":
            found["delete"].append(Risk("delete", addr, "Deleted", f"{_c(addr)} will be destroyed"
                                        + _delete_note(r)))
        elif action == "replace":
            moved = ", ".join(f"{_c(f['path'])} {_c(_show(f['before']))} → {_c(_show(f['after']))}"
                              for f in r["fields"] if f["path"].rsplit(".", 1)[-1] in ("provider", "bucket", "prefix"))
            found["replace"].append(Risk("replace", addr, "Replaced", f"{_c(addr)} will be deleted and created "
                                         f"again ({moved or 'identity changes'}); backups in the old location "
                                         "leave this cluster's view"))
        moved = [f for f in r["fields"] if f["path"] in MOVE_PATHS]
        if r["kind"] == "BackupStorageLocation" and action == "update" and moved:
            said = [w for w in plan["warnings"] if w.startswith(f"{addr} moves")]
            where = ", ".join(f"{_c(f['path'])} {_c(_show(f['before']))} → {_c(_show(f['after']))}" for f in moved)
            found["move"].append(Risk("move", addr, "Location moves", f"{_c(addr)} points elsewhere ({where}): "
                                      "Velero's backup sync drops the Backup objects the new place does not hold"
                                      + "".join(f" — {html.escape(w, quote=False)}" for w in said)))
        if r["kind"] == "Schedule" and action in ("create", "update") and _spec(r["after"]).get("paused") is True:
            was = _spec(r["before"]).get("paused") is True
            if action == "create":
                found["paused"].append(Risk("paused", addr, "Paused", f"{_c(addr)} is created paused: "
                                            "it takes no backups until it is enabled"))
            elif not was:
                found["paused"].append(Risk("paused", addr, "Paused", f"{_c(addr)} will be paused: "
                                            "it takes no backups until it is enabled again"))
        if r["kind"] == "Restore" and action in ("create", "replace"):
            found["restore"].append(Risk("restore", addr, "Restore runs", _restore(r)))
    found["retention"] = _retention(plan)
    found["default-location"] = _default_moves(changes)
    found["unhealthy"] = _unhealthy(plan)
    velero = plan.get("velero") or {}
    found["velero"] = [Risk("velero", "", "Velero", html.escape(x["message"], quote=False))
                       for x in velero.get("checks", []) if not x["ok"]]
    return [r for group in found.values() for r in group]


def _show(v) -> str:
    return "null" if v is None else str(v)


def _delete_note(r: dict) -> str:
    if r["kind"] == "BackupStorageLocation":
        return "; the backups stored there stay in the bucket but leave this cluster's view"
    if r["kind"] == "Schedule":
        return "; no more backups are taken by it (its existing backups keep their expiry)"
    return ""


def _retention(plan: dict) -> list[Risk]:
    out = []
    for rc in plan.get("retention_changes", []):
        before, after = Duration.of(rc["before"]), Duration.of(rc["after"])
        if before is None or after is None or after >= before:
            continue
        n = rc["existing_backups"]
        out.append(Risk("retention", rc["address"], "Retention shortened",
                        f"{_c(rc['address'])} keeps backups {_c(rc['after'])} instead of {_c(rc['before'])}: "
                        f"new backups expire sooner, so fewer restore points; the {n} existing backup(s) of this "
                        "schedule keep their current expiry (Velero sets it when a backup is taken)"))
    return out


def _default_moves(changes: list[dict]) -> list[Risk]:
    """The default BackupStorageLocation (where backups without a location go) changing hands."""
    was, now = [], []
    for r in changes:
        if r["kind"] != "BackupStorageLocation" or r["action"] == "no-op":
            continue
        before = _spec(r["before"]).get("default") is True
        after = r["action"] != "delete" and _spec(r["after"]).get("default") is True
        if r["action"] == "create":
            before = False
        if before and not after:
            was.append(r["name"])
        elif after and not before:
            now.append(r["name"])
    if not was and not now:
        return []
    old = ", ".join(_c(n) for n in was) or "none"
    new = ", ".join(_c(n) for n in now) or "none"
    return [Risk("default-location", "", "Default location moves",
                 f"the default backup location changes from {old} to {new}: backups and restores that name no "
                 "location use it")]


def _unhealthy(plan: dict) -> list[Risk]:
    """Objects Velero reports unhealthy, when the plan carries them (a list of addresses or of
    {address, message/reason} objects)."""
    out = []
    for u in plan.get("unhealthy") or []:
        if isinstance(u, dict):
            addr = str(u.get("address", ""))
            why = u.get("message") or u.get("reason") or u.get("phase") or "unhealthy"
        else:
            addr, why = str(u), "unhealthy"
        out.append(Risk("unhealthy", addr, "Unhealthy", f"{_c(addr)}: {html.escape(str(why), quote=False)}"))
    return out


def _restore(r: dict) -> str:
    spec = _spec(r["after"])
    source = (f"the latest completed backup of schedule {_c(spec['scheduleName'])}" if spec.get("scheduleName")
              else f"backup {_c(spec.get('backupName', '?'))}")
    namespaces = spec.get("includedNamespaces") or ["*"]
    mapping = spec.get("namespaceMapping") or {}
    where = ", ".join(f"{_c(ns)} → {_c(mapping[ns])}" if ns in mapping else f"{_c(ns)} (in place)"
                      for ns in namespaces)
    policy = spec.get("existingResourcePolicy") or "none"
    overwrite = ("existing resources are <b>overwritten</b> (existingResources: update)" if policy == "update"
                 else "existing resources are left as they are")
    reasons = "".join(f"; {html.escape(x, quote=False)}" for x in r["reasons"])
    return f"{_c(r['address'])} restores {source} into {where}; {overwrite}{reasons}"

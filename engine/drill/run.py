"""Carry out one drill on a cluster: check the scratch namespaces are free, create the Restore, wait for
Velero with progress, check what came back, delete the scratch namespaces (unless kept). The original
namespaces are never written: the Restore maps every namespace it includes."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from engine.drill.choose import Drill, DrillError, restore_object
from engine.snapshots import cluster
from engine.state.kube import api_error, request

FINAL = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
POLL = 1.0  # seconds between reads of the Restore while Velero works


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class Result:
    drill: Drill
    started: str
    finished: str = ""
    seconds: float = 0.0
    phase: str = ""
    items_restored: int | None = None
    items_total: int | None = None
    items_backed_up: int | None = None
    warnings: int = 0
    errors: int = 0
    checks: list[Check] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)  # (what, why) a cleanup could not remove
    kept: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def namespace_path(name: str) -> str:
    return f"/api/v1/namespaces/{quote(name, safe='')}"


def _exists(api, name: str) -> bool:
    resp = request(api, "GET", namespace_path(name))
    if resp.status == 404:
        return False
    if resp.status >= 400:
        raise api_error(resp, "get", namespace_path(name))
    return True


def preflight(api, drill: Drill) -> None:
    """A scratch namespace that exists already is someone's: the drill refuses rather than write into it."""
    taken = [scratch for _, scratch in drill.namespaces if _exists(api, scratch)]
    if taken:
        raise DrillError(f"scratch namespace(s) {', '.join(taken)} already exist; a drill only restores into "
                         "namespaces it creates (run it again: it picks a new id)")


def run(api, drill: Drill, velero_ns: str, *, timeout: float, keep: bool, on_progress: Callable[[dict], None],
        now: Callable[[], str], clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep) -> Result:
    preflight(api, drill)
    backup = cluster.get_backup(api, velero_ns, drill.backup)
    result = Result(drill, started=now())
    result.items_backed_up = ((backup.get("status") or {}).get("progress") or {}).get("itemsBackedUp")
    started = clock()
    restore = cluster.create(api, velero_ns, "restores", restore_object(drill, velero_ns))
    on_progress(restore)
    deadline = started + timeout
    while _phase(restore) not in FINAL:
        if clock() >= deadline:
            result.finished, result.seconds, result.phase = now(), clock() - started, _phase(restore)
            result.checks.append(Check("restore", False, f"Velero did not finish restore {drill.restore_name} "
                                       f"within the timeout (last phase: {_phase(restore)})"))
            result.left = [(f"Restore {velero_ns}/{drill.restore_name}", "still running in Velero")] + [
                (f"namespace {s}", "the running restore may still create it") for _, s in drill.namespaces]
            return result
        sleep(POLL)
        restore = cluster.get(api, velero_ns, "restores", drill.restore_name)
        if restore is None:
            raise DrillError(f"restore {drill.restore_name} was deleted while the drill waited for it")
        on_progress(restore)
    result.finished, result.seconds = now(), clock() - started
    _judge(api, result, restore)
    if keep:
        result.kept = True
    else:
        cleanup(api, result)
    return result


def _phase(restore: dict) -> str:
    return (restore.get("status") or {}).get("phase") or "New"


def _judge(api, result: Result, restore: dict) -> None:
    status = restore.get("status") or {}
    progress = status.get("progress") or {}
    result.phase = _phase(restore)
    result.items_restored, result.items_total = progress.get("itemsRestored"), progress.get("totalItems")
    result.warnings, result.errors = int(status.get("warnings") or 0), int(status.get("errors") or 0)
    drill, checks = result.drill, result.checks
    why = status.get("failureReason") or "; ".join(status.get("validationErrors") or [])
    checks.append(Check("phase", result.phase == "Completed",
                        f"restore {drill.restore_name} {result.phase}" + (f": {why}" if why else "")))
    checks.append(Check("errors", result.errors == 0, f"{result.errors} error(s), {result.warnings} warning(s)"
                        + (f" (see: snapplan restores logs {drill.restore_name})" if result.errors or result.warnings
                           else "")))
    restored, total, backed = result.items_restored, result.items_total, result.items_backed_up
    if drill.whole_backup and backed is not None:
        checks.append(Check("items", restored == backed,
                            f"{restored if restored is not None else 'no'} item(s) restored of the {backed} "
                            "the backup holds"))
    else:
        ok = restored is not None and restored == total and restored > 0
        of = f" (the backup holds {backed} in all)" if backed is not None else ""
        checks.append(Check("items", ok, f"{restored if restored is not None else 'no'} item(s) restored of the "
                            f"{total if total is not None else '?'} selected{of}"))
    if result.phase in ("Completed", "PartiallyFailed"):
        for source, scratch in drill.namespaces:
            found = _exists(api, scratch)
            checks.append(Check(f"namespace {source}", found, f"{source} restored as {scratch}" if found
                                else f"{source} was not restored: namespace {scratch} does not exist"))
        for e in drill.expect:
            checks.append(_expect(api, e, [s for _, s in drill.namespaces]))


def _expect(api, e, namespaces: list[str]) -> Check:
    from engine.drill.kinds import KindNotServed, count

    what = e.kind + (f" {e.name}" if e.name else "")
    try:
        n = sum(count(api, e.kind, ns, e.name) for ns in namespaces)
    except KindNotServed as exc:
        return Check(f"expect {what}", False, str(exc))
    want = 1 if e.name else e.min
    return Check(f"expect {what}", n >= want, f"{what}: {n} found in the scratch namespaces (want at least {want})")


def cleanup(api, result: Result) -> None:
    """Delete the scratch namespaces (preflight saw none of them before the restore), each the one
    incarnation read here, by uid; one labelled as restored from another backup is left and named."""
    from engine.snapshots.build import label_value

    for _, scratch in result.drill.namespaces:
        current = request(api, "GET", namespace_path(scratch))
        if current.status == 404:
            continue  # never created (the restore held nothing for it)
        if current.status >= 400:
            result.left.append((f"namespace {scratch}", str(api_error(current, "get", namespace_path(scratch)))))
            continue
        meta = current.json().get("metadata") or {}
        restored_from = (meta.get("labels") or {}).get("velero.io/backup-name")
        if restored_from is not None and restored_from != label_value(result.drill.backup):
            result.left.append((f"namespace {scratch}", f"labelled as restored from backup {restored_from}, "
                                "not this drill's; not deleted"))
            continue
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": meta.get("uid", "")}}
        resp = request(api, "DELETE", namespace_path(scratch), body=body)
        if resp.status in (200, 202):
            result.deleted.append(scratch)
        elif resp.status == 404:
            continue  # never created (the restore held nothing for it)
        else:
            err = api_error(resp, "delete", namespace_path(scratch))
            result.left.append((f"namespace {scratch}", str(err)))

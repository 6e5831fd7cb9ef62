"""Carry out a plan's changes against a writer: merge patches guarded by resourceVersion, re-diff on 409.

Each action is retried on transient failures by the injected retry policy; a conflict re-reads the object
and goes on only if the fields the plan changes still hold the values the plan saw.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Protocol

from engine.addr import Address
from engine.apply.redact import Redacted, needles, redact
from engine.apply.retry import Backoff, RetryPolicy
from engine.apply.waits import Pending, WaitFailed, WaitInterrupted, backup_synced, location_check, restore_check, wait
from engine.apply.walk import Outcome, Status, walk
from engine.apply.writer import Conflict, Rejected
from engine.diff import SKIP_IMMEDIATELY, field_changes, path_str
from engine.graph import build_graph
from engine.model.desired import DesiredState
from engine.model.manifest import LAST_APPLIED, last_applied, to_manifest
from engine.plan.model import Action, Change, Plan
from engine.state.live import content_parts


class Observer(Protocol):
    def on_start(self, address: Address, action: Action) -> None: ...
    def on_retry(self, address: Address, attempt: int, error: str, sleep: float) -> None: ...
    def on_done(self, address: Address, outcome: Outcome) -> None: ...
    def on_wait(self, address: Address, pending: Pending, elapsed: float) -> None: ...


class Writer(Protocol):
    def get(self, addr: Address) -> dict | None: ...
    def create(self, addr: Address, obj: dict) -> dict: ...
    def patch(self, addr: Address, patch: dict) -> dict: ...
    def delete(self, addr: Address, *, uid: str, resource_version: str) -> dict: ...


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 8
    retry: RetryPolicy = field(default_factory=Backoff)
    sleep: object = time.sleep
    wait: bool = True  # wait for Velero: locations validated, restores finished
    timeout: float = 600.0  # seconds, per wait
    poll: float = 1.0
    clock: object = time.monotonic


@dataclass(frozen=True)
class ApplyResult:
    outcomes: dict[Address, Outcome]
    plan: Plan
    interrupted: bool = False
    lock_lost: str = ""  # why the run stopped when another apply took the lock over
    not_recreated: tuple[Address, ...] = ()  # replacements that deleted and could not create: destroyed

    def destroyed(self) -> int:
        return self.count(Status.DONE, (Action.DELETE, Action.REPLACE)) + len(self.not_recreated)

    def count(self, status: Status, actions: tuple[Action, ...]) -> int:
        by = {c.address: c.action for c in self.plan.changes}
        return sum(1 for a, o in self.outcomes.items() if o.status is status and by.get(a) in actions)

    @property
    def ok(self) -> bool:
        return all(o.status is Status.DONE for o in self.outcomes.values())


class UnsafeChange(Exception):
    """Someone changed the object since the plan in a way that makes the planned write unsafe."""


class NotRecreated(Exception):
    """A replacement deleted the old object and could not create the new one."""


# An update or delete re-reads and retries this often when the object's status moves between read and write.
DELETE_READS = 5


def set_path(target: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def merge_patch(change: Change, desired: DesiredState, resource_version: str | None) -> dict:
    """The changed leaves (null removes), the new last-applied record, and the version it was planned on."""
    want = desired.objects[change.address]
    patch: dict = {"metadata": {"annotations": {LAST_APPLIED: last_applied(want)}}}
    if resource_version:
        patch["metadata"]["resourceVersion"] = resource_version
    for f in change.fields:
        if f.sensitive:
            key = f.path[-1]
            set_path(patch, ("data", key), base64.b64encode(want.secret[key]).decode())
        else:
            set_path(patch, f.path, f.after)
    if any(f.path == ("spec", "paused") and f.after is False for f in change.fields) and \
            "skipImmediately" in want.obj["spec"]:
        # Velero reads skipImmediately at the un-pause and then resets it: the enabling write carries the
        # policy's, whatever the cluster holds by then (it may have changed since the plan).
        set_path(patch, SKIP_IMMEDIATELY, want.obj["spec"]["skipImmediately"])
    return patch


class Executor:
    def __init__(self, plan: Plan, desired: DesiredState, writer: Writer, observer: Observer, options: ApplyOptions):
        self.plan, self.desired, self.writer, self.observer, self.options = plan, desired, writer, observer, options
        self.changes = {c.address: c for c in plan.changes if c.action is not Action.NOOP}
        self.hidden = needles(v for o in desired.objects.values() for v in (o.secret or {}).values())
        self.deleted: set[Address] = set()  # replacements whose delete is done (a retry goes on to the create)

    def run(self, stop=None) -> ApplyResult:
        import threading

        self.stop = stop = stop or threading.Event()
        graph = build_graph(self.changes.values())
        outcomes = walk(graph, self._run_one, parallelism=self.options.parallelism, stop=stop,
                        on_skip=lambda a, why: self.observer.on_done(a, Outcome(Status.SKIPPED, why)))
        lost = tuple(sorted((a for a in self.deleted if outcomes.get(a, Outcome(Status.NOT_STARTED)).status
                             is not Status.DONE), key=Address.sort_key))
        return ApplyResult(outcomes, self.plan, interrupted=stop.is_set(), not_recreated=lost)

    def _run_one(self, addr: Address) -> str:
        change = self.changes[addr]
        self.observer.on_start(addr, change.action)
        try:
            if addr.kind == "Restore" and change.action is Action.CREATE:
                if self.options.wait:
                    self._wait_for_backup(addr)
                else:
                    self._backup_present(addr)
            message, written = self._with_retries(addr, lambda: self._act(change))
            if self.options.wait:
                try:
                    message = self._wait_for_velero(change, written, message)
                except WaitInterrupted as stopped:  # written, not watched to the end: done, and said so
                    message = f"{message}; {stopped}"
        except Exception as exc:
            message = redact(str(exc), self.hidden)
            if addr in self.deleted and change.action is Action.REPLACE:
                message = (f"destroyed, not recreated: {message}. Its schedules' backups fail until it exists "
                           "again: run apply again to create it")
                self.observer.on_done(addr, Outcome(Status.FAILED, message))
                raise NotRecreated(message) from None
            self.observer.on_done(addr, Outcome(Status.FAILED, message))
            if message != str(exc):
                raise Redacted(message) from None
            raise
        self.observer.on_done(addr, Outcome(Status.DONE, message))
        return message

    def _with_retries(self, addr: Address, fn):
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:  # the policy decides what is transient
                decision = self.options.retry(exc, attempt)
                if not decision.retry:
                    raise
                self.observer.on_retry(addr, attempt, redact(str(exc), self.hidden), decision.sleep)
                self.options.sleep(decision.sleep)

    def _wait(self, addr: Address, target: Address, check, what: str) -> str:
        on_wait = getattr(self.observer, "on_wait", None) or (lambda *a: None)
        return wait(lambda: self._with_retries(addr, lambda: self.writer.get(target)), check,
                    timeout=self.options.timeout, what=what, on_progress=lambda p, t: on_wait(addr, p, t),
                    sleep=self.options.sleep, clock=self.options.clock, poll=self.options.poll, stop=self.stop)

    def _backup_present(self, addr: Address) -> None:
        """Without waiting, a restore of a backup Velero has not synced yet would only fail validation, and a
        failed Restore is never run again: refuse it instead."""
        name = (self.desired.objects[addr].obj.get("spec") or {}).get("backupName")
        if name and self._with_retries(addr, lambda: self.writer.get(Address("Backup", addr.namespace, name))) is None:
            raise WaitFailed(f"backup {name} is not in the cluster yet; with --no-wait the restore would fail "
                             "Velero's validation: run apply without --no-wait to wait for Velero's sync")

    def _wait_for_backup(self, addr: Address) -> None:
        """Disaster recovery: the backup may exist only in storage until Velero's sync brings it in."""
        name = (self.desired.objects[addr].obj.get("spec") or {}).get("backupName")
        if name:
            self._wait(addr, Address("Backup", addr.namespace, name), backup_synced(name),
                       f"for Velero to sync backup {name} from storage")

    def _wait_for_velero(self, change: Change, written: dict | None, message: str) -> str:
        addr = change.address
        spec_changed = change.action is not Action.UPDATE or any(f.path[0] == "spec" for f in change.fields)
        if addr.kind == "BackupStorageLocation" and change.action is not Action.DELETE and spec_changed:
            # Velero validates a location on create and on a spec change, not on a metadata-only update
            before = ((written or {}).get("status") or {}).get("lastValidationTime")
            check, what = location_check(addr, before), "for Velero to validate the location"
        elif addr.kind == "Restore" and change.action is Action.CREATE:
            check, what = restore_check(addr), "for the restore to finish"
        else:
            return message
        message = f"{message}; {self._wait(addr, addr, check, what)}"
        if addr.kind == "BackupStorageLocation" and (self.desired.objects[addr].obj.get("spec") or {}).get("default"):
            self._check_still_default(addr)
        return message

    def _check_still_default(self, addr: Address) -> None:
        """Velero decided the default before validating the location we waited for: with two marked, it kept
        the most recently created (backup_storage_location_controller.go ensureSingleDefaultBSL). Apply must
        not report success when that is not the policy's default."""
        live = self._with_retries(addr, lambda: self.writer.get(addr))
        if ((live or {}).get("spec") or {}).get("default"):
            return
        known = {a for a in (*self.plan.unmanaged, *(c.address for c in self.plan.changes), *self.desired.objects)
                 if a.kind == "BackupStorageLocation" and a != addr and a.namespace == addr.namespace}
        holders = []
        for other in sorted(known, key=Address.sort_key):
            obj = self._with_retries(addr, lambda other=other: self.writer.get(other))
            if ((obj or {}).get("spec") or {}).get("default"):
                holders.append(str(other))
        who = f"{', '.join(holders)} is the default" if holders else "no location is the default"
        raise WaitFailed(f"Velero cleared its default flag: {who} (Velero keeps only the most recently created "
                         "location marked default); unmark the other location, then apply again")

    def _act(self, change: Change) -> tuple[str, dict | None]:
        addr = change.address
        if change.action is Action.CREATE:
            return self._create(addr)
        if change.action is Action.UPDATE:
            return self._update(change, change.live_version)
        if change.action is Action.DELETE:
            return self._delete_guarded(change, "deleted"), None
        if change.action is Action.REPLACE:
            if addr not in self.deleted:  # a retry after the delete goes straight on to the create
                self._delete_guarded(change, "replaced")
                self.deleted.add(addr)
            self._wait_gone(addr)
            return self._create(addr)
        raise ValueError(f"no executor for {change.action}")

    def _delete_guarded(self, change: Change, verb: str) -> str:
        """The one way apply deletes: only while a fresh read still holds what the plan read (uid, labels,
        annotations, spec; not status, which Velero rewrites every minute), and with that read's uid and
        resourceVersion as the server-side precondition, so nothing written in between is deleted."""
        addr = change.address
        for _ in range(DELETE_READS):
            live = self.writer.get(addr)
            if live is None:
                return "already gone"  # our own earlier attempt (an answer lost), or someone else's
            now = dict(content_parts(live))
            moved = [part for part, digest in change.live_content if now.get(part) != digest]
            moved += [part for part in now if part not in dict(change.live_content)]
            if moved or not change.live_content:
                what = "it was deleted and created again" if "uid" in moved else \
                    f"its {', '.join(sorted(set(moved)) or ['content'])} changed"
                raise UnsafeChange(f"{addr} changed since the plan ({what}); not {verb}. Run plan again.")
            meta = live["metadata"]
            try:
                self.writer.delete(addr, uid=meta.get("uid", ""), resource_version=meta.get("resourceVersion", ""))
            except Conflict:
                continue  # written between the read and the delete (Velero's status, mostly): read again
            except Rejected as exc:
                if exc.status != 404:
                    raise
                return "already gone"
            return "destroyed"
        raise UnsafeChange(f"{addr} kept changing while apply tried to delete it; not {verb}. Run plan again.")

    def _create(self, addr: Address) -> tuple[str, dict | None]:
        want = self.desired.objects[addr]
        try:
            return "created", self.writer.create(addr, to_manifest(want))
        except Conflict as exc:
            if exc.reason != "AlreadyExists":
                raise
            live = self.writer.get(addr)
            if live is not None and not field_changes(want, live):
                return "already exists with the planned content", None
            raise UnsafeChange(f"{addr} was created by someone else since the plan; run plan again") from None

    def _update(self, change: Change, version: str | None) -> tuple[str, dict | None]:
        try:
            return "updated", self.writer.patch(change.address, merge_patch(change, self.desired, version))
        except Conflict:
            pass
        for _ in range(DELETE_READS):  # Velero may write the status again between our read and our patch
            live = self.writer.get(change.address)
            if live is None:
                raise UnsafeChange(f"{change.address} was deleted by someone else since the plan; run plan again")
            now = {f.path: f for f in field_changes(self.desired.objects[change.address], live)}
            for f in change.fields:
                current = now.get(f.path)
                if current is None:
                    continue  # already as planned
                if (current.before, current.after) != (f.before, f.after):
                    raise UnsafeChange(
                        f"{change.address} changed since the plan: {path_str(f.path)} is now {current.before!r} "
                        f"(planned from {f.before!r}); not overwritten. Run plan again.")
            try:
                written = self.writer.patch(change.address,
                                            merge_patch(change, self.desired, live["metadata"]["resourceVersion"]))
            except Conflict:
                continue
            return "updated (re-read after a concurrent change)", written
        raise UnsafeChange(f"{change.address} kept changing while apply tried to update it; not updated. "
                           "Run plan again.")

    def _wait_gone(self, addr: Address, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.writer.get(addr) is not None:
            if time.monotonic() > deadline:
                raise UnsafeChange(f"{addr} was not deleted within {timeout:.0f}s (finalizers?)")
            self.options.sleep(0.2)

"""What apply waits for after a write, as pure checks over the object Velero updates.

A check looks at the live object and answers Pending(progress text), Ready(message) or raises WaitFailed.
`wait()` polls with an injected sleep and clock, so tests can drive it against a simulated Velero.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from engine.addr import Address

RESTORE_DONE = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}


class WaitFailed(Exception):
    """Velero finished with a failure (Unavailable location, failed restore) or the wait timed out."""


class WaitInterrupted(WaitFailed):
    """Ctrl-C while waiting: the write was made; only the watching stopped."""


@dataclass(frozen=True)
class Pending:
    text: str
    done: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class Ready:
    message: str


Check = Callable[[dict | None], "Pending | Ready"]


def location_check(addr: Address, validated_before: str | None) -> Check:
    """A written BackupStorageLocation is ready once Velero validated it after our write (a new
    lastValidationTime) and found it Available. Velero reconciles a spec change at once."""

    def check(obj: dict | None) -> Pending | Ready:
        if obj is None:
            raise WaitFailed(f"{addr} was deleted while waiting for Velero to validate it")
        status = obj.get("status") or {}
        validated = status.get("lastValidationTime")
        phase = status.get("phase")
        if not validated or validated == validated_before or phase not in ("Available", "Unavailable"):
            return Pending(f"phase {phase or '(none)'}, not validated since the write")
        if phase == "Unavailable":
            message = status.get("message") or ""
            if _own_secret_not_cached(obj, message):
                return Pending(f"Velero has not seen the credentials Secret yet ({message}); it validates the "
                               "location again with its next pass")
            raise WaitFailed(f"Velero marked {addr} Unavailable: {message or 'no message given'}")
        return Ready(f"Available (validated {validated})")

    return check


def _own_secret_not_cached(location: dict, message: str) -> bool:
    """Velero reads credential Secrets through its informer cache (internal/credentials/secret_store.go,
    "unable to get key for secret"): a location validated right after its
    Secret was created can come back `Secret "NAME" not found` although the API server has the Secret (seen
    with velero 1.17.1 against a real kube-apiserver, tests/conformance/RESULTS.md). For the location's own
    credential Secret, which this apply wrote before the location, that answer is not final."""
    import re

    credential = ((location.get("spec") or {}).get("credential") or {}).get("name")
    found = re.search(r'[Ss]ecrets? "([^"]+)" not found', message)
    return bool(credential and found and found.group(1) == credential)


def backup_synced(name: str) -> Check:
    def check(obj: dict | None) -> Pending | Ready:
        if obj is None:
            return Pending(f"backup {name} not in the cluster yet (Velero syncs storage every minute)")
        phase = (obj.get("status") or {}).get("phase") or "New"
        if phase in ("Completed", "PartiallyFailed"):
            return Ready(f"backup {name} is here ({phase})")
        if phase in ("Failed", "FailedValidation", "Deleting"):
            raise WaitFailed(f"backup {name} is {phase}: it cannot be restored")
        return Pending(f"backup {name} is {phase}")

    return check


def restore_check(addr: Address) -> Check:
    def check(obj: dict | None) -> Pending | Ready:
        if obj is None:
            raise WaitFailed(f"{addr} was deleted while it ran")
        status = obj.get("status") or {}
        phase = status.get("phase") or "New"
        progress = status.get("progress") or {}
        done, total = progress.get("itemsRestored"), progress.get("totalItems")
        if phase not in RESTORE_DONE:
            items = f", {done}/{total} items" if total else ""
            return Pending(f"restore {phase}{items}", done, total)
        outcome = restore_outcome(status)
        if phase == "Completed":
            return Ready(outcome)
        raise WaitFailed(f"{addr} ended {outcome}")

    return check


def restore_outcome(status: dict) -> str:
    phase = status.get("phase") or "New"
    progress = status.get("progress") or {}
    parts = [phase]
    if progress.get("totalItems") is not None:
        parts.append(f"{progress.get('itemsRestored', 0)}/{progress['totalItems']} items restored")
    parts.append(f"{status.get('warnings', 0) or 0} warning(s)")
    parts.append(f"{status.get('errors', 0) or 0} error(s)")
    text = ", ".join(parts)
    reasons = list(status.get("validationErrors") or [])
    if status.get("failureReason"):
        reasons.append(status["failureReason"])
    if reasons:
        text += ": " + "; ".join(reasons)
    if phase in ("PartiallyFailed", "Failed"):
        text += " (velero restore describe --details / velero restore logs for the items)"
    return text


def wait(get: Callable[[], dict | None], check: Check, *, timeout: float, what: str,
         on_progress: Callable[[Pending, float], None], sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic, poll: float = 1.0, stop=None) -> str:
    started = clock()
    while True:
        if stop is not None and stop.is_set():
            raise WaitInterrupted(f"stopped waiting {what} (interrupted); Velero carries on with it")
        state = check(get())
        if isinstance(state, Ready):
            return state.message
        elapsed = clock() - started
        if elapsed >= timeout:
            raise WaitFailed(f"timed out after {_span(timeout)} waiting {what} (last seen: {state.text}); "
                             "is Velero running? (kubectl -n velero get deploy/velero) — raise --timeout to wait longer")
        on_progress(state, elapsed)
        sleep(min(poll, max(timeout - elapsed, 0.01)))


def _span(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"

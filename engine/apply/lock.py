"""The apply lock: a coordination.k8s.io Lease `snapplan-lock` in Velero's namespace.

One apply at a time per namespace. The holder renews the Lease while it works; a Lease not renewed
within its duration is expired and the next apply takes it over (a crashed apply never blocks forever).
Every write carries the resourceVersion it read, so two applies racing for the Lease cannot both win.
"""
from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from engine.errors import SnapplanError
from engine.times import parse_time

LEASE_NAME = "snapplan-lock"
CLOCK_SKEW = 10  # seconds another machine's clock may be off before its Lease counts as expired on its word
MAX_LEASE_SECONDS = 600  # the longest a Lease may live unrenewed, whatever it says: a crash never blocks for long
RUN_MARK = " run "  # holderIdentity = "user@host pid N run <uuid>": the uuid tells two runs apart


class LockHeld(SnapplanError):
    """Another apply holds the lock."""


class LockError(SnapplanError):
    """The lock cannot be taken or kept for a reason other than another holder (RBAC, API errors)."""


def identity() -> str:
    """This run's holderIdentity. `user@host pid N` alone is shared by two containers with one hostname, each
    apply PID 1: the random run id makes every run's identity its own, and locks are compared on all of it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}{RUN_MARK}{uuid.uuid4().hex}"


def display_name(holder_identity: str) -> str:
    """`user@host pid N` for messages: the run id is for comparing, `snapplan lock show` prints it."""
    head, mark, run = holder_identity.rpartition(RUN_MARK)
    return head if mark and len(run) == 32 and all(c in "0123456789abcdef" for c in run) else holder_identity


def run_id(holder_identity: str) -> str:
    name = display_name(holder_identity)
    return holder_identity[len(name) + len(RUN_MARK):] if name != holder_identity else ""


def micro_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Holder:
    identity: str
    acquired: datetime | None
    renewed: datetime | None
    duration: int

    @property
    def name(self) -> str:
        return display_name(self.identity)

    @property
    def run(self) -> str:
        return run_id(self.identity)

    @property
    def lifetime(self) -> int:
        """The duration we honour: a Lease claiming more than MAX_LEASE_SECONDS (written by hand, or by an old
        snapplan without the cap) must not keep a crashed holder's lock for years."""
        return min(max(self.duration, 0), MAX_LEASE_SECONDS)

    @property
    def expires(self) -> datetime | None:
        last = self.renewed or self.acquired
        return last + timedelta(seconds=self.lifetime) if last else None

    def expired(self, now: datetime) -> bool:
        return not self.identity or self.expires is None or now >= self.expires

    @classmethod
    def of(cls, lease: dict) -> "Holder":
        spec = lease.get("spec") or {}
        return cls(spec.get("holderIdentity") or "", parse_time(spec.get("acquireTime")),
                   parse_time(spec.get("renewTime")), int(spec.get("leaseDurationSeconds") or 0))


class LeaseLock:
    """acquire() / release(), and a renewer thread in between (use it as a context manager)."""

    def __init__(self, api, namespace: str, *, duration: int = 60, timeout: float = 0.0,
                 who: str | None = None, on_wait: Callable[[Holder], None] | None = None,
                 on_lost: Callable[[], None] = lambda: None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 sleep: Callable[[float], None] = time.sleep):
        if not 1 <= duration <= MAX_LEASE_SECONDS:
            raise LockError(f"a lock duration of {duration}s is out of range: 1 to {MAX_LEASE_SECONDS} seconds")
        self.api, self.namespace, self.duration, self.timeout = api, namespace, duration, timeout
        self.who = who or identity()
        self.on_wait = on_wait or (lambda holder: None)
        self.on_lost = on_lost
        self.now, self.sleep = now, sleep
        self.version: str | None = None
        self.took_over: Holder | None = None
        self.lost = threading.Event()
        self.lost_reason = ""
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._mutex = threading.Lock()
        self._seen: dict[str, float] = {}  # Lease resourceVersion -> when we first saw it (monotonic)

    # --- HTTP -------------------------------------------------------------------------------------------
    @property
    def _path(self) -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases"

    def _call(self, method: str, path: str, body: dict | None = None):
        from engine.state.kube import request_retrying

        resp = request_retrying(self.api, method, path, body=body, timeout=15, sleep=self.sleep)
        if resp.status == 403:
            raise LockError(
                f"not allowed to {method} the Lease {self.namespace}/{LEASE_NAME}: "
                f"{_message(resp)}; apply needs get, create, update and delete on leases.coordination.k8s.io "
                f"in namespace {self.namespace} (or pass --no-lock if you coordinate applies yourself)")
        if resp.status == 404 and method == "POST":
            raise LockError(f"cannot create the Lease {LEASE_NAME}: namespace {self.namespace} does not exist")
        return resp

    def _spec(self, acquired: datetime, transitions: int) -> dict:
        return {"holderIdentity": self.who, "leaseDurationSeconds": self.duration,
                "acquireTime": micro_time(acquired), "renewTime": micro_time(self.now()),
                "leaseTransitions": transitions}

    # --- lifecycle --------------------------------------------------------------------------------------
    def acquire(self) -> None:
        started = time.monotonic()
        while True:
            resp = self._call("GET", f"{self._path}/{LEASE_NAME}")
            if resp.status == 404:
                body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                        "metadata": {"name": LEASE_NAME, "namespace": self.namespace,
                                     "labels": {"app.kubernetes.io/managed-by": "snapplan"}},
                        "spec": self._spec(self.now(), 0)}
                created = self._call("POST", self._path, body)
                if created.status == 201 or created.status == 200:
                    self.version = created.json()["metadata"]["resourceVersion"]
                    return
                if created.status != 409:
                    raise LockError(f"cannot create the Lease {LEASE_NAME}: {_message(created)}")
                continue  # someone created it first: look again
            if resp.status >= 400:
                raise LockError(f"cannot read the Lease {self.namespace}/{LEASE_NAME}: {_message(resp)}")
            lease = resp.json()
            holder = Holder.of(lease)
            if holder.identity == self.who or self._expired(lease, holder):
                if self._take(lease, holder):
                    return
                continue
            if time.monotonic() - started >= self.timeout:
                raise LockHeld(held_message(holder, self.namespace, self.now()))
            self.on_wait(holder)
            self.sleep(min(2.0, max(0.1, self.timeout - (time.monotonic() - started))))

    def _expired(self, lease: dict, holder: Holder) -> bool:
        """Expired by the holder's own clock with a margin for skew between machines, or not renewed for a
        whole lease duration while we watched it (our clock only, as client-go's leader election judges)."""
        if holder.expired(self.now() - timedelta(seconds=CLOCK_SKEW)):
            return True
        version = lease["metadata"].get("resourceVersion")
        first_seen = self._seen.setdefault(version, time.monotonic())
        return bool(holder.identity) and time.monotonic() - first_seen >= max(holder.lifetime, 1)

    def _take(self, lease: dict, holder: Holder) -> bool:
        transitions = int((lease.get("spec") or {}).get("leaseTransitions") or 0) + 1
        lease = {**lease, "spec": self._spec(self.now(), transitions)}
        resp = self._call("PUT", f"{self._path}/{LEASE_NAME}", lease)
        if resp.status == 409:
            return False  # another apply moved first; look again
        if resp.status >= 400:
            raise LockError(f"cannot take over the Lease {LEASE_NAME}: {_message(resp)}")
        self.version = resp.json()["metadata"]["resourceVersion"]
        if holder.identity and holder.identity != self.who:
            self.took_over = holder
        return True

    def renew(self) -> None:
        with self._mutex:
            if self.version is None:
                return
            resp = self._call("GET", f"{self._path}/{LEASE_NAME}")
            if resp.status == 404:
                lease, reason = None, "the lock was broken (its Lease was deleted, e.g. by `snapplan lock break`)"
            elif resp.status >= 400:
                return  # a transient failure; the next renewal tries again well before expiry
            else:
                lease = resp.json()
                reason = f"the lock was taken over by {Holder.of(lease).name} (this apply's lock had expired)"
            if lease is None or Holder.of(lease).identity != self.who:
                self.lost_reason = reason
                self.lost.set()
                self.version = None
                self.on_lost()
                return
            spec = dict(lease["spec"], renewTime=micro_time(self.now()))
            put = self._call("PUT", f"{self._path}/{LEASE_NAME}", {**lease, "spec": spec})
            if put.status < 400:
                self.version = put.json()["metadata"]["resourceVersion"]

    def release(self) -> None:
        """Delete the Lease if it is still ours. Never raises: releasing is best effort at exit."""
        with self._mutex:
            if self.version is None:
                return
            try:
                for _ in range(3):
                    resp = self._call("GET", f"{self._path}/{LEASE_NAME}")
                    if resp.status >= 400 or Holder.of(resp.json()).identity != self.who:
                        break
                    version = resp.json()["metadata"]["resourceVersion"]
                    gone = self._call("DELETE", f"{self._path}/{LEASE_NAME}",
                                      {"kind": "DeleteOptions", "apiVersion": "v1",
                                       "preconditions": {"resourceVersion": version}})
                    if gone.status != 409:
                        break
            except SnapplanError:
                pass
            self.version = None

    def _renew_loop(self) -> None:
        period = max(self.duration / 3, 0.2)
        while not self._stop.wait(period):
            try:
                self.renew()
            except SnapplanError:
                continue

    def __enter__(self) -> "LeaseLock":
        self.acquire()
        self._renewer = threading.Thread(target=self._renew_loop, name="snapplan-lock", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self.release()


def held_message(holder: Holder, namespace: str, now: datetime) -> str:
    since = holder.acquired.strftime("%Y-%m-%d %H:%M:%S UTC") if holder.acquired else "an unknown time"
    expires = holder.expires
    left = f"; it expires in {int((expires - now).total_seconds())}s unless renewed" if expires else ""
    return (f"another apply holds the lock (Lease {namespace}/{LEASE_NAME}): {holder.name}, since {since}{left}. "
            f"Wait for it, or pass --lock-timeout 5m to wait here")


def _message(resp) -> str:
    try:
        return resp.json().get("message") or f"HTTP {resp.status}"
    except ValueError:
        return f"HTTP {resp.status}"


def current_holder(api, namespace: str) -> tuple[Holder, dict] | None:
    """The Lease as it is now (for `snapplan lock show`), or None when no apply holds the lock."""
    from engine.state.kube import request_retrying

    resp = request_retrying(api, "GET", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{LEASE_NAME}",
                            timeout=15)
    if resp.status == 404:
        return None
    if resp.status >= 400:
        raise LockError(f"cannot read the Lease {namespace}/{LEASE_NAME}: {_message(resp)}")
    lease = resp.json()
    return Holder.of(lease), lease


def break_lock(api, namespace: str, lease: dict) -> None:
    """Delete exactly the Lease that was shown: its uid and resourceVersion are preconditions, so a lock that
    changed hands (or was renewed) since is not broken by mistake."""
    from engine.state.kube import request_retrying

    meta = lease.get("metadata") or {}
    resp = request_retrying(api, "DELETE", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{LEASE_NAME}",
                            body={"kind": "DeleteOptions", "apiVersion": "v1",
                                  "preconditions": {"uid": meta.get("uid"),
                                                    "resourceVersion": meta.get("resourceVersion")}},
                            timeout=15)
    if resp.status == 404:
        return  # released meanwhile
    if resp.status == 409:
        raise LockHeld(f"the lock changed since it was read (renewed or taken by another apply); nothing was "
                       f"broken. Run `snapplan lock show` again")
    if resp.status >= 400:
        raise LockError(f"cannot delete the Lease {namespace}/{LEASE_NAME}: {_message(resp)}")

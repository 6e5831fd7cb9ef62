"""Where apply reads and writes: a cluster (through kubeconfig, locked by a Lease) or a cluster-state file
(locked with flock, rewritten atomically at the end). Both hand the executor the same Writer interface."""
from __future__ import annotations

import copy
import fcntl
import json
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from engine.addr import Address
from engine.apply.writer import Conflict, Rejected
from engine.atomic import write_atomic
from engine.errors import SnapplanError


@dataclass(frozen=True)
class LockOptions:
    enabled: bool = True
    timeout: float = 0.0
    duration: int = 60


@dataclass
class Session:
    read: object  # () -> LiveState
    writer: object
    lock: object = None  # LeaseLock when one is held
    waits: bool = True  # False when no Velero runs behind the target (a state file)
    stop: threading.Event = field(default_factory=threading.Event)  # set when the lock is lost
    describe: dict = field(default_factory=dict)  # the target, as a saved plan records it


class ClusterTarget:
    def __init__(self, kube, lock: LockOptions = LockOptions()):
        self.kube, self.lock_options = kube, lock

    def describe(self, api=None) -> dict:
        from engine.state.kube import api_client, context_name

        if api is None:
            with api_client(self.kube) as api:
                return self.describe(api)
        return {"kind": "cluster", "server": api.configuration.host, "context": context_name(self.kube)}

    @contextmanager
    def read_only(self, namespace: str):
        """(live state, description) for plan: no lock, no writer."""
        from engine.state.kube import api_client, read_cluster

        with api_client(self.kube) as api:
            yield read_cluster(api, namespace), self.describe(api)

    @contextmanager
    def open(self, namespace: str, on_lock_wait=None):
        from engine.apply.lock import LeaseLock
        from engine.apply.writer import KubeWriter
        from engine.state.kube import api_client, read_cluster

        with api_client(self.kube) as api:
            read = lambda: read_cluster(api, namespace)  # noqa: E731
            describe = self.describe(api)
            if not self.lock_options.enabled:
                yield Session(read, KubeWriter(api), describe=describe)
                return
            stop = threading.Event()
            lock = LeaseLock(api, namespace, duration=self.lock_options.duration,
                             timeout=self.lock_options.timeout, on_wait=on_lock_wait, on_lost=stop.set)
            with lock:
                yield Session(read, KubeWriter(api), lock, stop=stop, describe=describe)


class StateFileTarget:
    def __init__(self, path: Path):
        self.path = Path(path)

    def describe(self, api=None) -> dict:
        return {"kind": "state", "path": str(self.path.resolve())}

    @contextmanager
    def read_only(self, namespace: str):
        from engine.state import read_state_file

        yield read_state_file(self.path, namespace), self.describe()

    @contextmanager
    def open(self, namespace: str, on_lock_wait=None):
        from engine.state import read_state_file

        if not self.path.exists():
            raise SnapplanError(f"{self.path}: state file not found")
        with open(self.path, "rb") as guard:
            try:
                fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SnapplanError(f"{self.path} is locked by another apply; try again when it is done") from None
            live = read_state_file(self.path, namespace)
            writer = StateFileWriter(live, namespace)
            try:
                yield Session(lambda: live, writer, waits=False, describe=self.describe())
            finally:
                if writer.dirty:
                    write_state_file(self.path, live)


class StateFileWriter:
    """The Writer interface over an in-memory LiveState, with the API server's resourceVersion rules."""

    def __init__(self, live, namespace: str):
        self.live, self.namespace = live, namespace
        self.mutex = threading.Lock()
        self.dirty = False
        versions = [int(v) for o in live.objects.values()
                    if str(v := (o.get("metadata") or {}).get("resourceVersion", "")).isdigit()]
        self.version = max(versions, default=0)

    def _bump(self, obj: dict) -> dict:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.dirty = True
        return copy.deepcopy(obj)

    def get(self, addr: Address) -> dict | None:
        with self.mutex:
            obj = self.live.objects.get(addr)
            return copy.deepcopy(obj) if obj is not None else None

    def create(self, addr: Address, obj: dict) -> dict:
        with self.mutex:
            if addr in self.live.objects:
                raise Conflict(f'{addr}: {addr.kind} "{addr.name}" already exists', "AlreadyExists")
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            meta.update(namespace=addr.namespace, uid=str(uuid.uuid4()), generation=1,
                        creationTimestamp=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            self.live.objects[addr] = obj
            return self._bump(obj)

    def patch(self, addr: Address, patch: dict) -> dict:
        with self.mutex:
            obj = self.live.objects.get(addr)
            if obj is None:
                raise Rejected(f"PATCH {addr} refused (404 NotFound): not found", 404)
            want = (patch.get("metadata") or {}).get("resourceVersion")
            if want and want != obj["metadata"].get("resourceVersion"):
                raise Conflict(f"{addr}: the object has been modified", "Conflict")
            merged = merge(obj, patch)
            if merged.get("spec") != obj.get("spec"):
                merged["metadata"]["generation"] = int(obj["metadata"].get("generation") or 1) + 1
            self.live.objects[addr] = merged
            return self._bump(merged)

    def delete(self, addr: Address, *, uid: str, resource_version: str) -> dict:
        with self.mutex:
            obj = self.live.objects.get(addr)
            if obj is None:
                raise Rejected(f"DELETE {addr} refused (404 NotFound): not found", 404)
            meta = obj["metadata"]
            if (uid or None, resource_version or None) != (meta.get("uid"), meta.get("resourceVersion")):
                raise Conflict(f"{addr}: precondition failed: the object has been modified", "Conflict")
            del self.live.objects[addr]
            self.dirty = True
            return {"kind": "Status", "status": "Success"}


def merge(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def write_state_file(path: Path, live) -> None:
    """All objects as one List, written to a temporary file and renamed over the old one."""
    items = [*live.namespaces.values(), *live.others,
             *(live.objects[a] for a in sorted(live.objects, key=Address.sort_key))]
    doc = {"apiVersion": "v1", "kind": "List", "items": items}
    with open(path, encoding="utf-8", errors="replace") as fh:
        was_json = fh.read(4096).lstrip().startswith("{")  # the reader's own test: keep the file's format
    text = json.dumps(doc, indent=2) + "\n" if was_json else yaml.safe_dump(doc, sort_keys=False)
    # Secret data (credentials, base64) stays in the file: without it every later plan would see the Secrets'
    # content as unknown and rewrite them, so the file could never show "No changes". Instead a file that holds
    # any is readable by its owner only, like a kubeconfig.
    secrets = any(o.get("kind") == "Secret" and (o.get("data") or o.get("stringData")) for o in items)
    write_atomic(path, text, 0o600 if secrets else path.stat().st_mode & 0o777)

"""`snapplan apply` killed with SIGKILL while it updates, deletes and replaces, on a cluster that already holds
the policy's objects and someone else's, with the Velero simulator running (moto as S3) and waits on.

Each trial: a fresh cluster gets policy v1 applied, plus objects snapplan does not manage (a location, its
Secret, a schedule, Backups); then `apply --prune` of v2 starts in a subprocess and is killed at a random
point. v2 moves a location (bucket prefix: an update), changes a schedule (update), drops a location, its
Secret and its schedule (deletes), changes a location's provider (a replacement) and adds a schedule on it.
After the kill nothing is half-made; the next apply converges; then every object of v2 exists, whole and
once, what v2 dropped is gone, and every object snapplan does not manage is still there, unchanged.

4 trials in CI (about 5 s each); SNAPPLAN_DEEP=1 runs 40. The first three kills land right after the
replacement's delete, an update and a prune's delete commit (before apply sees the answer); after that, every
other kill lands after another of apply's writes in turn (Velero's own are not counted), the rest once apply's
k-th request arrived, k at random.
"""
from __future__ import annotations

import copy
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from engine.apply.lock import Holder
from tests.cluster.apiserver.cluster import Cluster
from tests.cluster.clock import RealClock
from tests.cluster.velero_sim import VeleroSimulator, objects as velero_objects
from tests.helpers import run_cli, write
from tests.reliability.support import DEEP, GVR, half_made, objects

TRIALS = 40 if DEEP else 4
SIM_THREAD = "velero-sim"  # VeleroSimulator.start_background's thread: its writes are Velero's, not apply's
UNMANAGED = (("BackupStorageLocation", "theirs"), ("Secret", "theirs-credentials"), ("Schedule", "theirs-nightly"))
THEIR_BACKUPS = 5


def policy(s3_url: str, version: int) -> str:
    v2 = version == 2
    store = f"type: s3-compatible, bucket: crash, endpoint: {s3_url}, pathStyle: true, credentials: {{file: ./creds}}"
    lines = ["apiVersion: snapplan/v1", "kind: BackupPolicy", "metadata: {name: crash}", "storage:",
             f"  main: {{{store}, default: true, prefix: {'main-v2' if v2 else 'main'}}}"]
    if not v2:
        lines.append(f"  old: {{{store}, prefix: old}}")
        lines.append("  moved: {type: gcp, bucket: crash-gcp, credentials: {file: ./creds}}")
    else:
        lines.append(f"  moved: {{{store}, prefix: moved}}")
    lines += ["schedules:", f"  daily: {{scope: full, storage: main, schedule: daily, retention: {'14d' if v2 else '7d'}}}"]
    lines.append("  hourly: {scope: full, storage: moved, schedule: hourly}" if v2 else
                 "  weekly: {scope: full, storage: old, schedule: weekly}")
    return "\n".join(lines) + "\n"


def apply_args(path, kubeconfig) -> list[str]:
    return ["apply", "--auto-approve", "--skip-storage-check", "--prune", "-f", str(path), "--kubeconfig",
            str(kubeconfig), "--timeout", "60s"]


class Trial:
    """A cluster with Velero running, v1 applied, someone else's objects, and v2 ready to apply."""

    def __init__(self, n: int, tmp_path, s3, capsys, monkeypatch):
        self.dir = tmp_path / f"trial-{n}"
        write(self.dir / "creds", s3.create_credentials().shared_credentials_file())
        self.v1 = write(self.dir / "v1" / "policy.yaml", policy(s3.url, 1))
        self.v2 = write(self.dir / "v2" / "policy.yaml", policy(s3.url, 2))
        for d in ("v1", "v2"):
            (self.dir / d / "creds").write_bytes((self.dir / "creds").read_bytes())
        self.cluster = Cluster(clock=RealClock()).start()
        self.cluster.attach(VeleroSimulator(self.cluster.store, self.cluster.clock, s3.url))
        self.cluster.run_controllers(period=0.1)
        self.kubeconfig = self.cluster.write_kubeconfig(self.dir / "kubeconfig")
        self._theirs(s3)
        res = run_cli([*apply_args(self.v1, self.kubeconfig), "--no-wait"], capsys, monkeypatch)
        assert res.code == 0, res.out + res.err
        self.theirs = self.unmanaged()

    def _theirs(self, s3) -> None:
        store = self.cluster.store
        store.create(GVR["Secret"], "velero", velero_objects.credentials_secret(
            "theirs-credentials", s3.create_credentials().shared_credentials_file()))
        store.create(GVR["BackupStorageLocation"], "velero", velero_objects.storage_location(
            "theirs", "no-such-bucket", s3_url=s3.url, credential=("theirs-credentials", "cloud")))
        store.create(GVR["Schedule"], "velero", velero_objects.schedule("theirs-nightly", "0 1 * * *"))
        for i in range(THEIR_BACKUPS):  # an Unavailable location is not synced: these stay
            backup = velero_objects.backup(f"theirs-{i}", storage_location="theirs")
            backup["metadata"]["labels"] = {"velero.io/storage-location": "theirs"}
            backup["status"] = {"phase": "Completed"}
            store.create(GVR["Backup"], "velero", backup)

    def unmanaged(self) -> dict[str, dict]:
        """Someone else's objects: what snapplan could change (uid, labels, annotations, spec, data)."""
        out = {}
        for kind, name in UNMANAGED:
            obj = self.cluster.store.get(GVR[kind], "velero", name)
            meta, spec = obj["metadata"], copy.deepcopy(obj.get("spec"))
            if kind == "Schedule":
                spec.pop("skipImmediately", None)  # Velero writes its server default there, not snapplan
            out[f"{kind}/{name}"] = {"uid": meta["uid"], "labels": meta.get("labels"),
                                     "annotations": meta.get("annotations"), "spec": spec, "data": obj.get("data")}
        out["Backups"] = sorted(b["metadata"]["name"] for b in objects(self.cluster.store, "Backup")
                                if b["metadata"]["name"].startswith("theirs-"))
        return out

    def start_v2(self) -> subprocess.Popen:
        env = {**os.environ, "NO_COLOR": "1"}
        return subprocess.Popen([sys.executable, "-m", "engine", *apply_args(self.v2, self.kubeconfig),
                                 "--lock-duration", "1"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


def count_writes(cluster) -> list:
    """Writes committed by anyone but Velero (the simulator's thread)."""
    seen: list = []
    cluster.store.subscribe(lambda event, gvr, obj: seen.append((event, gvr[2], obj["metadata"]["name"]))
                            if threading.current_thread().name != SIM_THREAD else None)
    return seen


def kill_after_commit(cluster, proc, target: tuple[str, str, str]) -> None:
    """SIGKILL from inside the server, right after apply's write `target` (event, resource, name) committed and
    before its answer is sent."""
    def on_commit(event, gvr, obj):
        if threading.current_thread().name != SIM_THREAD and (event, gvr[2], obj["metadata"]["name"]) == target:
            os.kill(proc.pid, signal.SIGKILL)
    cluster.store.subscribe(on_commit)


def kill_at_request(cluster, proc, k: int) -> None:
    def watch():
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if cluster.requests.count() >= k:
                os.kill(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.0005)
    threading.Thread(target=watch, daemon=True).start()


def desired_v2(trial):
    from engine.planner import prepare

    return prepare(trial.v2, {}).desired


def test_apply_killed_during_updates_deletes_and_replacements_then_the_next_apply_converges(
        tmp_path, s3, capsys, monkeypatch, figures):
    s3.create_bucket("crash")
    started = time.monotonic()
    # Calibrate: the requests and writes of one uninterrupted v2 apply.
    trial = Trial(0, tmp_path, s3, capsys, monkeypatch)
    try:
        writes = count_writes(trial.cluster)
        requests_before = trial.cluster.requests.count()
        proc = trial.start_v2()
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        assert "Apply complete! 2 added, 2 changed, 4 destroyed." in out, out
        requests = trial.cluster.requests.count() - requests_before
        kinds = Counter(e for e, resource, _ in writes if resource != "leases")
        writes = list(dict.fromkeys(writes))
    finally:
        trial.cluster.stop()
    rng = random.Random(20261204)
    # First the dangerous writes (the replacement's delete, an update, a prune's delete), then every other
    # trial after another of apply's writes in turn, the rest at a random request.
    first = [("DELETED", "backupstoragelocations", "moved"), ("MODIFIED", "schedules", "daily"),
             ("DELETED", "schedules", "weekly")]
    assert set(first) <= set(writes), writes
    targets = first + [w for w in writes if w not in first and w[1] != "leases"]
    tally: Counter = Counter()
    landed: Counter = Counter()
    for n in range(1, TRIALS + 1):
        trial = Trial(n, tmp_path, s3, capsys, monkeypatch)
        try:
            desired = desired_v2(trial)
            base = trial.cluster.requests.count()
            proc = trial.start_v2()
            if n <= len(first) or n % 2 == 1:
                target = targets[(n - 1 if n <= len(first) else len(first) + n // 2) % len(targets)]
                kill_after_commit(trial.cluster, proc, target)
                landed["after " + " ".join(target).lower()] += 1
            else:
                k = base + rng.randint(1, requests)
                kill_at_request(trial.cluster, proc, k)
                landed[f"at request {k - base}/{requests}"] += 1
            out, _ = proc.communicate(timeout=120)
            tally["killed" if proc.returncode == -signal.SIGKILL else f"finished first (exit {proc.returncode})"] += 1
            assert half_made(trial.cluster.store, desired) == [], (n, out)
            leases = objects(trial.cluster.store, "Lease")
            if leases:
                expires = Holder.of(leases[0]).expires
                time.sleep(max(0.0, (expires - datetime.now(timezone.utc)).total_seconds()) + 0.05)
            res = run_cli([*apply_args(trial.v2, trial.kubeconfig), "--lock-timeout", "10s"], capsys, monkeypatch)
            assert res.code == 0, (n, out, res.out + res.err)
            check = run_cli(["plan", "--detailed-exitcode", "--prune", "-f", str(trial.v2), "--kubeconfig",
                             str(trial.kubeconfig)], capsys, monkeypatch)
            assert check.code == 0 and "No changes." in check.out, (n, check.out)
            # What should exist does, whole and once; what v2 dropped is gone; someone else's is untouched.
            store = trial.cluster.store
            for addr in desired.objects:
                names = [o["metadata"]["name"] for o in objects(store, addr.kind)]
                assert names.count(addr.name) == 1, (n, str(addr), names)
            assert half_made(store, desired) == []
            for kind, gone in (("BackupStorageLocation", "old"), ("Schedule", "weekly"),
                               ("Secret", "snapplan-old-credentials")):
                assert gone not in [o["metadata"]["name"] for o in objects(store, kind)], (n, kind, gone)
            moved = store.get(GVR["BackupStorageLocation"], "velero", "moved")
            assert moved["spec"]["provider"] == "aws" and (moved.get("status") or {}).get("phase") == "Available"
            assert trial.unmanaged() == trial.theirs, n
        finally:
            trial.cluster.stop()
    elapsed = time.monotonic() - started
    assert tally["killed"] > TRIALS // 2
    figures(f"crash (changes): {TRIALS} SIGKILL trials of apply --prune v2 on a cluster holding v1 and someone "
            f"else's objects, Velero simulator running, waits on, in {elapsed:.1f}s "
            f"({'SNAPPLAN_DEEP=1' if DEEP else 'CI size; SNAPPLAN_DEEP=1 runs 40'}); a full v2 apply is "
            f"{requests} requests, {sum(kinds.values())} writes ({', '.join(f'{v} {k.lower()}' for k, v in sorted(kinds.items()))}; "
            "the lock's Lease aside)")
    figures("crash (changes): " + ", ".join(f"{v} {k}" for k, v in sorted(tally.items()))
            + "; kills landed " + ", ".join(f"{k} x{v}" for k, v in sorted(landed.items())))
    figures(f"crash (changes): none half-made; the next apply converged {TRIALS}/{TRIALS}; every v2 object present "
            f"once, the dropped ones gone, {len(UNMANAGED)} unmanaged objects and {THEIR_BACKUPS} of their Backups "
            "unchanged each time")

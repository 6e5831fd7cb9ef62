"""Ctrl-C while creates are in flight and apply would wait for Velero (tests/apply covers --no-wait):
the requests in flight finish, the waits stop at once, the lock is released, and the summary's
"not done" entries really were not done."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import HARNESS_ENV, ctrl_c_as_a_terminal_sends
from tests.reliability.support import HARNESS, half_made, harness_desired, objects, seed_harness

LATENCY = 1.5  # each location create takes this long at the server


def test_ctrl_c_during_in_flight_creates_and_waits(tmp_path, figures):
    desired = harness_desired()
    with Cluster() as cluster:
        seed_harness(cluster)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        cluster.faults.add(verb="create", resource="backupstoragelocations", latency=LATENCY)
        env = {**os.environ, **HARNESS_ENV, "NO_COLOR": "1"}
        # No --no-wait: with no Velero behind the cluster, each location's wait would last the 10m timeout.
        proc = subprocess.Popen([sys.executable, "-m", "engine", "apply", "--auto-approve", "--skip-storage-check",
                                 "-f", HARNESS, "--kubeconfig", str(kubeconfig)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_a_terminal_sends)
        deadline = time.monotonic() + 60
        while cluster.requests.count(verb="create", resource="backupstoragelocations") < 3:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.005)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent

        assert proc.returncode == 130, out + err
        assert took < LATENCY + 5  # the in-flight creates ran out; no wait held on
        assert "Traceback" not in out + err
        assert "Apply interrupted:" in out and "Run apply again to finish" in out
        assert objects(cluster.store, "Lease") == []  # the lock was released
        # The three creates in flight at Ctrl-C finished: the locations exist, whole.
        assert sorted(o["metadata"]["name"] for o in objects(cluster.store, "BackupStorageLocation")) == \
            ["local", "minio", "primary"]
        assert half_made(cluster.store, desired) == []
        # written, then no longer watched: done (counted as added), and the progress lines say so
        assert err.count("Creation complete (created; stopped waiting for Velero to validate the location "
                         "(interrupted)") == 3, err
        assert "Apply interrupted: 5 added, 0 changed, 0 destroyed; 0 failed, 3 not done." in out, out
        # What the summary calls not done was not done.
        not_done = [line.split(": ", 1)[1].split(":")[0] for line in out.splitlines() if line.startswith("  skipped: ")]
        assert sorted(not_done) == ["restore.harness-rollback", "schedule.harness-hourly", "schedule.nightly-full"]
        for address in not_done:
            kind = {"restore": "Restore", "schedule": "Schedule"}[address.split(".")[0]]
            assert address.split(".", 1)[1] not in [o["metadata"]["name"] for o in objects(cluster.store, kind)]
        summary = next(line for line in out.splitlines() if line.startswith("Apply interrupted:"))
    figures(f"ctrl-c: exit 130 {took:.1f}s after SIGINT with 3 creates in flight ({LATENCY}s each) and waits pending; "
            f"lock released; summary: {summary!r}")

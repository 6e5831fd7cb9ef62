"""`snapplan audit` over HTTPS against the test cluster after the Velero simulator ran the policy for a day."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.cluster.velero_sim import objects, run_until
from tests.cluster.velero_sim.kube import BACKUP, BSL, NAMESPACE, SCHEDULE, SECRET
from tests.helpers import applied_state, run_cli, write

POLICY = """\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: live-audit}}
apps:
  shop: {{namespaces: [shop]}}
storage:
  main:
    type: s3-compatible
    default: true
    bucket: velero
    endpoint: {endpoint}
    region: us-east-1
    credentials: {{secretRef: {{name: cloud-credentials, key: cloud}}}}
schedules:
  shop-hourly: {{scope: application, app: shop, schedule: hourly, retention: 12h}}
  nightly: {{scope: full, schedule: daily, timezone: Europe/Berlin, exclude: [scratch], retention: 7d}}
"""
GVR = {"Secret": SECRET, "BackupStorageLocation": BSL, "Schedule": SCHEDULE}


def test_audit_after_a_simulated_day(cluster, velero_sim, s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    store = cluster.store
    store.create(SECRET, "velero", objects.credentials_secret("cloud-credentials",
                                                              s3.create_credentials().shared_credentials_file()))
    for ns in ("shop", "scratch"):
        store.create(NAMESPACE, None, objects.namespace(ns))
    policy = write(tmp_path / "policy.yaml", POLICY.format(endpoint=s3.url))
    for obj in applied_state(policy)["items"]:  # what apply writes, at 2026-11-24T00:00Z
        for key in ("resourceVersion", "uid"):
            obj["metadata"].pop(key)
        store.create(GVR[obj["kind"]], "velero", obj)

    run_until(velero_sim, cluster.clock, timedelta(days=1, minutes=5))

    now = cluster.clock.now()
    assert now.isoformat() == "2026-11-25T00:05:00+00:00"
    kept = [b for b in store.list(BACKUP, "velero")[0] if b["metadata"]["name"].startswith("shop-hourly-")]
    assert len(kept) == 12  # 24 hourly runs, retention 12h: the simulator deleted the older half
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    cluster.requests.reset()
    res = run_cli(["audit", "--json", "-f", str(policy), "--kubeconfig", str(kubeconfig), "--now", now.isoformat(),
                   "--fail-on", "drift,stale,unavailable"], capsys, monkeypatch)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["drift"]["has_changes"] is False and doc["drift"]["unmanaged"] == []
    assert cluster.requests.count(verb="list", resource="backups") == 1  # one LIST per kind, not per schedule
    by_name = {s["name"]: s for s in doc["schedules"]}
    shop, nightly = by_name["shop-hourly"], by_name["nightly"]
    assert (shop["status"], shop["rpo"]["seconds"], shop["restore_points"]) == ("fresh", 3600, {"low": 12, "high": 12})
    assert shop["last_completed"]["name"] == "shop-hourly-20261125000000"
    assert shop["last_completed"]["age"]["seconds"] == 300
    assert len(shop["expiring_within_24h"]) == 12
    assert shop["next_runs"][0] == "2026-11-25T01:00:00Z"
    # Midnight in Berlin is 23:00 UTC in November; a daily Berlin run has a 25h gap when clocks go back.
    assert nightly["last_completed"]["name"] == "nightly-20261124230000" and nightly["status"] == "fresh"
    assert (nightly["rpo"]["text"], nightly["restore_points"]) == ("25h", {"low": 6, "high": 8})
    main = doc["storage"][0]
    assert (main["name"], main["phase"], main["unavailable"]) == ("main", "Available", False)
    assert main["last_validation"] is not None and main["used_by"] == ["nightly", "shop-hourly"]
    assert doc["coverage"]["unprotected"] == ["scratch"]

    res = run_cli(["audit", "-f", str(policy), "--kubeconfig", str(kubeconfig), "--now", now.isoformat(),
                   "--fail-on", "uncovered"], capsys, monkeypatch)
    assert res.code == 3 and "Audit failed: uncovered (--fail-on); exit 3" in res.err
    assert "  uncovered: namespace scratch: no running schedule backs it up" in res.out

"""The audit as Kubernetes Events on the Schedules it judged (what `kubectl describe schedule` and event
exporters show): one Event per Schedule in the cluster, Normal when fresh or pending, Warning otherwise.
Built as plain objects (schedule_events), then created through the cluster's API (record_events)."""
from __future__ import annotations

from datetime import datetime

from engine.times import rfc3339

COMPONENT = "snapplan-audit"
REASONS = {"fresh": "BackupFresh", "stale": "BackupStale", "never-ran": "BackupNeverRan",
           "pending": "BackupPending", "paused": "SchedulePaused", "invalid": "ScheduleInvalid"}
WARNING = ("stale", "never-ran", "invalid")


def schedule_events(doc: dict, schedules: dict[str, dict], now: datetime, host: str = "") -> list[dict]:
    """`doc` is the audit's JSON form; `schedules` the live Schedule objects by name (for their uid).
    Schedules only in the policy have no object to attach an Event to and get none."""
    drifted = {c["address"].split(".", 1)[1] for c in doc["drift"]["changes"] if c["address"].startswith("schedule.")}
    stamp = rfc3339(now)
    out = []
    for s in doc["schedules"]:
        obj = schedules.get(s["name"])
        if obj is None or not s["in_cluster"]:
            continue
        meta = obj.get("metadata") or {}
        status = s["status"]
        parts = [f"{status}"]
        if s.get("rpo"):
            parts.append(f"RPO {s['rpo']['text']}")
        last = s.get("last_completed")
        parts.append(f"last Completed backup {last['name']} {last['age']['text']} ago" if last and last.get("age")
                     else "no Completed backup yet")
        if s.get("restore_points"):
            rp = s["restore_points"]
            parts.append(f"restore points {rp['low']}-{rp['high']} at steady state")
        if s["name"] in drifted:
            parts.append("differs from the policy (drift): run snapplan plan")
        reason = REASONS.get(status, "BackupAudit")
        out.append({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{s['name']}.snapplan-{int(now.timestamp() * 1000):x}",
                         "namespace": doc["namespace"], "labels": {"app.kubernetes.io/name": "snapplan"}},
            "involvedObject": {"apiVersion": "velero.io/v1", "kind": "Schedule", "name": s["name"],
                               "namespace": doc["namespace"], "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason,
            "message": "; ".join(parts),
            "type": "Warning" if status in WARNING or s["name"] in drifted else "Normal",
            "source": {"component": COMPONENT, **({"host": host} if host else {})},
            "reportingComponent": COMPONENT,
            "reportingInstance": host or COMPONENT,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        })
    return out


def record_events(kube, doc: dict, live, now: datetime) -> list[str]:
    """Create the Events of `doc` in the cluster `kube` (an engine.state.kube.KubeTarget) points at; returns one
    problem per Event the server refused (e.g. 403 without create on events) — the audit itself stands."""
    import socket

    from engine.errors import ClusterUnreachable
    from engine.state.kube import api_client, request

    schedules = {(o.get("metadata") or {}).get("name"): o for o in live.of_kind("Schedule", doc["namespace"])}
    items = schedule_events(doc, schedules, now, host=socket.gethostname())
    problems = []
    try:
        with api_client(kube) as api:
            for event in items:
                resp = request(api, "POST", f"/api/v1/namespaces/{doc['namespace']}/events", body=event)
                if resp.status >= 300:
                    try:
                        why = resp.json().get("message") or resp.body.decode(errors="replace")
                    except ValueError:
                        why = resp.body.decode(errors="replace")
                    problems.append(f"could not record the Event on schedule.{event['involvedObject']['name']}: "
                                    f"{resp.status} {why[:300]}")
    except ClusterUnreachable as exc:
        problems.append(f"could not record Events: {exc}")
    return problems

"""Drill results kept in the cluster, one ConfigMap per app (or per schedule for a drill of no app) in
Velero's namespace, so `snapplan audit` can tell when each app was last proven restorable."""
from __future__ import annotations

import json
from urllib.parse import quote

from engine.drill.choose import MAX_NAME
from engine.state.kube import api_error, get_json, request

RECORD_LABEL = "snapplan.io/drill-record"
PREFIX = "snapplan-drill-"


def name_for(app: str | None, schedule: str | None, backup: str) -> str:
    return (PREFIX + (f"app-{app}" if app else f"schedule-{schedule}" if schedule else f"backup-{backup}"))[:MAX_NAME]


def _path(ns: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{quote(ns, safe='')}/configmaps"
    return f"{base}/{quote(name, safe='')}" if name else base


def _summary(result) -> dict:
    d = result.drill
    return {"id": d.drill_id, "passed": result.passed, "finished": result.finished, "backup": d.backup,
            "schedule": d.schedule, "restore": d.restore_name, "phase": result.phase,
            "failed": [c.message for c in result.checks if not c.ok]}


def save(api, ns: str, result, policy: str) -> None:
    """Write the last run, and the last success when this one passed (an earlier success is kept otherwise)."""
    d = result.drill
    name = name_for(d.app, d.schedule, d.backup)
    run = json.dumps(_summary(result), sort_keys=True)
    resp = request(api, "GET", _path(ns, name))
    if resp.status == 404:
        data = {"last-run": run}
        if result.passed:
            data["last-success"] = run
        labels = {RECORD_LABEL: "true", "snapplan.io/policy-name": policy[:63]}
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
                "data": {**data, "app": d.app or "", "schedule": d.schedule or ""}}
        created = request(api, "POST", _path(ns), body=body)
        if created.status >= 400:
            raise api_error(created, "create", _path(ns))
        return
    if resp.status >= 400:
        raise api_error(resp, "get", _path(ns, name))
    current = resp.json()
    data = dict(current.get("data") or {})
    data["last-run"] = run
    if result.passed:
        data["last-success"] = run
    put = request(api, "PUT", _path(ns, name), body={**current, "data": data})
    if put.status >= 400:
        raise api_error(put, "update", _path(ns, name))


def load(api, ns: str) -> list[dict]:
    """Every drill record: {app, schedule, last_run, last_success} with the runs parsed."""
    items = get_json(api, _path(ns), [("labelSelector", f"{RECORD_LABEL}=true")]).get("items") or []
    return [parse(cm) for cm in items]


def parse(cm: dict) -> dict:
    data = cm.get("data") or {}

    def run(key: str) -> dict | None:
        try:
            value = json.loads(data[key]) if key in data else None
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    return {"name": cm["metadata"]["name"], "app": data.get("app") or None, "schedule": data.get("schedule") or None,
            "last_run": run("last-run"), "last_success": run("last-success")}

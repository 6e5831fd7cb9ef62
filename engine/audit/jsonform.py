"""The audit's canonical JSON form (schemas/audit.schema.json). The text renderer reads this, not the dataclasses."""
from __future__ import annotations

from engine import __version__
from engine.audit.report import Audit
from engine.audit.schedules import BackupRef, ScheduleAudit
from engine.audit.times import duration
from engine.times import rfc3339

FORMAT_VERSION = "1.0"


def _time(t):
    return rfc3339(t) if t else None


def _backup(r: BackupRef | None) -> dict | None:
    if r is None:
        return None
    return {"name": r.name, "phase": r.phase, "started": _time(r.started), "expiration": _time(r.expiration)}


def _span(seconds: int | None) -> dict | None:
    return None if seconds is None else {"seconds": seconds, "text": duration(seconds)}


def schedule_to_json(s: ScheduleAudit) -> dict:
    rp = s.restore_points
    return {
        "name": s.name, "address": f"schedule.{s.name}", "in_policy": s.in_policy, "in_cluster": s.in_cluster,
        "managed": s.managed, "source": s.source, "schedule": s.schedule, "timezone": s.timezone,
        "paused": s.paused, "phase": s.phase, "storage": s.storage, "status": s.status,
        "retention": _span(s.retention),
        "rpo": None if s.rpo is None else {**_span(s.rpo.seconds), "after": _time(s.rpo.after),
                                           "before": _time(s.rpo.before)},
        "typical_interval": _span(rp.interval) if rp else None,
        "restore_points": None if rp is None else {"low": rp.low, "high": rp.high},
        "grace": _span(s.grace),
        "next_runs": [_time(t) for t in s.next_runs],
        "last_completed": None if s.last_completed is None else {**_backup(s.last_completed),
                                                                 "age": _span(s.age)},
        "last_backup": _backup(s.last_backup),
        "expiring_within_24h": [_backup(r) for r in s.expiring],
        "notes": list(s.notes),
    }


def audit_to_json(a: Audit) -> dict:
    d, c = a.drift, a.coverage
    return {
        "format_version": FORMAT_VERSION,
        "snapplan_version": __version__,
        "policy": a.policy,
        "namespace": a.namespace,
        "state": a.state,
        "generated_at": rfc3339(a.generated_at),
        "drift": {
            "has_changes": d.has_changes,
            "summary": d.summary,
            "changes": [{"address": addr, "action": act} for addr, act in d.changes],
            "problems": list(d.problems),
            "unmanaged": list(d.unmanaged),
            "kept": [{"address": addr, "reason": why} for addr, why in d.kept],
        },
        "schedules": [schedule_to_json(s) for s in a.schedules],
        "coverage": {
            "known": c.known,
            "ignored": list(c.ignored),
            "namespaces": [{"name": n.name, "protected_by": list(n.protected_by), "system": n.system}
                           for n in c.namespaces],
            "unprotected": list(c.unprotected),
            "apps": [{"name": p.name, "namespaces": list(p.namespaces), "missing": list(p.missing)}
                     for p in c.apps],
        },
        "storage": [
            {"name": loc.name, "address": f"bsl.{loc.name}", "in_policy": loc.in_policy,
             "in_cluster": loc.in_cluster, "managed": loc.managed, "default": loc.default,
             "provider": loc.provider, "phase": loc.phase, "last_validation": _time(loc.last_validation),
             "message": loc.message, "used_by": list(loc.used_by), "unavailable": loc.unavailable}
            for loc in a.storage
        ],
        "drills": _drills(a),
        "conditions": [{"name": k.name, "holds": k.holds, "selected": k.name in a.fail_on,
                        "details": list(k.details)} for k in a.conditions],
        "fail_on": list(a.fail_on),
        "failed": list(a.failed),
    }


def _drills(a: Audit) -> dict:
    d = a.drills
    if d is None:
        return {"known": False, "note": "not audited", "every": None, "apps": [], "schedules": []}
    now = a.generated_at
    return {
        "known": d.known, "note": d.note or None, "every": _span(d.every),
        "apps": [{"app": x.app, "last_success": _time(x.last_success),
                  "age": _span(int((now - x.last_success).total_seconds())) if x.last_success else None,
                  "backup": x.backup, "schedule": x.schedule, "last_run": _time(x.last_run),
                  "last_run_passed": x.last_run_passed, "due": x.due} for x in d.apps],
        "schedules": [{"schedule": s, "last_success": _time(w), "age": _span(int((now - w).total_seconds())),
                       "app": app} for s, w, app in d.schedules],
    }

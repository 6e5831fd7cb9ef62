"""The plan's canonical JSON form (schemas/plan.schema.json). The text renderer reads this, not the dataclasses."""
from __future__ import annotations

from engine import __version__
from engine.diff import path_str
from engine.plan.model import Change, Plan

FORMAT_VERSION = "1.0"


def change_to_json(c: Change) -> dict:
    return {
        "address": str(c.address),
        "kind": c.address.kind,
        "name": c.address.name,
        "namespace": c.address.namespace,
        "action": c.action.json_name,
        "before": c.before,
        "after": c.after,
        "fields": [
            {"path": path_str(f.path), "op": f.op, "before": f.before, "after": f.after, "sensitive": f.sensitive}
            for f in c.fields
        ],
        "depends_on": [str(a) for a in c.depends_on],
        "reasons": list(c.reasons),
    }


def plan_to_json(plan: Plan) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "snapplan_version": __version__,
        "policy": plan.policy,
        "namespace": plan.namespace,
        "state": plan.state_source,
        "generated_at": plan.generated_at,
        "resource_changes": [change_to_json(c) for c in plan.changes],
        "summary": plan.summary,
        "has_changes": plan.has_changes,
        "warnings": list(plan.warnings),
        "unmanaged": [str(a) for a in plan.unmanaged],
        "kept": [{"address": str(a), "reason": why} for a, why in plan.kept],
        "velero": _preflight(plan.preflight),
        "retention_changes": [
            {"address": str(r.address), "before": r.before, "after": r.after,
             "existing_backups": r.existing_backups} for r in plan.retention_changes
        ],
    }


def _preflight(p) -> dict:
    if p is None:
        return {"checked": False, "version": None, "checks": []}
    return {"checked": p.checked, "version": p.version,
            "checks": [{"ok": f.ok, "message": f.message} for f in p.findings]}

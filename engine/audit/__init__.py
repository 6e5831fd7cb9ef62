"""audit: the backup posture of a cluster against a policy, for people and for CI — drift (the plan, not
applied), each schedule's RPO, restore points and freshness, namespace coverage, and storage health.

Plain data (frozen dataclasses) -> canonical JSON (schemas/audit.schema.json) -> text. Never prints.
May import engine.addr, engine.cron, engine.diff, engine.errors, engine.times and engine.planner (to make the plan);
never engine.apply or engine.cli; kubernetes only through engine.state, lazily.
"""
from engine.audit.jsonform import audit_to_json
from engine.audit.report import CONDITIONS, Audit, build_audit, parse_fail_on
from engine.audit.text import render_text

__all__ = ["CONDITIONS", "Audit", "audit_to_json", "build_audit", "parse_fail_on", "render_text"]

"""The storage report for people, rendered from its JSON form (reports_to_json)."""
from __future__ import annotations

MARK = {"ok": "ok", "info": "--", "warning": "warn", "failed": "FAIL", "skipped": "skip", "not-checked": "--"}
LABEL = {"write-probe": "write probe", "object-lock": "object lock"}
COLORS = {"ok": "32", "warning": "33", "failed": "31"}


def render_text(doc: dict, color: bool = False) -> str:
    lines: list[str] = []
    for s in doc["storage"]:
        lines.append(_header(s))
        for c in s["checks"]:
            if c["status"] == "not-checked":
                lines.append(f"  {c['message']}")
                continue
            mark = f"{MARK[c['status']]:<4}"
            if color and c["status"] in COLORS:
                mark = f"\x1b[{COLORS[c['status']]}m{mark}\x1b[0m"
            lines.append(f"  {mark}  {LABEL.get(c['name'], c['name']):<12} {c['message']}")
        lines.append("")
    lines.append(_summary(doc["storage"]))
    return "\n".join(lines) + "\n"


def _header(s: dict) -> str:
    if not s["checked"]:
        return f"storage.{s['name']} ({s['type']})"
    where = f"s3://{s['bucket']}/{_root(s['prefix'])}"
    region = f", region {s['region']}" if s.get("region") else ""
    return f"storage.{s['name']} ({s['type']}, {where}{region})"


def _root(prefix: str | None) -> str:
    if not prefix:
        return ""
    return prefix if prefix.endswith("/") else prefix + "/"


def _summary(storage: list[dict]) -> str:
    failed = sum(1 for s in storage if s["failed"])
    skipped = sum(1 for s in storage if not s["checked"])
    passed = len(storage) - failed - skipped
    parts = [f"{failed} failed", f"{passed} passed"] + ([f"{skipped} not checked"] if skipped else [])
    return "Storage check: " + ", ".join(parts) + "."

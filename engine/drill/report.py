"""Drill results as JSON (canonical), text rendered from it, and JUnit XML for CI test reports. Pure."""
from __future__ import annotations

from xml.etree import ElementTree as ET


def result_json(r) -> dict:
    d = r.drill
    return {
        "id": d.drill_id, "app": d.app, "backup": d.backup, "schedule": d.schedule, "restore": d.restore_name,
        "namespaces": [{"source": s, "scratch": t} for s, t in d.namespaces],
        "passed": r.passed, "phase": r.phase, "started": r.started, "finished": r.finished,
        "seconds": round(r.seconds, 1),
        "items": {"restored": r.items_restored, "selected": r.items_total, "in_backup": r.items_backed_up},
        "warnings": r.warnings, "errors": r.errors,
        "checks": [{"name": c.name, "ok": c.ok, "message": c.message} for c in r.checks],
        "cleanup": {"kept": r.kept, "deleted": list(r.deleted),
                    "left": [{"what": what, "why": why} for what, why in r.left]},
    }


def to_json(results) -> dict:
    drills = [result_json(r) for r in results]
    return {"passed": bool(drills) and all(d["passed"] for d in drills)
            and not any(d["cleanup"]["left"] for d in drills), "drills": drills}


def render_text(doc: dict) -> str:
    lines = []
    for d in doc["drills"]:
        what = f"app {d['app']}" if d["app"] else f"backup {d['backup']}"
        source = f"backup {d['backup']}" + (f" (schedule {d['schedule']})" if d["schedule"] else "")
        verdict = "PASSED" if d["passed"] else "FAILED"
        lines.append(f"Drill of {what} from {source}: {verdict} in {d['seconds']:.0f}s (restore {d['restore']})")
        lines += [f"  {'ok' if c['ok'] else 'FAIL'} {c['message']}" for c in d["checks"]]
        scratch = ", ".join(n["scratch"] for n in d["namespaces"])
        cleanup = d["cleanup"]
        if cleanup["kept"]:
            lines.append(f"  kept (--keep): namespaces {scratch}")
        elif cleanup["deleted"]:
            lines.append(f"  cleaned up: deleted namespaces {', '.join(cleanup['deleted'])}")
        for left in cleanup["left"]:
            lines.append(f"  LEFT {left['what']}: {left['why']}")
        lines.append("")
    n, failed = len(doc["drills"]), sum(not d["passed"] for d in doc["drills"])
    left = sum(len(d["cleanup"]["left"]) for d in doc["drills"])
    summary = f"{n} drill(s): {n - failed} passed, {failed} failed."
    if left:
        summary += f" {left} thing(s) left behind: see LEFT above."
    return "\n".join(lines + [summary]) + "\n"


def junit(doc: dict) -> str:
    """One <testsuite>, one <testcase> per drill (classname drill.<app>), a <failure> naming the failed checks."""
    cases = doc["drills"]
    suite = ET.Element("testsuite", name="snapplan drill", tests=str(len(cases)),
                       failures=str(sum(not d["passed"] or bool(d["cleanup"]["left"]) for d in cases)), errors="0",
                       time=f"{sum(d['seconds'] for d in cases):.1f}")
    for d in cases:
        case = ET.SubElement(suite, "testcase", classname=f"drill.{d['app'] or d['schedule'] or 'backup'}",
                             name=f"restore {d['backup']}", time=f"{d['seconds']:.1f}")
        failed = [c for c in d["checks"] if not c["ok"]] + [
            {"name": "cleanup", "message": f"left {x['what']}: {x['why']}"} for x in d["cleanup"]["left"]]
        if failed:
            failure = ET.SubElement(case, "failure", message="; ".join(c["message"] for c in failed))
            failure.text = "\n".join(f"{c['name']}: {c['message']}" for c in failed)
        out = ET.SubElement(case, "system-out")
        out.text = render_text({"drills": [d]})
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True) + "\n"

"""Render the JSON plan as Terraform-style text. Pure: returns a string; colors only when asked."""
from __future__ import annotations

import json

from engine.textsafe import escape_controls

COLORS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "!": "33", "bold": "1", "dim": "2"}
VERBS = {"create": "will be created", "update": "will be updated in place", "delete": "will be destroyed",
         "replace": "must be replaced"}
GLYPHS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}


MAX_VALUE = 72  # longer strings (a CA bundle) are elided in text; --json has them whole


def _printable(text: str) -> str:
    """JSON text with every character a terminal would act on (C1 controls, DEL, bidi overrides) escaped."""
    return escape_controls(text)


def _value(v) -> str:
    if isinstance(v, str) and v.startswith("(sensitive"):
        return v
    if isinstance(v, str) and len(v) > MAX_VALUE:
        return _printable(json.dumps(v[:40] + "…", ensure_ascii=False)) + f" ({len(v)} characters)"
    return _printable(json.dumps(v, ensure_ascii=False))


def _sensitive(action: str, before) -> str:
    if action == "create" or before is None:
        return "(sensitive)"
    if str(before).startswith("(sensitive, not"):
        return "(sensitive, not in state: written by apply)"
    return "(sensitive, changed)"


def render_text(plan: dict, *, color: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"\x1b[{COLORS[code]}m{text}\x1b[0m" if color else text

    lines: list[str] = [f"Policy {plan['policy']} against {plan['state']} (namespace {plan['namespace']})", ""]
    velero = plan.get("velero") or {}
    if velero.get("checks"):
        version = f" {velero['version']}" if velero.get("version") else ""
        lines.append(f"Velero{version}:" if velero.get("checked") else "Velero:")
        lines += [f"  ok {x['message']}" if x["ok"] else c("!", f"  !  {x['message']}") for x in velero["checks"]]
        lines.append("")
    acting = [r for r in plan["resource_changes"] if r["action"] != "no-op"]
    if acting:
        lines += ["snapplan will perform the following actions:", ""]
    for r in acting:
        glyph = GLYPHS[r["action"]]
        lines.append(c("bold", f"  # {r['address']} {VERBS[r['action']]}"))
        lines.append(c(glyph, f"  {glyph} {r['kind']} {r['namespace']}/{r['name']}"))
        if r["action"] == "delete":
            lines.append("")
            continue
        width = max((len(f["path"]) for f in r["fields"]), default=0)
        for f in r["fields"]:
            op = f["op"] if r["action"] != "create" else "+"
            if f["sensitive"]:
                text = _sensitive(r["action"], f["before"])
            elif op == "+":
                text = _value(f["after"])
            elif op == "-":
                text = f"{_value(f['before'])} -> null"
            else:
                text = f"{_value(f['before'])} -> {_value(f['after'])}"
            lines.append(c(op, f"      {op} {f['path'].ljust(width)} = ") + text)
        if r["action"] == "update" and r["kind"] == "Secret":
            shown = {f["path"] for f in r["fields"]}
            for key in (r["after"] or {}).get("data", {}):
                if f"data.{key}" not in shown:
                    lines.append(f"        data.{key} = (sensitive, unchanged)")
        for reason in r["reasons"]:
            lines.append(c("dim", f"      # {reason}"))
        if r["depends_on"]:
            lines.append(c("dim", f"      # after: {', '.join(r['depends_on'])}"))
        lines.append("")
    done = [r for r in plan["resource_changes"] if r["action"] == "no-op" and r["reasons"]]
    if done:
        lines.append("Unchanged, for information:")
        lines += [f"  {r['address']}: {'; '.join(r['reasons'])}" for r in done]
        lines.append("")
    if plan["kept"]:
        lines.append("Managed objects not in the policy (kept):")
        lines += [f"  {k['address']}: {k['reason']}" for k in plan["kept"]]
        lines.append("")
    if plan["unmanaged"]:
        lines.append("Not managed by snapplan (shown, never changed):")
        lines += [f"  {a}" for a in plan["unmanaged"]]
        lines.append("")
    if plan["warnings"]:
        lines.append(c("!", "Warnings:"))
        lines += [c("!", f"  ! {w}") for w in plan["warnings"]]
        lines.append("")
    s = plan["summary"]
    if plan["has_changes"]:
        lines.append(c("bold", f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."))
    else:
        lines.append(c("bold", "No changes.") + " The cluster matches the policy.")
    return "\n".join(lines) + "\n"

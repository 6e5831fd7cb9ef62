"""Render the JSON plan as a pull-request comment (GitHub/GitLab markdown). Pure: returns a string.

Reviewers read the first screen: a one-line summary, then what they must not miss (the risk section), then
every object's diff folded in a <details> block. Built from the JSON form, like the text renderer, so the
comment cannot disagree with `--json`. Sensitive values never appear (the JSON form holds none).
"""
from __future__ import annotations

import html
import re

from engine.plan.risks import Risk, risks
from engine.plan.text import GLYPHS, VERBS, _sensitive, _value

GITHUB_LIMIT = 65536  # GitHub refuses a comment body longer than this many characters
MARKER = "<!-- snapplan-plan policy={policy} -->"  # CI finds the comment to update by it
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
_DIFF_MARK = {"+": "+", "-": "-", "~": "!"}  # column 0 of a ```diff block: GitHub colors + - and !, not ~


def text(s: str) -> str:
    """User-controlled text (names, messages) made inert: no HTML, no markdown emphasis, links or tables."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(s), quote=False))


def code(s: str) -> str:
    """Inline code; HTML-escaped because it may sit inside <summary>, where markdown is not parsed."""
    return f"<code>{html.escape(str(s), quote=False)}</code>"


def render_markdown(plan: dict, *, limit: int = GITHUB_LIMIT, source: str | None = None) -> str:
    """The comment, at most `limit` characters; `source` names where the full plan is (a saved-plan path)."""
    head = _head(plan) + _risk_section(risks(plan)) + _warnings(plan)
    blocks = [_details(r) for r in plan["resource_changes"] if r["action"] != "no-op"]
    if blocks:
        head += [f"#### Changes ({len(blocks)}), in the order apply makes them", "",
                 "In each diff: `+` added, `-` removed, `!` changed (`before -> after`).", ""]
    tail = _others(plan)
    return _fit(head, blocks, tail, limit, source)


def _head(plan: dict) -> list[str]:
    s = plan["summary"]
    if plan["has_changes"]:
        line = f"{s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."
    else:
        line = "No changes. The cluster matches the policy."
    return [MARKER.format(policy=html.escape(plan["policy"]).replace("--", "- -")),
            f"### snapplan plan {code(plan['policy'])}: {line}", "",
            f"Against {text(plan['state'])} (namespace {code(plan['namespace'])}), "
            f"planned at {text(plan['generated_at'])}.", ""]


def _risk_section(found: list[Risk]) -> list[str]:
    if not found:
        return ["**Risks:** none: nothing is deleted, replaced, shortened, paused, restored or unhealthy.", ""]
    lines = [f"#### Review before merging ({len(found)})", ""]
    lines += [f"- **{r.title}**: {r.html}" for r in found]
    return lines + [""]


def _warnings(plan: dict) -> list[str]:
    if not plan["warnings"]:
        return []
    return ["<details><summary>Warnings (" + str(len(plan["warnings"])) + ")</summary>", "",
            *[f"- {text(w)}" for w in plan["warnings"]], "", "</details>", ""]


def _fence(body: list[str], lang: str = "") -> list[str]:
    longest = max((len(m) for line in body for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, *body, fence]


def _field_lines(r: dict) -> list[str]:
    """The object's diff as the text plan shows it, each line marked in column 0 for GitHub's diff colors."""
    out = []
    width = max((len(f["path"]) for f in r["fields"]), default=0)
    for f in r["fields"]:
        op = f["op"] if r["action"] != "create" else "+"
        if f["sensitive"]:
            value = _sensitive(r["action"], f["before"])
        elif op == "+":
            value = _value(f["after"])
        elif op == "-":
            value = f"{_value(f['before'])} -> null"
        else:
            value = f"{_value(f['before'])} -> {_value(f['after'])}"
        out.append(f"{_DIFF_MARK[op]} {f['path'].ljust(width)} = {value}")
    if r["action"] == "update" and r["kind"] == "Secret":
        shown = {f["path"] for f in r["fields"]}
        out += [f"    data.{key} = (sensitive, unchanged)" for key in (r["after"] or {}).get("data", {})
                if f"data.{key}" not in shown]
    out += [f"  # {reason}" for reason in r["reasons"]]
    if r["depends_on"]:
        out.append(f"  # after: {', '.join(r['depends_on'])}")
    return out


def _details(r: dict) -> list[str]:
    glyph = GLYPHS[r["action"]]
    summary = (f"{code(glyph)} <b>{html.escape(r['address'])}</b> {VERBS[r['action']]} "
               f"({html.escape(r['kind'])} {html.escape(r['namespace'] or '')}/{html.escape(r['name'])})")
    body = _field_lines(r) if r["action"] != "delete" else [f"- {r['kind']} {r['namespace']}/{r['name']}"]
    return [f"<details><summary>{summary}</summary>", "", *_fence(body, "diff"), "", "</details>", ""]


def _others(plan: dict) -> list[str]:
    lines = []
    done = [r for r in plan["resource_changes"] if r["action"] == "no-op" and r["reasons"]]
    lines += [f"- {code(r['address'])}: {text('; '.join(r['reasons']))}" for r in done]
    lines += [f"- {code(k['address'])}: kept, {text(k['reason'])}" for k in plan["kept"]]
    lines += [f"- {code(a)}: not managed by snapplan (shown, never changed)" for a in plan["unmanaged"]]
    if not lines:
        return []
    return [f"<details><summary>Not changed ({len(lines)})</summary>", "", *lines, "", "</details>", ""]


def _fit(head: list[str], blocks: list[list[str]], tail: list[str], limit: int, source: str | None) -> str:
    """Everything when it fits; otherwise the head and as many objects as fit, and a note saying what is cut."""
    whole = "\n".join(head + [line for b in blocks for line in b] + tail)
    if len(whole) <= limit:
        return whole.rstrip("\n") + "\n"
    where = f"`snapplan show {source}`" if source else "`snapplan show PLANFILE` on the saved plan"
    out, used = [], 0

    def note(cut: int) -> str:
        return (f"\n**Plan cut short:** {cut} of {len(blocks)} changed objects are not shown, to stay within "
                f"GitHub's {GITHUB_LIMIT}-character comment limit. The full plan: {where}, or the CI job's log.\n")

    lines = list(head)
    reserve = len(note(len(blocks)))
    budget = limit - reserve - 200  # room for the line that says the summary was cut
    for i, line in enumerate(lines):  # a head alone beyond the limit (thousands of risks) is cut by line
        if used + len(line) + 1 > budget:
            lines = lines[:i] + [f"… {len(head) - i} more lines of the summary are cut."]
            used += len(lines[-1]) + 1
            break
        used += len(line) + 1
    out += lines
    shown = 0
    for b in blocks:
        size = sum(len(line) + 1 for line in b)
        if used + size > budget:
            break
        out += b
        used += size
        shown += 1
    text_out = "\n".join(out).rstrip("\n") + "\n" + note(len(blocks) - shown)
    return text_out[:limit]

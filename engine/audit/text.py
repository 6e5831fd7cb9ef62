"""Render the JSON audit as plain text: sections with aligned tables. Pure; ANSI colors only when asked."""
from __future__ import annotations

import textwrap
from datetime import timezone
from zoneinfo import ZoneInfo

from engine.audit.times import duration
from engine.times import parse_time

WIDTH = 80
GLYPHS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
STATUS_COLOR = {"fresh": "32", "pending": "36", "paused": "33", "not-in-cluster": "33", "stale": "31",
                "never-ran": "31", "invalid": "31", "Available": "32", "Unavailable": "31", "FAIL": "31",
                "ok": "32", "found": "33"}


class _Out:
    def __init__(self, color: bool):
        self.color, self.lines = color, []

    def paint(self, word: str, text: str | None = None) -> str:
        text = word if text is None else text
        code = STATUS_COLOR.get(word)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def wrap(self, head: str, items: list[str], indent: int) -> None:
        """`head` then the items joined by commas, lines broken between items (within one only when it
        cannot fit a line of its own), continued `indent` columns in."""
        line, pad = head, " " * indent
        for i, item in enumerate(items):
            piece = item + ("," if i < len(items) - 1 else "")
            if line.strip() and len(line) + len(piece) + (0 if line == head else 1) > WIDTH and line != head:
                self.add(line)
                line = pad
            if len(line) + len(piece) > WIDTH:
                parts = textwrap.wrap(line + piece, WIDTH, subsequent_indent=pad, break_long_words=False,
                                      break_on_hyphens=False)
                self.lines += parts[:-1]
                line = parts[-1]
            else:
                line += piece if line in (head, pad) else " " + piece
        self.add(line)

    def table(self, headers: list[str], rows: list[list[str]], colored: int | None = None) -> None:
        """Columns padded to their widest cell; column `colored` painted by its value."""
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        for n, row in enumerate([headers, *rows]):
            cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
            if n and colored is not None:
                cells[colored] = self.paint(row[colored], cells[colored])
            self.add(("  " + "  ".join(cells)).rstrip())


def _when(iso: str | None, tz: str | None = None) -> str:
    moment = parse_time(iso)
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(tz) if tz else timezone.utc).strftime("%Y-%m-%d %H:%M %Z")


def _relative(iso: str | None, now: str) -> str:
    moment, ref = parse_time(iso), parse_time(now)
    if moment is None:
        return "-"
    seconds = int((moment - ref).total_seconds())
    return f"in {duration(seconds)}" if seconds > 0 else f"{duration(-seconds)} ago"


def render_text(doc: dict, *, color: bool = False) -> str:
    out = _Out(color)
    out.add(f"Audit of policy {doc['policy']} against {doc['state']} (namespace {doc['namespace']})")
    out.add(f"at {_when(doc['generated_at'])}")
    out.add()
    _drift(out, doc["drift"])
    _schedules(out, doc["schedules"], doc["generated_at"])
    _coverage(out, doc["coverage"])
    _storage(out, doc["storage"], doc["generated_at"])
    _drills(out, doc.get("drills"))
    _checks(out, doc)
    return "\n".join(out.lines) + "\n"


def _drills(out: _Out, d: dict | None) -> None:
    if not d or (not d["known"] and d.get("note") == "not audited"):
        return
    every = f" (policy: every {d['every']['text']})" if d.get("every") else ""
    out.add(f"Restore drills{every}")
    if not d["known"]:
        out.wrap("  unknown: ", [d["note"]], 4)
        out.add()
        return
    rows = []
    for a in d["apps"]:
        last = a["last_success"][:16].replace("T", " ") if a["last_success"] else "never"
        age = a["age"]["text"] if a["age"] else "-"
        run = {True: "passed", False: "FAIL", None: "-"}[a["last_run_passed"]]
        rows.append([a["app"], last, age, a["backup"] or "-", run, "FAIL" if a["due"] else "ok"])
    if rows:
        out.table(["APP", "LAST SUCCESS", "AGE", "BACKUP", "LAST RUN", "STATUS"], rows, colored=5)
    for s in d["schedules"]:
        out.add(f"  schedule {s['schedule']}: last successful drill {s['last_success'][:16].replace('T', ' ')} "
                f"({s['age']['text']} ago, app {s['app']})")
    out.add()


def _drift(out: _Out, d: dict) -> None:
    out.add("Drift")
    s = d["summary"]
    if d["problems"]:
        out.add("  The plan cannot be made:")
        out.lines += [f"    - {p}" for p in d["problems"]]
    elif d["changes"]:
        out.add(f"  Plan: {s['create'] + s['replace']} to add, {s['update']} to change, "
                f"{s['delete'] + s['replace']} to destroy (`snapplan plan` shows each field).")
        out.lines += [f"    {GLYPHS[c['action']]} {c['address']}" for c in d["changes"]]
    else:
        out.add("  No changes: the cluster matches the policy.")
    if d["kept"]:
        out.add("  Managed objects not in the policy (kept):")
        out.lines += [f"    {k['address']}: {k['reason']}" for k in d["kept"]]
    if d["unmanaged"]:
        out.add("  Not managed by snapplan (shown, never changed):")
        out.lines += [f"    {a}" for a in d["unmanaged"]]
    out.add()


def _points(s: dict) -> str:
    rp = s["restore_points"]
    if rp is None:
        return "-"
    return str(rp["low"]) if rp["low"] == rp["high"] else f"{rp['low']}-{rp['high']}"


def _schedules(out: _Out, schedules: list[dict], now: str) -> None:
    out.add("Schedules")
    if not schedules:
        out.add("  none in the policy or the cluster")
        out.add()
        return
    rows = [[s["name"], s["status"], s["rpo"]["text"] if s["rpo"] else "-", _points(s),
             _relative(s["last_completed"]["started"], now) if s["last_completed"] else "never",
             _relative(s["next_runs"][0], now) if s["next_runs"] else "-"] for s in schedules]
    out.table(["SCHEDULE", "STATUS", "RPO", "POINTS", "LAST COMPLETED", "NEXT RUN"], rows, colored=1)
    for s in schedules:
        out.add()
        _schedule_detail(out, s, now)
    out.add()


def _schedule_detail(out: _Out, s: dict, now: str) -> None:
    tz = s["timezone"]
    where = {"cluster": "in the cluster", "policy": "policy only: not in the cluster yet"}[s["source"]]
    owner = "" if not s["in_cluster"] else (", managed" if s["managed"] else ", not managed by snapplan")
    out.add(f"  schedule.{s['name']} ({where}{owner})")
    target = f"bsl.{s['storage']}" if s["storage"] else "the default location"
    facts = [s["schedule"], f"retention {s['retention']['text']}", f"to {target}"]
    facts += ["paused"] if s["paused"] else []
    facts += [f"phase {s['phase']}"] if s["phase"] else []
    out.wrap("    ", facts, 4)
    rpo, typical = s["rpo"], s["typical_interval"]
    if rpo:
        usual = typical and typical["seconds"] != rpo["seconds"]
        out.add(f"    RPO {rpo['text']}" + (f", usually {typical['text']}" if usual else ""))
        if usual and rpo["after"]:
            out.add(f"      longest gap: {_when(rpo['after'], tz)} -> {_when(rpo['before'], tz)}")
    if s["restore_points"]:
        out.add(f"    restore points: {_points(s)} (alive just before / just after a run)")
    if s["next_runs"]:
        out.wrap("    next runs: ", [_when(t, tz) for t in s["next_runs"]], 15)
    last = s["last_completed"]
    if last:
        verdict = {"fresh": "fresh", "stale": "STALE"}.get(s["status"], s["status"])
        bound = f"RPO {rpo['text']} + grace {s['grace']['text']}" if rpo and s["grace"] else "no RPO"
        out.wrap("    last Completed: ", [last["name"], f"{last['age']['text']} old", f"{verdict} ({bound})"], 6)
    elif s["in_cluster"]:
        out.add(f"    last Completed: none ({s['status']})")
    latest = s["last_backup"]
    if latest and (not last or latest["name"] != last["name"]):
        out.add(f"    latest backup: {latest['name']}, {latest['phase']}, started "
                f"{_relative(latest['started'], now)}")
    expiring = [f"{b['name']} ({_relative(b['expiration'], now)})" for b in s["expiring_within_24h"]]
    if len(expiring) > 3:
        expiring = [f"{len(expiring)} backups, first {expiring[0]}"]
    if expiring:
        out.wrap("    expiring within 24h: ", expiring, 6)
    for note in s["notes"]:
        out.wrap("    note: ", [note], 6)


def _coverage(out: _Out, c: dict) -> None:
    out.add("Coverage (namespaces a running schedule backs up)")
    if not c["known"]:
        out.add("  unknown: the state lists no namespaces (export them with the other objects)")
    else:
        rows = [[n["name"], ", ".join(n["protected_by"]) or
                 ("none (system namespace: not counted)" if n["system"] else "NONE")] for n in c["namespaces"]]
        out.table(["NAMESPACE", "BACKED UP BY"], rows)
        out.add(f"  Unprotected: {', '.join(c['unprotected']) or 'none'}")
    for app in c["apps"]:
        if app["missing"]:
            out.add(f"  app {app['name']}: namespace(s) missing from the cluster: {', '.join(app['missing'])}")
        elif c["known"]:
            out.add(f"  app {app['name']}: all namespaces present ({', '.join(app['namespaces'])})")
    out.add()


def _storage(out: _Out, locations: list[dict], now: str) -> None:
    out.add("Storage")
    if not locations:
        out.add("  no backup storage locations")
        out.add()
        return
    rows = []
    for loc in locations:
        name = loc["name"] + (" *" if loc["default"] else "")
        if not loc["in_cluster"]:
            rows.append([name, "not in cluster", "-", "-", ", ".join(loc["used_by"])])
            continue
        rows.append([name, loc["phase"] or "not validated", _relative(loc["last_validation"], now)
                     if loc["last_validation"] else "never", "yes" if loc["managed"] else "no",
                     ", ".join(loc["used_by"])])
    headers = ["LOCATION", "PHASE", "VALIDATED", "MANAGED", "USED BY"]
    room = 80 - 2 - sum(max(len(r[i]) for r in [headers, *rows]) + 2 for i in range(4))
    wrapped = []
    for row, loc in zip(rows, locations):
        lines = _fit(loc["used_by"], max(room, 20))
        wrapped.append(row[:4] + [lines[0]])
        wrapped += [["", "", "", "", more] for more in lines[1:]]
    out.table(headers, wrapped, colored=1)
    for loc in locations:
        if loc["message"]:
            out.wrap(f"  {loc['name']}: ", [loc["message"]], 4)
    if any(loc["default"] for loc in locations):
        out.add("  * the default location")
    if not all(loc["in_cluster"] for loc in locations):
        out.add("  not in cluster: in the policy only; the plan creates it")
    out.add()


def _fit(names: list[str], room: int) -> list[str]:
    """Names joined by commas, in lines of at most `room` characters (a longer name gets its own line)."""
    lines = [""]
    for name in names:
        text = f"{lines[-1]}, {name}" if lines[-1] else name
        if len(text) + 1 > room and lines[-1]:
            lines[-1] += ","
            lines.append(name)
        else:
            lines[-1] = text
    return lines


def _checks(out: _Out, doc: dict) -> None:
    selected = doc["fail_on"]
    out.add("Checks" + (f" (--fail-on {','.join(selected)})" if selected else " (no --fail-on: informational)"))
    rows = [[k["name"], ("FAIL" if k["selected"] else "found") if k["holds"] else "ok"] for k in doc["conditions"]]
    out.table(["CHECK", "RESULT"], rows, colored=1)
    for k in doc["conditions"]:
        for detail in k["details"]:
            out.wrap(f"  {k['name']}: ", [detail], 4)

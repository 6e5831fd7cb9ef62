"""Text for people, rendered from the JSON form (details.BackupDetails.to_json), so `--json` and the text
cannot disagree: the backups table and one backup's details."""
from __future__ import annotations

COLUMNS = ("NAME", "SCOPE", "SCHEDULE", "PHASE", "STARTED", "EXPIRES", "STORAGE", "ERRORS/WARNINGS")


def render_table(rows: list[dict]) -> str:
    """Aligned columns, never cut: names and messages matter more than the terminal's width."""
    if not rows:
        return "No backups found.\n"
    cells = [COLUMNS] + [(r["name"], r["coverage"], r["schedule"] or "-", r["phase"], _short(r["started"]),
                          _expiry(r, short=True), r["storage_location"] or "-",
                          f"{r['errors']}/{r['warnings']}") for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def render_details(d: dict, *, full: bool = False) -> str:
    """One backup; `full` (snapshots show) adds namespaces, retention and the restores made from it."""
    lines = [("Backup", d["name"]), ("Phase", d["phase"]), ("Coverage", d["coverage"])]
    if full:
        lines.append(("Included namespaces", ", ".join(d["included_namespaces"]) or "*"))
        lines.append(("Excluded namespaces", ", ".join(d["excluded_namespaces"]) or "-"))
    lines += [("Schedule", d["schedule"] or "- (on demand)"), ("Storage location", d["storage_location"] or "-"),
              ("Started", _long(d["started"])), ("Completed", _long(d["completed"])),
              ("Duration", _duration(d["duration_seconds"])), ("Items", _items(d["items"])),
              ("Volume snapshots", _counts(d["volume_snapshots"]))]
    if d["csi_snapshots"] is not None:
        lines.append(("CSI snapshots", _counts(d["csi_snapshots"])))
    lines += [("File-system backups", _fs(d["fs_volume_backups"])), ("Warnings", str(d["warnings"])),
              ("Errors", str(d["errors"])), ("Expires", _expiry(d, short=False)), ("Retention", d["ttl"] or "-")]
    if full and d.get("retention"):
        lines[-1] = ("Retention", f"{d['ttl'] or '-'}: {d['retention']['note']}")
    width = max(len(k) for k, _ in lines) + 2
    out = [f"{k + ':':<{width}}{v}" for k, v in lines]
    messages = [f"  validation: {m}" for m in d["validation_errors"]]
    if d["failure_reason"]:
        messages.append(f"  failure: {d['failure_reason']}")
    if messages:
        out += ["Velero's messages:", *messages]
    if full:
        out += _restores(d.get("restores") or [])
    return "\n".join(out) + "\n"


def _restores(restores: list[dict]) -> list[str]:
    if not restores:
        return ["Restores made from it: none"]
    out = ["Restores made from it:"]
    for r in restores:
        mapping = ", ".join(f"{a}->{b}" for a, b in r["namespace_mapping"].items())
        items = r["items"]
        count = f", {items['restored']}/{items['total']} items" if items["total"] is not None else ""
        out.append(f"  {r['name']}: {r['phase']}{count}, {r['warnings']} warning(s), {r['errors']} error(s), "
                   f"created {_short(r['created'])}, namespaces {', '.join(r['included_namespaces'])}"
                   + (f" (mapped {mapping})" if mapping else ""))
        for m in r["validation_errors"] + ([r["failure_reason"]] if r["failure_reason"] else []):
            out.append(f"    {m}")
    return out


def _short(ts: str | None) -> str:
    return ts[:16].replace("T", " ") if ts else "-"


def _long(ts: str | None) -> str:
    return ts.replace("T", " ").replace("Z", " UTC") if ts else "-"


def _expiry(d: dict, *, short: bool) -> str:
    if not d["expires"]:
        return "-"
    when = _short(d["expires"]) if short else _long(d["expires"])
    return f"{when} ({d['expires_in']})"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    h, m, s = s // 3600, s % 3600 // 60, s % 60
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def _items(items: dict) -> str:
    if items["total"] is None:
        return "-"
    return f"{items['backed_up'] or 0} of {items['total']} backed up"


def _counts(c: dict | None) -> str:
    return "none" if c is None else f"{c['completed']} of {c['attempted']} completed"


def _fs(fs: dict | None) -> str:
    if fs is None:
        return "none"
    return f"{fs['completed']} of {fs['total']} completed" + (f", {fs['failed']} failed" if fs["failed"] else "")

"""The Restores in the cluster as plain data (JSON rows) and text: what `snapplan restores` shows. Pure."""
from __future__ import annotations

DRILL_LABEL = "snapplan.io/drill"


def restore_json(r: dict, results: dict | None = None, results_note: str | None = None) -> dict:
    meta, spec, status = r["metadata"], r.get("spec") or {}, r.get("status") or {}
    progress = status.get("progress") or {}
    out = {
        "name": meta["name"], "backup": spec.get("backupName"), "schedule": spec.get("scheduleName"),
        "phase": status.get("phase") or "New", "created": meta.get("creationTimestamp"),
        "started": status.get("startTimestamp"), "completed": status.get("completionTimestamp"),
        "items": {"restored": progress.get("itemsRestored"), "total": progress.get("totalItems")},
        "warnings": int(status.get("warnings") or 0), "errors": int(status.get("errors") or 0),
        "namespaces": spec.get("includedNamespaces") or ["*"],
        "namespace_mapping": spec.get("namespaceMapping") or {},
        "existing_resources": spec.get("existingResourcePolicy") or "none",
        "failure_reason": status.get("failureReason"),
        "validation_errors": list(status.get("validationErrors") or []),
        "drill": (meta.get("labels") or {}).get(DRILL_LABEL),
        "managed": (meta.get("labels") or {}).get("app.kubernetes.io/managed-by") == "snapplan",
    }
    if results is not None or results_note is not None:
        out["results"] = results
        out["results_note"] = results_note
    return out


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["created"] or "", r["name"]), reverse=True)


def render_table(rows: list[dict]) -> str:
    if not rows:
        return "No restores.\n"
    table = [["NAME", "BACKUP", "PHASE", "ITEMS", "WARN/ERR", "COMPLETED", "BY"]]
    for r in rows:
        items = r["items"]
        done = f"{items['restored']}/{items['total']}" if items["total"] is not None else "-"
        by = f"drill {r['drill']}" if r["drill"] else "policy" if r["managed"] else "-"
        table.append([r["name"], r["backup"] or "-", r["phase"], done, f"{r['warnings']}/{r['errors']}",
                      (r["completed"] or "-").replace("T", " ").rstrip("Z"), by])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() + "\n" for row in table)


def render_details(r: dict) -> str:
    mapping = r["namespace_mapping"]
    where = ", ".join(f"{n} -> {mapping[n]}" if n in mapping else n for n in r["namespaces"])
    items = r["items"]
    lines = [
        ("Name", r["name"]), ("Backup", r["backup"] or "-"), ("Schedule", r["schedule"] or "-"),
        ("Phase", r["phase"]), ("Namespaces", where), ("Existing resources", r["existing_resources"]),
        ("Items", f"{items['restored']} of {items['total']} restored" if items["total"] is not None else "-"),
        ("Warnings / errors", f"{r['warnings']} / {r['errors']}"),
        ("Started", r["started"] or "-"), ("Completed", r["completed"] or "-"),
    ]
    if r["drill"]:
        lines.append(("Made by", f"snapplan drill {r['drill']}"))
    if r["failure_reason"]:
        lines.append(("Failure", r["failure_reason"]))
    lines += [("Validation error", e) for e in r["validation_errors"]]
    width = max(len(k) for k, _ in lines)
    out = [f"{k + ':':<{width + 1}} {v}" for k, v in lines]
    if "results" in r:
        if r["results"] is None:
            out.append(f"Results: {r['results_note']}")
        else:
            for key in ("errors", "warnings"):
                found = r["results"].get(key) or {}
                for scope, messages in sorted(found.items()):
                    entries = messages.items() if isinstance(messages, dict) else [("", messages)]
                    for ns, msgs in entries:
                        for m in (msgs if isinstance(msgs, list) else [msgs]):
                            out.append(f"{key[:-1].capitalize()} ({scope}{'/' + ns if ns else ''}): {m}")
    out.append(f"Logs: snapplan restores logs {r['name']}")
    return "\n".join(out) + "\n"

"""The audit as metrics in the Prometheus text format (also valid OpenMetrics: gauges only, `# EOF` at the end),
for the node-exporter textfile collector or a sidecar to serve. Rendered from the audit's JSON form, like the text."""
from __future__ import annotations

from engine.audit.schedules import FAILING
from engine.times import parse_time

PREFIX = "snapplan_"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}" if labels else ""


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Family:
    def __init__(self, name: str, help_: str):
        self.name, self.help, self.samples = PREFIX + name, help_, []

    def add(self, labels: dict, value) -> None:
        self.samples.append((labels, value))

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        return out + [f"{self.name}{_labels(lbl)} {_number(v)}" for lbl, v in self.samples]


FAMILIES = (
    ("audit_up", "1 when the audit ran; 0 when it could not (a fleet's cluster unreachable, a bad policy)."),
    ("schedule_rpo_seconds", "Largest gap between two consecutive runs of the schedule (over the next four years)."),
    ("schedule_last_completed_backup_age_seconds", "Seconds since the newest Completed backup of the schedule started."),
    ("schedule_last_completed_backup_timestamp_seconds", "Start of the newest Completed backup (Unix time)."),
    ("schedule_restore_points", "Backups of the schedule alive at steady state: low just before a run, high just after."),
    ("schedule_fresh", "1 when the newest Completed backup is younger than the RPO plus grace."),
    ("schedule_failing", "1 when the schedule is stale, never ran, or invalid (what --fail-on stale checks)."),
    ("schedule_paused", "1 when the schedule is paused."),
    ("drift_changes", "Changes the plan would make, by action."),
    ("drift_problems", "Reasons the plan cannot be made (conflicts)."),
    ("uncovered_namespaces", "Namespaces no running schedule backs up (system namespaces aside)."),
    ("namespace_uncovered", "1 for each namespace no running schedule backs up."),
    ("storage_available", "1 when the BackupStorageLocation is Available."),
    ("condition", "1 when an audit condition holds (drift, stale, uncovered, unavailable)."),
    ("audit_timestamp_seconds", "When the audit ran (Unix time)."),
)


def render_openmetrics(audits: list[tuple[dict, dict | None]]) -> str:
    """`audits`: (labels for every sample, the audit's JSON form or None when it could not run), e.g. one per
    cluster of a fleet with {"cluster": name}. Each family is written once, its samples from every audit. A schedule
    that never completed a backup has no age sample (absent, not zero)."""
    fam = {key: _Family(key, text) for key, text in FAMILIES}
    for extra, doc in audits:
        fam["audit_up"].add(extra, doc is not None)
        if doc is not None:
            _samples(fam, {**extra, "policy": doc["policy"], "velero_namespace": doc["namespace"]}, doc)
    lines = [line for f in fam.values() if f.samples for line in f.lines()]
    return "\n".join(lines + ["# EOF"]) + "\n"


def _samples(fam: dict, base: dict, doc: dict) -> None:
    for s in doc["schedules"]:
        lbl = {**base, "schedule": s["name"]}
        if s.get("rpo"):
            fam["schedule_rpo_seconds"].add(lbl, s["rpo"]["seconds"])
        last = s.get("last_completed")
        if last and last.get("age"):
            fam["schedule_last_completed_backup_age_seconds"].add(lbl, last["age"]["seconds"])
            started = parse_time(last.get("started"))
            if started is not None:
                fam["schedule_last_completed_backup_timestamp_seconds"].add(lbl, started.timestamp())
        if s.get("restore_points"):
            fam["schedule_restore_points"].add({**lbl, "bound": "low"}, s["restore_points"]["low"])
            fam["schedule_restore_points"].add({**lbl, "bound": "high"}, s["restore_points"]["high"])
        fam["schedule_fresh"].add(lbl, s["status"] == "fresh")
        fam["schedule_failing"].add(lbl, s["status"] in FAILING)
        fam["schedule_paused"].add(lbl, bool(s.get("paused")))
    for action, count in doc["drift"]["summary"].items():
        fam["drift_changes"].add({**base, "action": action}, count)
    fam["drift_problems"].add(base, len(doc["drift"]["problems"]))
    cover = doc["coverage"]
    if cover["known"]:
        fam["uncovered_namespaces"].add(base, len(cover["unprotected"]))
        for name in cover["unprotected"]:
            fam["namespace_uncovered"].add({**base, "namespace": name}, 1)
    for loc in doc["storage"]:
        if loc["in_cluster"]:
            fam["storage_available"].add({**base, "location": loc["name"]}, not loc["unavailable"])
    for c in doc["conditions"]:
        fam["condition"].add({**base, "condition": c["name"]}, c["holds"])
    generated = parse_time(doc["generated_at"])
    if generated is not None:
        fam["audit_timestamp_seconds"].add(base, generated.timestamp())

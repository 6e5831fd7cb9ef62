"""Build the whole audit: drift (the plan, not applied), schedules, coverage, storage, and the
`--fail-on` conditions, from a prepared policy and the live state read once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.addr import Address
from engine.audit.coverage import Coverage, coverage
from engine.audit.drills import DrillAudit, audit_drills
from engine.audit.schedules import ScheduleAudit, audit_schedule, backups_of
from engine.audit.storage import LocationAudit, audit_location
from engine.audit.times import duration
from engine.diff import is_managed
from engine.errors import PlanError, SnapplanError
from engine.state.server import schedule_location, server_defaults

CONDITIONS = ("drift", "stale", "uncovered", "unavailable", "untested")


@dataclass(frozen=True)
class DriftAudit:
    changes: tuple[tuple[str, str], ...]  # (address, action json name), in plan order; no-ops left out
    unmanaged: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]  # the plan cannot be made (conflicts): drift of its own kind

    @property
    def summary(self) -> dict[str, int]:
        acts = [a for _, a in self.changes]
        return {k: acts.count(k) for k in ("create", "update", "delete", "replace")}

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.problems)


@dataclass(frozen=True)
class Condition:
    name: str
    holds: bool
    details: tuple[str, ...]


@dataclass(frozen=True)
class Audit:
    policy: str
    namespace: str
    state: str
    generated_at: datetime
    drift: DriftAudit
    schedules: tuple[ScheduleAudit, ...]
    coverage: Coverage
    storage: tuple[LocationAudit, ...]
    conditions: tuple[Condition, ...]
    fail_on: tuple[str, ...]
    drills: DrillAudit | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.conditions if c.holds and c.name in self.fail_on)


def parse_fail_on(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`drift,stale` (repeatable) -> ("drift", "stale") in canonical order; SnapplanError on an unknown name."""
    names = {v.strip() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(names - set(CONDITIONS))
    if unknown:
        raise SnapplanError(f"--fail-on: unknown condition(s) {', '.join(unknown)}; "
                            f"use any of {', '.join(CONDITIONS)} (comma-separated)")
    return tuple(c for c in CONDITIONS if c in names)


def build_audit(prepared, live, now: datetime, fail_on: tuple[str, ...] = (), drill_records: list[dict] | None = None,
                drill_note: str = "") -> Audit:
    """`prepared` is engine.planner.Prepared; `live` the LiveState the plan is made against; `drill_records`
    the records `snapplan drill` keeps (engine.drill.record.parse), None when they could not be read."""
    from engine.planner import plan_against

    policy, desired = prepared.policy, prepared.desired.objects
    ns = policy.velero_namespace
    try:
        plan = plan_against(prepared, live, now=now.isoformat()).plan
        drift = DriftAudit(
            tuple((str(c.address), c.action.json_name) for c in plan.changes if c.action.json_name != "no-op"),
            tuple(str(a) for a in plan.unmanaged), tuple((str(a), why) for a, why in plan.kept), ())
    except PlanError as exc:
        drift = DriftAudit((), (), (), exc.problems)
    schedules = _schedules(policy, desired, live, ns, now)
    cover = coverage(list(live.namespaces), live.of_kind("Schedule", ns), policy.apps, ns)
    storage = _storage(policy, desired, live, ns, schedules)
    drills = audit_drills(policy, drill_records, now, drill_note)
    conditions = (
        Condition("drift", drift.has_changes, _drift_details(drift)),
        Condition("stale", any(s.failing for s in schedules),
                  tuple(f"schedule.{s.name}: {_why(s)}" for s in schedules if s.failing)),
        Condition("uncovered", bool(cover.unprotected),
                  tuple(f"namespace {n}: no running schedule backs it up" for n in cover.unprotected)
                  if cover.known else ("unknown: the state lists no namespaces",)),
        Condition("unavailable", any(loc.unavailable for loc in storage),
                  tuple(f"bsl.{loc.name}: {loc.phase or 'not validated yet'}"
                        + (f": {loc.message}" if loc.message else "") for loc in storage if loc.unavailable)),
        Condition("untested", bool(drills.untested), _untested_details(drills)),
    )
    return Audit(policy.name, ns, live.source, now, drift, schedules, cover, storage, conditions, fail_on, drills)


def _schedules(policy, desired, live, ns: str, now: datetime) -> tuple[ScheduleAudit, ...]:
    live_backups = live.of_kind("Backup", ns)
    names = set(policy.schedules) | {s["metadata"]["name"] for s in live.of_kind("Schedule", ns)}
    defaults = server_defaults(live, ns, location=policy.velero_server.default_location,
                               ttl=policy.velero_server.default_ttl)
    locations = live.of_kind("BackupStorageLocation", ns)
    out = []
    for name in sorted(names):
        addr = Address("Schedule", ns, name)
        have, want = live.get(addr), desired.get(addr)
        storage = schedule_location(have if have is not None else want.obj, locations, defaults)
        out.append(audit_schedule(name, have, want.obj if want else None, backups_of(live_backups, name), now,
                                  managed=have is not None and is_managed(have), defaults=defaults,
                                  storage=storage))
    return tuple(out)


def _storage(policy, desired, live, ns: str, schedules) -> tuple[LocationAudit, ...]:
    names = set(policy.storage) | {b["metadata"]["name"] for b in live.of_kind("BackupStorageLocation", ns)}
    out = []
    for name in sorted(names):
        addr = Address("BackupStorageLocation", ns, name)
        have, want = live.get(addr), desired.get(addr)
        users = tuple(s.name for s in schedules if s.storage == name)
        out.append(audit_location(name, have, want.obj if want else None, users,
                                  managed=have is not None and is_managed(have)))
    return tuple(out)


def _drift_details(drift: DriftAudit) -> tuple[str, ...]:
    if drift.problems:
        return tuple(f"the plan cannot be made: {p}" for p in drift.problems)
    s = drift.summary
    if not drift.changes:
        return ()
    return (f"{s['create'] + s['replace']} to add, {s['update']} to change, "
            f"{s['delete'] + s['replace']} to destroy",)


def _untested_details(d: DrillAudit) -> tuple[str, ...]:
    if not d.known:
        return (f"unknown: {d.note}",)
    within = f" within {duration(d.every)}" if d.every else ""
    out = []
    for a in d.apps:
        if not a.due:
            continue
        if a.last_success is None:
            out.append(f"app {a.app}: never restored in a successful drill (snapplan drill --app {a.app})")
        else:
            out.append(f"app {a.app}: no successful drill{within}; the last one finished {a.last_success:%Y-%m-%d %H:%M} UTC")
    return tuple(out)


def _why(s: ScheduleAudit) -> str:
    if s.status == "stale":
        return (f"stale: last Completed backup {s.last_completed.name} is {duration(s.age)} old; "
                f"RPO {duration(s.rpo.seconds)} + grace {duration(s.grace)}")
    if s.status == "never-ran":
        return "never ran: no Completed backup of it, and its first run was due"
    return "invalid: " + ("; ".join(s.notes) or "Velero cannot run it")

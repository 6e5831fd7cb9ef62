"""Which backup each drill restores and where to: the newest Completed backup of a schedule or an app (or a
named one), its namespaces mapped to scratch namespaces `<ns>-drill-<id>`. Pure."""
from __future__ import annotations

from dataclasses import dataclass

from engine.diff import DRILL_LABEL  # on a drill's Restore: the drill id (plans leave these Restores out)
from engine.errors import SnapplanError
from engine.snapshots.build import label_value

SCHEDULE_LABEL = "velero.io/schedule-name"
APP_LABEL = "snapplan.io/app"
SCOPE_LABEL = "snapplan.io/scope"
MAX_NAME = 63


class DrillError(SnapplanError):
    """A drill that cannot start: no such backup, none Completed, or a scratch namespace already exists."""


@dataclass(frozen=True)
class Drill:
    drill_id: str
    app: str | None
    backup: str
    schedule: str | None
    namespaces: tuple[tuple[str, str], ...]  # (source, scratch) in source order
    expect: tuple = ()  # engine.spec.policy.DrillExpect, from the app's `drill.expect`
    whole_backup: bool = False  # the drill restores every namespace the backup holds: item counts must match

    @property
    def restore_name(self) -> str:
        return _fit(f"snapplan-drill-{self.app or self.backup}", self.drill_id)

    @property
    def label(self) -> str:
        return f"app {self.app}" if self.app else f"backup {self.backup}"


def scratch_name(namespace: str, drill_id: str) -> str:
    return _fit(f"{namespace}-drill", drill_id)


def _fit(stem: str, drill_id: str) -> str:
    room = MAX_NAME - len(drill_id) - 1
    return f"{stem[:room].rstrip('-.')}-{drill_id}"


def _phase(b: dict) -> str:
    return (b.get("status") or {}).get("phase") or "New"


def _start(b: dict) -> str:
    status = b.get("status") or {}
    return status.get("startTimestamp") or b["metadata"].get("creationTimestamp") or ""


def _labels(b: dict) -> dict:
    return b["metadata"].get("labels") or {}


def covers(backup: dict, namespace: str) -> bool:
    spec = backup.get("spec") or {}
    included = spec.get("includedNamespaces") or ["*"]
    return ("*" in included or namespace in included) and namespace not in (spec.get("excludedNamespaces") or [])


def newest_completed(backups: list[dict]) -> dict | None:
    """By start time, newest first, the first Completed one (as Velero's restore controller picks)."""
    done = [b for b in backups if _phase(b) == "Completed"]
    return max(done, key=_start) if done else None


def choose(policy, backups: list[dict], drill_id: str, *, schedule: str | None = None, app: str | None = None,
           backup: str | None = None) -> list[Drill]:
    """The drills to run: one per app (every app of the policy when nothing is named)."""
    if sum(x is not None for x in (schedule, backup)) > 1:
        raise DrillError("give at most one of --schedule and --backup")
    if app is not None and app not in policy.apps:
        raise DrillError(f"no app {app!r} in the policy (apps: {', '.join(sorted(policy.apps)) or 'none'})")
    if backup is not None:
        found = next((b for b in backups if b["metadata"]["name"] == backup), None)
        if found is None:
            raise DrillError(f"no backup named {backup} in namespace {policy.velero_namespace} "
                             "(list them with: snapplan snapshots)")
        if _phase(found) != "Completed":
            raise DrillError(f"backup {backup} is {_phase(found)}: a drill restores a Completed backup")
        return _for_backup(policy, found, drill_id, app)
    if schedule is not None:
        if schedule not in policy.schedules and not any(_labels(b).get(SCHEDULE_LABEL) == schedule for b in backups):
            raise DrillError(f"no schedule {schedule!r} in the policy or among the cluster's backups")
        found = newest_completed([b for b in backups if _labels(b).get(SCHEDULE_LABEL) == schedule])
        if found is None:
            raise DrillError(f"schedule {schedule} has no Completed backup to drill; take one with: "
                             f"snapplan backup create -f POLICY --schedule {schedule}")
        return _for_backup(policy, found, drill_id, app)
    apps = [app] if app else sorted(policy.apps)
    if not apps:
        raise DrillError("the policy has no apps: name a backup to drill with --backup or --schedule")
    drills = []
    for slug in apps:
        found = newest_completed([b for b in backups if _holds_app(b, policy.apps[slug])])
        if found is None:
            raise DrillError(f"app {slug} has no Completed backup to drill (none of its schedules' backups, "
                             f"nor a full backup covering {', '.join(policy.apps[slug].namespaces)})")
        drills += _for_backup(policy, found, drill_id, slug)
    return drills


def _holds_app(backup: dict, app) -> bool:
    labels = _labels(backup)
    if labels.get(APP_LABEL) == label_value(app.name):
        return True
    return labels.get(SCOPE_LABEL) == "full" and all(covers(backup, ns) for ns in app.namespaces)


def _for_backup(policy, backup: dict, drill_id: str, app: str | None) -> list[Drill]:
    labels, spec = _labels(backup), backup.get("spec") or {}
    name, schedule = backup["metadata"]["name"], labels.get(SCHEDULE_LABEL)
    explicit = [n for n in (spec.get("includedNamespaces") or []) if n != "*"]
    if app is None and labels.get(APP_LABEL) in policy.apps:
        app = labels[APP_LABEL]
    if app is not None:
        a = policy.apps[app]
        missing = [ns for ns in a.namespaces if not covers(backup, ns)]
        if missing:
            raise DrillError(f"backup {name} does not hold app {app}'s namespace(s) {', '.join(missing)}")
        whole = sorted(explicit) == sorted(a.namespaces) and "*" not in (spec.get("includedNamespaces") or [])
        return [_drill(drill_id, app, name, schedule, a.namespaces, policy, whole)]
    if explicit and "*" not in (spec.get("includedNamespaces") or []):
        return [_drill(drill_id, None, name, schedule, tuple(explicit), policy, True)]
    apps = [a for a in sorted(policy.apps) if all(covers(backup, ns) for ns in policy.apps[a].namespaces)]
    if not apps:
        raise DrillError(f"backup {name} covers every namespace and no app of the policy tells which to drill: "
                         "name one with --app")
    return [_drill(drill_id, a, name, schedule, policy.apps[a].namespaces, policy, False) for a in apps]


def _drill(drill_id, app, backup, schedule, namespaces, policy, whole) -> Drill:
    expect = policy.apps[app].drill_expect if app else ()
    return Drill(drill_id, app, backup, schedule, tuple((ns, scratch_name(ns, drill_id)) for ns in namespaces),
                 tuple(expect), whole)


def restore_object(drill: Drill, namespace: str) -> dict:
    """The drill's Restore: only the chosen namespaces, each mapped to its scratch namespace, and no
    cluster-scoped resources, so nothing outside the scratch namespaces is written."""
    labels = {DRILL_LABEL: drill.drill_id}
    if drill.app:
        labels[APP_LABEL] = label_value(drill.app)
    return {
        "apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": drill.restore_name, "namespace": namespace, "labels": labels},
        "spec": {"backupName": drill.backup, "includedNamespaces": [s for s, _ in drill.namespaces],
                 "namespaceMapping": dict(drill.namespaces), "includeClusterResources": False,
                 "existingResourcePolicy": "none"},
    }

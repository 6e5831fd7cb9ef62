"""Schedule controller: validate the cron, then create `<schedule>-<YYYYMMDDhhmmss>` Backups when due
(pkg/controller/schedule_controller.go, pkg/builder/backup_builder.go FromSchedule)."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from .context import Context
from .cron import CronError, CronSchedule, parse_cron
from .kube import BACKUP, SCHEDULE, SCHEDULE_NAME_LABEL
from .times import parse_time, rfc3339


def parse_schedule(schedule: dict) -> tuple[CronSchedule | None, list[str]]:
    text = (schedule.get("spec") or {}).get("schedule") or ""
    if not text:
        return None, ["Schedule must be a non-empty valid Cron expression"]
    try:
        return parse_cron(text), []
    except CronError as err:
        return None, [f"invalid schedule: {err}"]


def next_run(schedule: dict, cron: CronSchedule) -> datetime:
    """Velero's getNextRunTime: the cron's next time after lastBackup (or creation, or lastSkipped)."""
    status = schedule.get("status") or {}
    if status.get("lastBackup"):
        base = parse_time(status["lastBackup"])
    else:
        base = parse_time(schedule["metadata"]["creationTimestamp"])
    if status.get("lastSkipped") and parse_time(status["lastSkipped"]) > base:
        base = parse_time(status["lastSkipped"])
    return cron.next_after(base)


def backup_from_schedule(schedule: dict, now: datetime) -> dict:
    meta = schedule["metadata"]
    template = copy.deepcopy((schedule.get("spec") or {}).get("template") or {})
    template_meta = template.get("metadata") or {}
    # A template that names labels (even none) replaces the Schedule's own labels on the Backup.
    if "labels" in template_meta and template_meta["labels"] is not None:
        labels = dict(template_meta["labels"])
    else:
        labels = dict(meta.get("labels") or {})
    labels[SCHEDULE_NAME_LABEL] = meta["name"]
    backup_meta: dict = {
        "name": f"{meta['name']}-{now.astimezone(timezone.utc).strftime('%Y%m%d%H%M%S')}",
        "namespace": meta["namespace"],
        "labels": labels,
    }
    if meta.get("annotations"):
        backup_meta["annotations"] = dict(meta["annotations"])
    if (schedule.get("spec") or {}).get("useOwnerReferencesInBackup"):
        backup_meta["ownerReferences"] = [{
            "apiVersion": "velero.io/v1", "kind": "Schedule", "name": meta["name"],
            "uid": meta.get("uid", ""), "controller": True,
        }]
    return {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": backup_meta, "spec": template}


class ScheduleController:
    def __init__(self, ctx: Context, skip_immediately: bool = False) -> None:
        self.ctx = ctx
        self.skip_immediately = skip_immediately  # velero server --schedule-skip-immediately

    def reconcile(self) -> None:
        # SetupWithManager's predicate drops paused schedules: they are not validated and their
        # spec.skipImmediately stays as written until they are un-paused.
        for schedule in self.ctx.kube.list(SCHEDULE):
            if not (schedule.get("spec") or {}).get("paused"):
                self._reconcile_one(schedule)

    def _reconcile_one(self, schedule: dict) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        updated = copy.deepcopy(schedule)
        spec, status = updated["spec"], updated.setdefault("status", {})
        # schedule_controller.go Reconcile: a nil spec.skipImmediately is pointed at the reconciler's own
        # field (`schedule.Spec.SkipImmediately = &c.skipImmediately`), then `true` is consumed once
        # (`*schedule.Spec.SkipImmediately = false`, status.lastSkipped = now) and patched back. Consuming
        # the server default through that pointer clears the reconciler's field: with
        # --schedule-skip-immediately only the first schedule reconciled without the field skips; every
        # later one gets false (v1.14 to main).
        from_default = spec.get("skipImmediately") is None
        if from_default:
            spec["skipImmediately"] = self.skip_immediately
        if spec["skipImmediately"]:
            spec["skipImmediately"] = False
            status["lastSkipped"] = rfc3339(now)
            if from_default:
                self.skip_immediately = False
        cron, errors = parse_schedule(updated)
        status["phase"] = "FailedValidation" if errors else "Enabled"
        if errors:
            status["validationErrors"] = errors
        else:
            status.pop("validationErrors", None)
        if updated != schedule:
            written = kube.replace(SCHEDULE, updated)
            if written is None:
                return
            schedule = written
        if cron is None or now < next_run(schedule, cron) or self._has_unfinished_backup(schedule):
            return
        if kube.create(BACKUP, backup_from_schedule(schedule, now)) is None:
            return
        status = dict(schedule.get("status") or {})
        status["lastBackup"] = rfc3339(now)
        kube.write_status(SCHEDULE, schedule, status)

    def _has_unfinished_backup(self, schedule: dict) -> bool:
        selector = f"{SCHEDULE_NAME_LABEL}={schedule['metadata']['name']}"
        return any((b.get("status") or {}).get("phase", "New") in ("New", "InProgress")
                   for b in self.ctx.kube.list(BACKUP, selector))

    def next_wakeup(self) -> datetime | None:
        times = []
        for schedule in self.ctx.kube.list(SCHEDULE):
            if (schedule.get("spec") or {}).get("paused"):
                continue
            cron, _ = parse_schedule(schedule)
            if cron is not None:
                times.append(next_run(schedule, cron))
        return min(times, default=None)

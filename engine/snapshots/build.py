"""Manifests for snapshots: an on-demand Backup built from the policy the way its Schedules are, and the
DeleteBackupRequest through which Velero deletes a backup together with its data in the bucket."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from engine.errors import SnapplanError
from engine.model.crd import check_object
from engine.model.desired import POLICY_ANNOTATION, backup_template, schedule_template
from engine.snapshots.details import SCHEDULE_LABEL
from engine.spec.policy import Policy
from engine.times import DEFAULT_RETENTION, Duration

BACKUP_NAME_LABEL = "velero.io/backup-name"
BACKUP_UID_LABEL = "velero.io/backup-uid"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SnapshotRequestError(SnapplanError):
    """The on-demand backup asked for does not fit the policy (unknown schedule, app or storage, bad name)."""


@dataclass(frozen=True)
class BackupRequest:
    """`--schedule NAME`, or `--scope full|application` with the optional app, storage and retention."""

    schedule: str | None = None
    scope: str | None = None
    app: str | None = None
    storage: str | None = None
    retention: str | None = None
    name: str | None = None


def on_demand_backup(policy: Policy, req: BackupRequest, now: datetime) -> dict:
    """The Backup `velero backup create --from-schedule` would make from the policy's schedule (its
    template as spec, its labels plus velero.io/schedule-name), or one built from a scope the same way."""
    if req.schedule is not None:
        if req.scope or req.app or req.storage or req.retention:
            raise SnapshotRequestError("--schedule takes everything from the schedule's template; "
                                       "do not combine it with --scope, --app, --storage or --retention")
        schedule = policy.schedules.get(req.schedule)
        if schedule is None:
            raise SnapshotRequestError(f"no schedule {req.schedule!r} in the policy"
                                       + _known("schedules", policy.schedules))
        spec = schedule_template(policy, schedule)
        labels = {**spec["metadata"]["labels"], SCHEDULE_LABEL: schedule.name}
        base = schedule.name
    else:
        spec = _scope_spec(policy, req)
        labels = dict(spec["metadata"]["labels"])
        base = req.app if req.scope == "application" else "full"
    name = req.name or f"{base}-manual-{now.astimezone(timezone.utc):%Y%m%d%H%M%S}"
    if len(name) > 253 or not NAME.match(name):
        raise SnapshotRequestError(f"{name!r} is not a valid backup name: lowercase letters, digits, '-' and "
                                   "'.', starting and ending with a letter or digit, at most 253 characters")
    backup = {"apiVersion": "velero.io/v1", "kind": "Backup",
              "metadata": {"name": name, "namespace": policy.velero_namespace, "labels": labels,
                           "annotations": {POLICY_ANNOTATION: policy.name}},
              "spec": spec}
    problems = check_object(backup)
    if problems:
        raise SnapplanError(f"the Backup built for {name} does not fit Velero's CRD: {'; '.join(problems)}")
    return backup


def _scope_spec(policy: Policy, req: BackupRequest) -> dict:
    if req.scope not in ("full", "application"):
        given = f"--scope {req.scope!r} is not a scope: " if req.scope else ""
        raise SnapshotRequestError(f"{given}give --schedule NAME, or --scope full|application")
    if req.scope == "application":
        if not req.app:
            raise SnapshotRequestError("--scope application needs --app SLUG" + _known("apps", policy.apps))
        if req.app not in policy.apps:
            raise SnapshotRequestError(f"no app {req.app!r} in the policy" + _known("apps", policy.apps))
    elif req.app:
        raise SnapshotRequestError("--app goes with --scope application (a full backup covers every namespace)")
    storage = req.storage or next((s.name for s in policy.storage.values() if s.default), None)
    if storage is None:
        raise SnapshotRequestError("the policy has no default storage; pass --storage NAME"
                                   + _known("storage", policy.storage))
    if req.storage and req.storage not in policy.storage:
        raise SnapshotRequestError(f"no storage {req.storage!r} in the policy" + _known("storage", policy.storage))
    retention = Duration.of(req.retention) if req.retention else DEFAULT_RETENTION
    if retention is None or retention.nanoseconds <= 0:
        raise SnapshotRequestError(f"--retention {req.retention!r}: use e.g. 7d, 2w, 36h or 1h30m")
    return backup_template(policy, scope=req.scope, app=req.app, storage=storage, retention=retention)


def _known(what: str, names) -> str:
    return f" ({what}: {', '.join(sorted(names))})" if names else f" (the policy has no {what})"


def label_value(name: str) -> str:
    """Velero's label.GetValidName: names over 63 characters become 57 characters + 6 of their sha256."""
    if len(name) <= 63:
        return name
    return name[:57] + hashlib.sha256(name.encode()).hexdigest()[:6]


def delete_request(backup: dict) -> dict:
    """What `velero backup delete NAME` creates: Velero deletes the bucket data, the restores made from
    the backup, then the Backup. Named like Velero's (generateName `<backup>-`)."""
    meta = backup["metadata"]
    request = {"apiVersion": "velero.io/v1", "kind": "DeleteBackupRequest",
               "metadata": {"generateName": f"{meta['name']}-", "namespace": meta["namespace"],
                            "labels": {BACKUP_NAME_LABEL: label_value(meta["name"]),
                                       BACKUP_UID_LABEL: meta.get("uid", "")}},
               "spec": {"backupName": meta["name"]}}
    problems = check_object(request)
    if problems:
        raise SnapplanError(f"the DeleteBackupRequest for {meta['name']} does not fit Velero's CRD: "
                            f"{'; '.join(problems)}")
    return request

"""The backups in a cluster, filtered and newest first, and one backup with everything around it: its
file-system volume backups, the restores made from it, and whether it follows its schedule's retention."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.snapshots import cluster
from engine.snapshots.build import SnapshotRequestError
from engine.snapshots.details import PHASES, BackupDetails, backup_details, fs_backups_of, restore_json
from engine.snapshots.retention import retention_check
from engine.spec.policy import Policy
from engine.times import DEFAULT_RETENTION


@dataclass(frozen=True)
class Filters:
    schedule: str | None = None
    app: str | None = None
    phase: str | None = None

    def normalized(self) -> "Filters":
        """The phase spelled as Velero does (`completed` -> `Completed`); an unknown one is an error."""
        if self.phase is None:
            return self
        match = next((p for p in PHASES if p.lower() == self.phase.lower()), None)
        if match is None:
            raise SnapshotRequestError(f"--phase {self.phase!r} is not a backup phase; one of: {', '.join(PHASES)}")
        return Filters(self.schedule, self.app, match)

    def keep(self, d: BackupDetails) -> bool:
        return ((self.schedule is None or d.schedule == self.schedule)
                and (self.app is None or d.coverage.app == self.app)
                and (self.phase is None or d.phase == self.phase))


def app_namespaces(policy: Policy | None) -> dict[str, tuple[str, ...]] | None:
    return None if policy is None else {slug: a.namespaces for slug, a in policy.apps.items()}


def list_backups(api, ns: str, policy: Policy | None, filters: Filters) -> list[BackupDetails]:
    """One LIST of Backups, newest first."""
    filters = filters.normalized()
    apps = app_namespaces(policy)
    found = [backup_details(b, apps) for b in cluster.list_kind(api, ns, "backups")]
    return sorted((d for d in found if filters.keep(d)), key=lambda d: d.sort_key, reverse=True)


def describe(api, ns: str, name: str, policy: Policy | None, now: datetime) -> dict:
    """`snapshots show`: the backup's JSON form plus its restores and its retention against the schedule's
    current one (the policy's when given, else the cluster's Schedule)."""
    backup = cluster.get_backup(api, ns, name)
    fs = fs_backups_of(cluster.pod_volume_backups(api, ns, name))
    d = backup_details(backup, app_namespaces(policy), fs)
    if policy is not None:
        current, source = {s.name: str(s.retention) for s in policy.schedules.values()}, "policy"
    else:
        schedules = cluster.list_kind(api, ns, "schedules")
        current = {s["metadata"]["name"]: ((s.get("spec") or {}).get("template") or {}).get("ttl") or str(DEFAULT_RETENTION)
                   for s in schedules}
        source = "cluster"
    doc = d.to_json(now)
    doc["labels"] = dict(backup["metadata"].get("labels") or {})
    doc["retention"] = retention_check(d.ttl, d.schedule, current, source)
    doc["restores"] = [restore_json(r) for r in cluster.restores_from(api, ns, name)]
    return doc

"""Restore drills: prove a backup restores by restoring it into scratch namespaces, checking what came
back, and cleaning up. `choose` picks the backups (pure), `run` carries a drill out on a cluster, `report`
renders results (text, JSON, JUnit), `record` keeps the last result per app in the cluster for `audit`.
May import spec, snapshots (cluster reads) and state.kube; nothing imports it but cli and audit."""

"""snapshots: on-demand Backups, the listing of backups, their details, and deletion requests.

A side branch of the pipeline for the objects Velero makes (Backups are data, never planned): builds
manifests from the policy (engine.model), reads and writes through engine.state.kube, and never prints.
May import engine.spec, engine.model, engine.state, engine.errors, engine.times; never engine.plan, engine.apply or cli.
"""

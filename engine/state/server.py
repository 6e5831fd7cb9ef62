"""What Velero's server does when a Schedule leaves a field to it: its default location and default ttl.

Velero's server flags (pkg/cmd/server/config/config.go): `--default-backup-storage-location` (`default`
unless changed) and `--default-backup-ttl` (720h). backup_controller.go prepareBackupRequest applies them
to every Backup whose spec leaves the field empty; a location marked `default: true` wins over the flag.
Read from the velero Deployment's args when the state holds it, else what the policy says, else Velero's
own defaults. Pure.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.state.live import LiveState
from engine.times import DEFAULT_RETENTION, Duration, parse_time

DEFAULT_LOCATION_FLAG = "default"  # config.go: DefaultBackupLocation: "default"


@dataclass(frozen=True)
class ServerDefaults:
    location: str = DEFAULT_LOCATION_FLAG  # --default-backup-storage-location
    ttl: Duration = DEFAULT_RETENTION  # --default-backup-ttl
    source: str = "Velero's defaults"


def workloads(live: LiveState, kind: str, namespace: str) -> list[dict]:
    return [o for o in live.others if o.get("kind") == kind
            and (o.get("metadata") or {}).get("namespace", namespace) == namespace]


def velero_deployment(live: LiveState, namespace: str) -> dict | None:
    deployments = workloads(live, "Deployment", namespace)
    by_name = [d for d in deployments if d["metadata"].get("name") == "velero"]
    by_label = [d for d in deployments if (d["metadata"].get("labels") or {}).get("component") == "velero"]
    return (by_name or by_label or [None])[0]


def _flags(deploy: dict) -> dict[str, str]:
    """`--name=value` and `--name value` of the velero container's command and args, as pflag reads them."""
    spec = ((deploy.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = spec.get("containers") or []
    velero = next((c for c in containers if c.get("name") == "velero"), containers[0] if containers else {})
    words = [str(w) for part in ("command", "args") if isinstance(velero.get(part), list) for w in velero[part]]
    out: dict[str, str] = {}
    for i, word in enumerate(words):
        if not word.startswith("--"):
            continue
        name, eq, value = word[2:].partition("=")
        if not eq and i + 1 < len(words) and not words[i + 1].startswith("-"):
            value = words[i + 1]
        out[name] = value
    return out


def server_defaults(live: LiveState, namespace: str, *, location: str | None = None,
                    ttl: Duration | None = None) -> ServerDefaults:
    """The server's defaults: the Deployment's flags when the state has it, else `location`/`ttl` (what the
    policy says), else Velero's."""
    deploy = velero_deployment(live, namespace)
    flags = _flags(deploy) if deploy else {}
    flag_ttl = Duration.of(flags.get("default-backup-ttl"))
    found_location = flags.get("default-backup-storage-location") or None
    if deploy is not None:
        return ServerDefaults(found_location or DEFAULT_LOCATION_FLAG, flag_ttl or DEFAULT_RETENTION,
                              "the velero Deployment's flags")
    if location or ttl:
        return ServerDefaults(location or DEFAULT_LOCATION_FLAG, ttl or DEFAULT_RETENTION, "the policy")
    return ServerDefaults()


def effective_ttl(value, defaults: ServerDefaults) -> Duration | None:
    """A Backup spec's ttl as Velero applies it: 0 or absent is the server's default; None if unreadable."""
    if value in (None, ""):
        return defaults.ttl
    span = Duration.of(value)
    if span is None:
        return None
    return defaults.ttl if span.nanoseconds == 0 else span


def marked_default(locations: list[dict]) -> str | None:
    """The location marked `default: true` that Velero keeps: of several, the most recently created
    (backup_storage_location_controller.go ensureSingleDefaultBSL; on a tie the first by name, as listed)."""
    chosen, chosen_time = None, None
    for bsl in sorted(locations, key=lambda o: o["metadata"]["name"]):
        if (bsl.get("spec") or {}).get("default") is not True:
            continue
        created = parse_time(bsl["metadata"].get("creationTimestamp"))
        if chosen is None or (created and (chosen_time is None or chosen_time < created)):
            chosen, chosen_time = bsl["metadata"]["name"], created
    return chosen


def default_location(locations: list[dict], defaults: ServerDefaults) -> str:
    """Where Velero puts a Backup whose spec names no location (backup_controller.go prepareBackupRequest):
    the location marked default, else the server's --default-backup-storage-location."""
    return marked_default(locations) or defaults.location


def schedule_location(schedule: dict, locations: list[dict], defaults: ServerDefaults) -> str:
    """The location a Schedule's backups go to: its template's storageLocation, else Velero's default."""
    template = (schedule.get("spec") or {}).get("template") or {}
    return template.get("storageLocation") or default_location(locations, defaults)

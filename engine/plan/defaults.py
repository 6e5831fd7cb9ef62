"""Which location Velero will treat as the default after the plan (warnings for the plan, display only).

Velero keeps a single default location: when several are marked, the most recently created keeps the flag
and Velero sets the others to false (pkg/controller/backup_storage_location_controller.go
ensureSingleDefaultBSL, on every location reconcile)."""
from __future__ import annotations

from engine.addr import Address
from engine.model.desired import DesiredState
from engine.plan.model import Action, Change
from engine.state.live import LiveState
from engine.times import parse_time


def _marked(obj: dict | None) -> bool:
    return bool(((obj or {}).get("spec") or {}).get("default"))


def default_warnings(desired: DesiredState, live: LiveState, changes: dict[Address, Change]) -> list[str]:
    ns = desired.policy.velero_namespace
    ours = [a for a, d in desired.objects.items() if a.kind == "BackupStorageLocation" and _marked(d.obj)]
    if len(ours) != 1:
        return []
    want = ours[0]
    mine = changes.get(want)
    fresh = live.get(want) is None or (mine is not None and mine.action is Action.REPLACE)
    created = None if fresh else parse_time((live.get(want) or {}).get("metadata", {}).get("creationTimestamp"))
    out = []
    for other in live.of_kind("BackupStorageLocation", ns):
        addr = Address.of(other)
        change = changes.get(addr)
        if addr == want or not _marked(other) or addr in desired.objects:
            continue  # the policy's own locations are set as the policy says
        if change is not None and change.action is Action.DELETE:
            continue
        whose = "not in the policy"
        theirs = parse_time(other["metadata"].get("creationTimestamp"))
        if not fresh and (created is None or theirs is None or theirs >= created):
            out.append(f"{addr} ({whose}) is marked default too and was created after {want}: Velero keeps the "
                       f"most recently created default and will clear {want}'s flag, so apply will fail; "
                       f"unmark {addr.name} (spec.default: false) first")
        else:
            out.append(f"{addr} ({whose}) is marked default too: Velero keeps the most recently created default, "
                       f"{want}, and will set {addr.name}'s spec.default to false")
    return out

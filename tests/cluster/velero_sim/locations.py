"""BackupStorageLocation controller: one default location, and Available/Unavailable from a real look at
the bucket with the location's own config and credentials (pkg/controller/backup_storage_location_controller.go)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

from .context import DEFAULT_VALIDATION_FREQUENCY, Context
from .kube import BSL
from .objectstore import StorageError
from .times import parse_duration, parse_time, rfc3339


def _frequency(bsl: dict) -> timedelta:
    text = (bsl.get("spec") or {}).get("validationFrequency")
    if not text:
        return DEFAULT_VALIDATION_FREQUENCY
    try:
        freq = parse_duration(text)
    except ValueError:
        return DEFAULT_VALIDATION_FREQUENCY
    return DEFAULT_VALIDATION_FREQUENCY if freq < timedelta(0) else freq


def _spec_key(bsl: dict) -> str:
    return json.dumps(bsl.get("spec") or {}, sort_keys=True)


class LocationController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._validated_spec: dict[str, str] = {}  # uid -> spec last validated (spec edits revalidate)

    def reconcile(self) -> None:
        locations = self.ctx.kube.list(BSL)
        self._ensure_single_default(locations)
        for bsl in self.ctx.kube.list(BSL):
            if self._ready_to_validate(bsl):
                self.validate(bsl)

    def _ensure_single_default(self, locations: list[dict]) -> None:
        defaults = [b for b in locations if (b.get("spec") or {}).get("default")]
        if len(defaults) <= 1:
            return
        # backup_storage_location_controller.go ensureSingleDefaultBSL: the most recently created default
        # keeps the flag, the others are Updated to false. Velero breaks a tie of creation seconds by its
        # cache's list order (undefined); here the greater name wins.
        keep = max(defaults, key=lambda b: (b["metadata"].get("creationTimestamp", ""), b["metadata"]["name"]))
        for bsl in defaults:
            if bsl is not keep:
                updated = copy.deepcopy(bsl)
                updated["spec"]["default"] = False
                self.ctx.kube.replace(BSL, updated)

    def _ready_to_validate(self, bsl: dict) -> bool:
        status = bsl.get("status") or {}
        uid = bsl["metadata"].get("uid", bsl["metadata"]["name"])
        if "lastValidationTime" not in status:
            return True
        if self._validated_spec.get(uid) != _spec_key(bsl):
            return True  # a spec change is reconciled at once (SpecChangePredicate)
        freq = _frequency(bsl)
        if freq == timedelta(0):
            return False
        return self.ctx.now >= parse_time(status["lastValidationTime"]) + freq

    def validate(self, bsl: dict) -> None:
        name = bsl["metadata"]["name"]
        error = ""
        try:
            self.ctx.backup_store(bsl).is_valid()
        except StorageError as err:
            error = f'BackupStorageLocation "{name}" is unavailable: {err}'
        status = {k: v for k, v in (bsl.get("status") or {}).items() if k != "message"}
        status["phase"] = "Unavailable" if error else "Available"
        if error:
            status["message"] = error
        status["lastValidationTime"] = rfc3339(self.ctx.now)
        if self.ctx.kube.write_status(BSL, bsl, status) is not None:
            self._validated_spec[bsl["metadata"].get("uid", name)] = _spec_key(bsl)


def is_available(bsl: dict | None) -> bool:
    return bool(bsl) and (bsl.get("status") or {}).get("phase") == "Available"


def next_validation(bsl: dict) -> datetime | None:
    status = bsl.get("status") or {}
    if "lastValidationTime" not in status or _frequency(bsl) == timedelta(0):
        return None
    return parse_time(status["lastValidationTime"]) + _frequency(bsl)

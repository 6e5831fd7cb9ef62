"""ServerStatusRequest controller: `velero version` and `velero plugin get` ask the server through these
(pkg/controller/server_status_request_controller.go). Answered once, deleted a minute later."""
from __future__ import annotations

import copy
from datetime import timedelta

from .context import Context
from .kube import GVR
from .times import parse_time, rfc3339

SERVER_STATUS_REQUEST: GVR = ("velero.io", "v1", "serverstatusrequests")
SERVER_VERSION = "v1.16.2"
TTL = timedelta(minutes=1)
# A few of Velero's built-in plugins and the ones the aws plugin registers.
PLUGINS = (
    {"kind": "BackupItemAction", "name": "velero.io/pod"},
    {"kind": "BackupItemAction", "name": "velero.io/pv"},
    {"kind": "BackupItemAction", "name": "velero.io/service-account"},
    {"kind": "ObjectStore", "name": "velero.io/aws"},
    {"kind": "RestoreItemAction", "name": "velero.io/pod"},
    {"kind": "VolumeSnapshotter", "name": "velero.io/aws"},
)


class StatusRequestController:
    def __init__(self, ctx: Context, version: str = SERVER_VERSION) -> None:
        self.ctx = ctx
        self.version = version

    def reconcile(self) -> None:
        kube, now = self.ctx.kube, self.ctx.now
        for request in kube.list(SERVER_STATUS_REQUEST):
            status = request.get("status") or {}
            if status.get("phase", "New") == "New":
                kube.write_status(SERVER_STATUS_REQUEST, request, {
                    "phase": "Processed", "serverVersion": self.version, "processedTimestamp": rfc3339(now),
                    "plugins": copy.deepcopy(list(PLUGINS))})
            elif status.get("processedTimestamp") and parse_time(status["processedTimestamp"]) + TTL <= now:
                kube.delete(SERVER_STATUS_REQUEST, request["metadata"]["name"])

"""The honest floor: the fastest plain way in Python to see what snapplan sees. Lists every kind snapplan
reads, once, with the official `kubernetes` client, raw (no model deserialization: the body is json.loads-ed),
with Python's cyclic GC paused for the whole run (as snapplan pauses it while it parses: with the GC on, the
collector's passes over 100k parsed objects alone double the CPU time), and keeps the lists. Nothing else.

Run as a process of its own so its time and peak RSS compare with `snapplan plan`'s:
`python -m bench.floor [--typed] KUBECONFIG NAMESPACE` prints the number of objects read.

The default goes through ApiClient.call_api, the client's own raw path. `--typed` uses the generated API
classes (CoreV1Api, CustomObjectsApi, ...) with `_preload_content=False`: the same requests, but importing
those classes costs about a second with kubernetes 37, so it is reported for information, not as the floor.
"""
from __future__ import annotations

import gc
import json
import sys

# The kinds engine.state.kube.READS lists, in its order (bench/run.py checks they agree).
KINDS = ("Namespace", "Secret", "Deployment", "DaemonSet", "BackupStorageLocation", "VolumeSnapshotLocation",
         "Schedule", "Backup", "Restore")
VELERO = {"BackupStorageLocation": "backupstoragelocations", "VolumeSnapshotLocation": "volumesnapshotlocations",
          "Schedule": "schedules", "Backup": "backups", "Restore": "restores"}


def paths(namespace: str) -> dict[str, str]:
    return {"Namespace": "/api/v1/namespaces", "Secret": f"/api/v1/namespaces/{namespace}/secrets",
            "Deployment": f"/apis/apps/v1/namespaces/{namespace}/deployments",
            "DaemonSet": f"/apis/apps/v1/namespaces/{namespace}/daemonsets",
            **{kind: f"/apis/velero.io/v1/namespaces/{namespace}/{plural}" for kind, plural in VELERO.items()}}


def read_raw(api, namespace: str) -> dict[str, list]:
    out = {}
    for kind, path in paths(namespace).items():
        method, url, headers, body, post = api.param_serialize(
            "GET", path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        out[kind] = json.loads(api.call_api(method, url, header_params=headers).read())["items"]
    return out


def read_typed(api, namespace: str) -> dict[str, list]:
    from kubernetes import client

    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    calls = {
        "Namespace": lambda: core.list_namespace(_preload_content=False),
        "Secret": lambda: core.list_namespaced_secret(namespace, _preload_content=False),
        "Deployment": lambda: apps.list_namespaced_deployment(namespace, _preload_content=False),
        "DaemonSet": lambda: apps.list_namespaced_daemon_set(namespace, _preload_content=False),
        **{kind: (lambda plural=plural: custom.list_namespaced_custom_object(
            "velero.io", "v1", namespace, plural, _preload_content=False)) for kind, plural in VELERO.items()},
    }
    return {kind: json.loads(calls[kind]().data)["items"] for kind in KINDS}


def main(argv: list[str]) -> int:
    gc.disable()
    typed = argv[:1] == ["--typed"]
    kubeconfig, namespace = argv[1:] if typed else argv
    from kubernetes import config

    api = config.new_client_from_config(kubeconfig)
    try:
        lists = (read_typed if typed else read_raw)(api, namespace)
    finally:
        api.close()
    print(sum(len(items) for items in lists.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Builders for the objects a test (or `serve`) puts in the cluster around the simulator: what
`velero install` creates, credentials Secrets, and minimal Velero objects. Plain dicts, API form."""
from __future__ import annotations

import base64

VELERO_IMAGE = "velero/velero:v1.16.2"
AWS_PLUGIN_IMAGE = "velero/velero-plugin-for-aws:v1.12.2"


def namespace(name: str, labels: dict[str, str] | None = None) -> dict:
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def credentials_secret(name: str, credentials_file: str, key: str = "cloud") -> dict:
    """A Secret holding an AWS shared-credentials file, as `velero install --secret-file` makes it."""
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": name},
        "data": {key: base64.b64encode(credentials_file.encode()).decode()},
    }


def velero_deployment(namespace: str = "velero", image: str = VELERO_IMAGE,
                      plugin_image: str = AWS_PLUGIN_IMAGE) -> dict:
    """The velero Deployment as `velero install --provider aws --plugins <plugin>` leaves it."""
    labels = {"component": "velero", "deploy": "velero"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "velero", "namespace": namespace, "labels": {"component": "velero"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"deploy": "velero"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "velero",
                    "initContainers": [{
                        "name": "velero-" + plugin_image.rsplit("/", 1)[-1].split(":")[0],
                        "image": plugin_image,
                        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
                    }],
                    "containers": [{
                        "name": "velero",
                        "image": image,
                        "command": ["/velero"],
                        "args": ["server", "--features=", "--uploader-type=kopia"],
                        "env": [
                            {"name": "VELERO_SCRATCH_DIR", "value": "/scratch"},
                            {"name": "VELERO_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                            {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/credentials/cloud"},
                        ],
                        "volumeMounts": [{"mountPath": "/plugins", "name": "plugins"},
                                         {"mountPath": "/scratch", "name": "scratch"},
                                         {"mountPath": "/credentials", "name": "cloud-credentials"}],
                    }],
                    "volumes": [{"name": "plugins", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}},
                                {"name": "cloud-credentials", "secret": {"secretName": "cloud-credentials"}}],
                },
            },
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1},
    }


def storage_location(
    name: str,
    bucket: str,
    *,
    s3_url: str | None = None,
    region: str | None = "us-east-1",
    prefix: str | None = None,
    credential: tuple[str, str] | None = None,
    default: bool = False,
    path_style: bool = True,
    access_mode: str | None = None,
    validation_frequency: str | None = None,
    sync_period: str | None = None,
) -> dict:
    config: dict[str, str] = {}
    if region:
        config["region"] = region
    if s3_url:
        config["s3Url"] = s3_url
    if path_style:
        config["s3ForcePathStyle"] = "true"
    object_storage: dict = {"bucket": bucket}
    if prefix:
        object_storage["prefix"] = prefix
    spec: dict = {"provider": "aws", "objectStorage": object_storage, "config": config}
    if default:
        spec["default"] = True
    if credential:
        spec["credential"] = {"name": credential[0], "key": credential[1]}
    if access_mode:
        spec["accessMode"] = access_mode
    if validation_frequency:
        spec["validationFrequency"] = validation_frequency
    if sync_period:
        spec["backupSyncPeriod"] = sync_period
    return {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": name}, "spec": spec}


def schedule(
    name: str,
    cron: str,
    *,
    ttl: str | None = None,
    included_namespaces: list[str] | None = None,
    storage_location: str | None = None,
    labels: dict[str, str] | None = None,
    template_labels: dict[str, str] | None = None,
    paused: bool | None = None,
    skip_immediately: bool | None = None,
) -> dict:
    template: dict = {}
    if ttl:
        template["ttl"] = ttl
    if included_namespaces is not None:
        template["includedNamespaces"] = list(included_namespaces)
    if storage_location:
        template["storageLocation"] = storage_location
    if template_labels is not None:
        template["metadata"] = {"labels": dict(template_labels)}
    spec: dict = {"schedule": cron, "template": template}
    if paused is not None:
        spec["paused"] = paused
    if skip_immediately is not None:
        spec["skipImmediately"] = skip_immediately
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": meta, "spec": spec}


def backup(name: str, *, storage_location: str | None = None, included_namespaces: list[str] | None = None,
           ttl: str | None = None) -> dict:
    spec: dict = {}
    if storage_location:
        spec["storageLocation"] = storage_location
    if included_namespaces is not None:
        spec["includedNamespaces"] = list(included_namespaces)
    if ttl:
        spec["ttl"] = ttl
    return {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": name}, "spec": spec}


def restore(name: str, *, schedule_name: str | None = None, backup_name: str | None = None,
            namespace_mapping: dict[str, str] | None = None, included_namespaces: list[str] | None = None) -> dict:
    spec: dict = {}
    if schedule_name:
        spec["scheduleName"] = schedule_name
    if backup_name:
        spec["backupName"] = backup_name
    if namespace_mapping:
        spec["namespaceMapping"] = dict(namespace_mapping)
    if included_namespaces is not None:
        spec["includedNamespaces"] = list(included_namespaces)
    return {"apiVersion": "velero.io/v1", "kind": "Restore", "metadata": {"name": name}, "spec": spec}


def delete_backup_request(name: str, backup_name: str) -> dict:
    return {"apiVersion": "velero.io/v1", "kind": "DeleteBackupRequest", "metadata": {"name": name},
            "spec": {"backupName": backup_name}}

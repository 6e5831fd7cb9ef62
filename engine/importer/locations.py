"""BackupStorageLocations and VolumeSnapshotLocations back to `storage` and `snapshotLocations` entries.

Each function returns the entry, or None when the policy language cannot describe the object (with a
note saying why). Fields the policy has no word for are left out: the plan never compares them, so the
cluster keeps them as they are.
"""
from __future__ import annotations

import base64
import binascii

from engine.model.desired import LVP_MOUNT, PROTECT_ANNOTATION
from engine.model.provider import PROVIDERS, SNAPSHOT_TYPES, STORAGE_TYPES, Provider
from engine.spec.policy import VSL_CONFIG_KEYS
_STORAGE_ORDER = ["type", "default", "bucket", "prefix", "region", "endpoint", "pathStyle", "caFile", "caCertRef",
                  "resourceGroup",
                  "storageAccount", "subscriptionId", "server", "path", "storageSize", "storageClassName",
                  "accessMode", "protect", "credentials", "config"]
# backupSyncPeriod is one Velero fills in itself: not worth a note
_BSL_SPEC_KEYS = {"provider", "objectStorage", "config", "credential", "default", "accessMode", "backupSyncPeriod"}
_OBJECT_STORAGE_KEYS = {"bucket", "prefix", "caCert", "caCertRef"}
CA_TYPES = ("aws", "s3-compatible", "azure")  # the aws plugin and Velero's azure code read a CA bundle


def storage_entry(obj: dict, note, files: dict[str, bytes]) -> dict | None:
    """One BSL as a storage entry; `note(message)` records what the reader should know."""
    name = obj["metadata"]["name"]
    spec = obj.get("spec") or {}
    provider = spec.get("provider", "")
    config = {str(k): str(v) for k, v in (spec.get("config") or {}).items()}
    kind = STORAGE_TYPES.get(Provider.of(provider))  # gcp is velero.io/gcp, as Velero reads it
    if kind is None:
        note(_unknown_provider(provider, sorted(set(PROVIDERS.values()))))
        return None
    if kind == "aws" and "s3Url" in config:
        kind = "s3-compatible"
    store = spec.get("objectStorage") or {}
    entry: dict = {"type": kind}
    if spec.get("default") is True:
        entry["default"] = True
    bucket, prefix = store.get("bucket"), store.get("prefix")
    if kind in ("hostpath", "nfs", "pvc"):
        if bucket and bucket != name:
            entry["bucket"] = bucket
    elif bucket:
        entry["bucket"] = bucket
    else:
        note("not imported: spec.objectStorage.bucket is not set")
        return None
    if prefix:
        entry["prefix"] = prefix
    if spec.get("accessMode") == "ReadOnly":
        entry["accessMode"] = "ReadOnly"
    if (obj["metadata"].get("annotations") or {}).get(PROTECT_ANNOTATION) == "true":
        entry["protect"] = True
    if not _type_fields(kind, name, entry, config, store, note, files):
        return None
    if kind in CA_TYPES and store.get("caCert"):
        ca = _ca_file(name, store["caCert"], note, files)
        if ca:
            entry["caFile"] = ca
    ref = store.get("caCertRef") or {}
    if kind in CA_TYPES and ref.get("name") and ref.get("key"):
        entry["caCertRef"] = {"name": ref["name"], "key": ref["key"]}
    credential = spec.get("credential") or {}
    if credential.get("name"):
        if kind in ("hostpath", "nfs", "pvc"):
            note(f"spec.credential (Secret {credential['name']!r}) is kept as it is: {kind} storage takes no "
                 "credentials in a policy")
        else:
            entry["credentials"] = {"secretRef": _secret_ref(credential)}
    if config:
        entry["config"] = dict(sorted(config.items()))
    kept = sorted(f"spec.{k}" for k in spec if k not in _BSL_SPEC_KEYS)
    kept += sorted(f"spec.objectStorage.{k}" for k in store if k not in _OBJECT_STORAGE_KEYS)
    kept += [f"spec.objectStorage.{k}" for k in ("caCert", "caCertRef") if k in store and kind not in CA_TYPES]
    if kept:
        note(f"kept as in the cluster (the policy has no field for them): {', '.join(kept)}")
    return {k: entry[k] for k in sorted(entry, key=_STORAGE_ORDER.index)}


def _type_fields(kind: str, name: str, entry: dict, config: dict, store: dict, note, files) -> bool:
    """Move the type's own config keys into entry fields; False when a required one is missing."""
    if kind in ("aws", "s3-compatible"):
        region = config.pop("region", None)
        if kind == "s3-compatible":
            entry["endpoint"] = config.pop("s3Url")
            if region is None:
                note("config.region is not set; snapplan writes us-east-1 (the s3-compatible default), "
                     "so the plan shows it as an addition")
            elif region != "us-east-1":
                entry["region"] = region
            if config.get("s3ForcePathStyle") == "true":
                del config["s3ForcePathStyle"]
            else:
                entry["pathStyle"] = False
        elif region is None:
            note("config.region is not set (the aws plugin asks the bucket); a policy names it, so this one "
                 "says us-east-1: correct it, or the plan shows it as an addition")
            entry["region"] = "us-east-1"
        else:
            entry["region"] = region
        return True
    if kind == "azure":
        # pkg/util/azure/storage.go NewStorageClient: storageAccount is required; the resource group only to
        # fetch the access key, and it may come from the credentials file
        for key in ("resourceGroup", "storageAccount", "subscriptionId"):
            if key in config:
                entry[key] = config.pop(key)
        if "storageAccount" not in entry:
            note("not imported: azure storage needs config.storageAccount")
            return False
        return True
    if kind == "gcp":
        return True
    needed = {"hostpath": ("path",), "nfs": ("server", "path"), "pvc": ("storageSize",)}[kind]
    missing = [k for k in needed if k not in config]
    if missing:
        note(f"not imported: {kind} storage needs config.{' and config.'.join(missing)}")
        return False
    for key in needed + (("storageClassName",) if kind == "pvc" else ()):
        if key in config:
            entry[key] = config.pop(key)
    root = "/".join(p for p in (LVP_MOUNT, entry.get("bucket", name), entry.get("prefix")) if p)
    if config.get("resticRepoPrefix") == f"{root}/restic":
        del config["resticRepoPrefix"]
    elif "resticRepoPrefix" not in config:
        note(f"config.resticRepoPrefix is not set; snapplan writes {root}/restic, so the plan shows it "
             "as an addition")
    return True


def _ca_file(name: str, encoded: str, note, files: dict[str, bytes]) -> str | None:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        note("spec.objectStorage.caCert is not valid base64; it is kept as it is and not in the policy")
        return None
    filename = f"{name}-ca.pem"
    files[filename] = data
    return f"./{filename}"


def snapshot_entry(obj: dict, note) -> dict | None:
    spec = obj.get("spec") or {}
    provider = spec.get("provider", "")
    kind = SNAPSHOT_TYPES.get(Provider.of(provider))
    if kind is None:
        note(_unknown_provider(provider, ["aws", "velero.io/azure", "velero.io/gcp"]))
        return None
    entry: dict = {"type": kind}
    config = {str(k): str(v) for k, v in (spec.get("config") or {}).items()}
    invalid = sorted(k for k in config if k not in VSL_CONFIG_KEYS[kind])
    if invalid:
        note(f"not imported: config {', '.join(invalid)} is not one the {kind} plugin accepts "
             f"({', '.join(VSL_CONFIG_KEYS[kind])}), so Velero fails its volume snapshots; correct it in the cluster")
        return None
    if kind == "aws" and "region" in config:  # region is an aws key; gcp and azure have none
        entry["region"] = config.pop("region")
    credential = spec.get("credential") or {}
    if credential.get("name"):
        entry["credentials"] = {"secretRef": _secret_ref(credential)}
    if config:
        entry["config"] = dict(sorted(config.items()))
    kept = sorted(f"spec.{k}" for k in spec if k not in ("provider", "config", "credential"))
    if kept:
        note(f"kept as in the cluster (the policy has no field for them): {', '.join(kept)}")
    return entry


def _secret_ref(credential: dict) -> dict:
    ref = {"name": credential["name"]}
    if credential.get("key", "cloud") != "cloud":
        ref["key"] = credential["key"]
    return ref


def _unknown_provider(provider: str, known: list[str]) -> str:
    return (f"not imported: provider {provider!r} is not one snapplan writes ({', '.join(known)}); "
            "the object stays as it is, unmanaged")

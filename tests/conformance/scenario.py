"""What the conformance scenarios share: a policy for the real cluster's moto, the CLI, and an app to back up."""
from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from tests.helpers import run_cli, write

NAMESPACES = ("", "v1", "namespaces")
CONFIGMAPS = ("", "v1", "configmaps")
SECRETS = ("", "v1", "secrets")
SERVICES = ("", "v1", "services")
BSL = ("velero.io", "v1", "backupstoragelocations")
SCHEDULE = ("velero.io", "v1", "schedules")
BACKUP = ("velero.io", "v1", "backups")
RESTORE = ("velero.io", "v1", "restores")
DBR = ("velero.io", "v1", "deletebackuprequests")
ENV = {"CONF_ACCESS_KEY": "", "CONF_SECRET_KEY": ""}


def policy(tmp_path: Path, real, app_ns: str, *, extra: str = "", primary_prefix: str = "primary",
           default: str = "primary", nightly: str = "", secondary_secret: str | None = None) -> Path:
    """Two s3-compatible locations in the test's bucket (one with `cloud-credentials`, one with its own user
    from environment variables), the app `shop`, and a nightly schedule of it."""
    return write(tmp_path / "policy.yaml", f"""\
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: conformance}}
apps:
  shop: {{namespaces: [{app_ns}]}}
storage:
  primary:
    type: s3-compatible
    default: {str(default == "primary").lower()}
    bucket: {real.bucket}
    prefix: {primary_prefix}
    endpoint: {real.s3.url}
    region: us-east-1
    credentials: {{secretRef: {{name: {real.secret_name}, key: cloud}}}}
  secondary:
    type: s3-compatible
    default: {str(default == "secondary").lower()}
    bucket: {real.bucket}
    prefix: secondary
    endpoint: {real.s3.url}
    region: us-east-1
    credentials: {{env: {{accessKeyId: CONF_ACCESS_KEY, secretAccessKey: CONF_SECRET_KEY}}}}
schedules:
  nightly:
    scope: application
    app: shop
    schedule: "0 3 * * *"
    retention: 7d
{nightly}{extra}""")


def env_for(real, *, secret: str | None = None) -> dict[str, str]:
    """The environment the secondary location's credentials come from (its own moto user), and Velero's own
    credentials for the storage check of `secretRef: cloud-credentials` (snapplan does not read Secrets back
    from the cluster; it tells the user to export the credentials Velero uses, as done here)."""
    creds, velero = real.s3.create_credentials(), real.credentials
    return {"CONF_ACCESS_KEY": creds.access_key_id, "CONF_SECRET_KEY": secret or creds.secret_access_key,
            "AWS_ACCESS_KEY_ID": velero.access_key_id, "AWS_SECRET_ACCESS_KEY": velero.secret_access_key}


def cli(capsys, monkeypatch, *args: str, env: dict | None = None):
    return run_cli(list(args), capsys, monkeypatch, env=env)


def make_app(store, name: str | None = None) -> str:
    """A namespace holding a ConfigMap, a Secret and a Service: what restores without kube-controller-manager,
    scheduler or kubelet (no Pods run here)."""
    ns = name or f"shop-{uuid.uuid4().hex[:6]}"
    store.create(NAMESPACES, None, {"metadata": {"name": ns}})
    store.create(CONFIGMAPS, ns, {"metadata": {"name": "settings"}, "data": {"colour": "teal"}})
    store.create(SECRETS, ns, {"metadata": {"name": "db"}, "type": "Opaque",
                               "data": {"password": base64.b64encode(b"hunter2").decode()}})
    store.create(SERVICES, ns, {"metadata": {"name": "web"},
                                "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "web"}}})
    return ns


SECRET_CACHE_RACE = "unable to get credentials: unable to get key for secret"


def xfail_on_secret_cache_race(res) -> None:
    """Real Velero reads a location's credential Secret through its informer cache: a Secret created just
    before the location can be missing from the cache at the first validation, which then says Unavailable
    ("Secret ... not found") until the next one (validationFrequency later). snapplan's wait fails the apply on
    that first answer; see tests/conformance/RESULTS.md. Called after an apply that should succeed."""
    if res.code != 0 and SECRET_CACHE_RACE in res.out + res.err:
        pytest.xfail("Velero validated the location before its informer cache had the new credential Secret; "
                     "snapplan's wait takes that first Unavailable as final (RESULTS.md)")

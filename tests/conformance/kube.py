"""A few REST calls to the real kube-apiserver for setting it up (CRDs, namespaces, the velero Deployment and
its status) and for tests' assertions; plain requests so what is sent is exactly what is shown here."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import requests

GROUPS = {"": "/api/v1", "apps": "/apis/apps/v1", "velero.io": "/apis/velero.io/v1",
          "apiextensions.k8s.io": "/apis/apiextensions.k8s.io/v1", "coordination.k8s.io": "/apis/coordination.k8s.io/v1"}


@dataclass
class Kube:
    url: str
    token: str
    ca_file: Path

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.verify = str(self.ca_file)
        # Else REQUESTS_CA_BUNDLE from the environment would win over `verify` (requests issue #3829).
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def path(self, group: str, resource: str, namespace: str | None = None, name: str | None = None) -> str:
        ns = f"/namespaces/{namespace}" if namespace else ""
        return f"{self.url}{GROUPS[group]}{ns}/{resource}" + (f"/{name}" if name else "")

    def request(self, method: str, url: str, body: dict | None = None, ok: tuple[int, ...] = (200, 201)) -> dict:
        for _ in range(30):
            response = self.session.request(method, url, json=body, timeout=30)
            # A CRD's storage answers 429 "storage is (re)initializing" for a moment after it is Established.
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if response.status_code not in ok:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def create(self, group: str, resource: str, namespace: str | None, obj: dict) -> dict:
        return self.request("POST", self.path(group, resource, namespace), obj)

    def get(self, group: str, resource: str, namespace: str | None, name: str) -> dict | None:
        response = self.session.get(self.path(group, resource, namespace, name), timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def list(self, group: str, resource: str, namespace: str | None = None) -> list[dict]:
        return self.request("GET", self.path(group, resource, namespace))["items"]

    def delete(self, group: str, resource: str, namespace: str | None, name: str) -> None:
        self.request("DELETE", self.path(group, resource, namespace, name), ok=(200, 202, 404))

    def replace_status(self, group: str, resource: str, namespace: str, obj: dict) -> dict:
        url = self.path(group, resource, namespace, obj["metadata"]["name"]) + "/status"
        return self.request("PUT", url, obj)

    def wait_established(self, crd_names: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        pending = set(crd_names)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                crd = self.get("apiextensions.k8s.io", "customresourcedefinitions", None, name) or {}
                conditions = {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions", [])}
                if conditions.get("Established") == "True":
                    pending.discard(name)
            time.sleep(0.2)
        if pending:
            raise RuntimeError(f"CRDs not Established after {timeout:.0f}s: {sorted(pending)}")
        for name in crd_names:  # and served: LIST answers (else 429 while its storage initializes)
            plural, group = name.split(".", 1)
            version = "v2alpha1" if plural in ("datauploads", "datadownloads") else "v1"
            self.request("GET", f"{self.url}/apis/{group}/{version}/{plural}")

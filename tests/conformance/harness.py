"""The conformance cluster: etcd, kube-apiserver and `velero server` (with the aws plugin) as real processes on
loopback and random ports, Velero installed as `velero install` leaves it, and moto S3 with IAM auth on.

Start order is etcd, kube-apiserver, Velero's objects, moto, velero; stop() undoes it in reverse and is safe to
call twice or after a failed start. Every process logs to a file in the cluster's work folder.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import yaml

from tests.cluster.apiserver.bootstrap import velero_deployment
from tests.cluster.apiserver.tls import write_kubeconfig
from tests.cluster.s3 import MotoS3

from .binaries import ROOT, Binaries
from .kube import Kube
from .pki import make_files
from .processes import Process, free_port

VELERO_NS = "velero"
VELERO_IMAGE = "velero/velero:v1.17.1"
AWS_PLUGIN_IMAGE = "velero/velero-plugin-for-aws:v1.14.3"
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")


class RealCluster:
    """Use as a context manager, or start()/stop(). `kubeconfig` is what kubectl and snapplan read."""

    def __init__(self, binaries: Binaries | None = None, *, s3: MotoS3 | None = None, workdir: Path | None = None,
                 sync_period: str = "5s", validation_frequency: str = "5s", keep: bool = False) -> None:
        self.binaries = binaries or Binaries.default()
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="snapplan-conformance-"))
        self.sync_period, self.validation_frequency, self.keep = sync_period, validation_frequency, keep
        self.processes: list[Process] = []
        # moto keeps its state in process globals: tests share the session's server (tests/cluster/s3_fixtures.py)
        # and call refresh_credentials() after each reset; `serve` starts its own.
        self.s3: MotoS3 | None = s3
        self._own_s3 = s3 is None
        self.velero: Process | None = None
        self.url = ""
        self.kubeconfig = self.workdir / "kubeconfig"

    # ----- lifecycle
    def __enter__(self) -> RealCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RealCluster:
        missing = self.binaries.missing()
        if missing:
            raise RuntimeError(f"not built: {', '.join(missing)} (run `make conformance-build`)")
        try:
            self._start_etcd()
            self._start_apiserver()
            self._install_velero_objects()
            if self.s3 is None:
                self.s3 = MotoS3.start()
            self.refresh_credentials()
            self.start_velero()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.s3 is not None and self._own_s3:
            self.s3.stop()
            self.s3 = None
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ----- etcd and kube-apiserver
    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        etcd = self._spawn("etcd", [
            str(self.binaries.etcd), "--name", "conformance", "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer}", "--initial-cluster", f"conformance=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync", "--log-level", "warn"])
        etcd.wait_until(lambda: requests.get(f"{self.etcd_url}/health", timeout=2).json().get("health") == "true",
                        60, "healthy")

    def _start_apiserver(self) -> None:
        files = make_files(self.workdir / "pki")
        self.token, self.ca_pem = files.token, files.ca_pem
        ca_file = self.workdir / "pki" / "ca.crt"
        ca_file.write_bytes(files.ca_pem)
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        api = self._spawn("kube-apiserver", [
            str(self.binaries.kube_apiserver), "--etcd-servers", self.etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(port),
            "--tls-cert-file", str(files.cert), "--tls-private-key-file", str(files.key),
            "--token-auth-file", str(files.token_file), "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(files.sa_public),
            "--service-account-signing-key-file", str(files.sa_private),
            "--service-cluster-ip-range", "10.96.0.0/24",
            # No kube-controller-manager runs: the kubernetes Service's endpoints (a loopback address, which
            # Endpoints validation refuses) are not reconciled either.
            "--endpoint-reconciler-type", "none",
            "--cert-dir", str(self.workdir / "pki"), "--v", "1"])
        self.kube = Kube(self.url, self.token, ca_file)
        api.wait_until(lambda: self.kube.session.get(f"{self.url}/readyz", timeout=5).status_code == 200,
                       180, "ready")
        write_kubeconfig(self.kubeconfig, self.url, self.token)
        # Our kubeconfig names the CA this cluster made, not the test cluster's process-wide one.
        doc = yaml.safe_load(self.kubeconfig.read_text())
        doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        self.kubeconfig.write_text(yaml.safe_dump(doc, sort_keys=False))

    # ----- what `velero install` leaves behind
    def _install_velero_objects(self) -> None:
        names = []
        for path in sorted((ROOT / "engine" / "crds").glob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            crd["metadata"].setdefault("labels", {})["component"] = "velero"
            self.kube.create(*CRDS, None, crd)
            names.append(crd["metadata"]["name"])
        names += self._install_missing_crds(set(names))
        self.kube.wait_established(names)
        self.kube.create("", "namespaces", None, {"metadata": {"name": VELERO_NS, "labels": {"component": "velero"}}})
        deployment = velero_deployment(VELERO_NS)
        pod = deployment["spec"]["template"]["spec"]
        pod["initContainers"][0]["image"] = AWS_PLUGIN_IMAGE
        pod["containers"][0]["image"] = VELERO_IMAGE
        created = self.kube.create("apps", "deployments", VELERO_NS, deployment)
        # No controller rolls it out; velero runs beside the cluster, so say what a kubelet would: 1/1 ready.
        created["status"] = {"observedGeneration": created["metadata"].get("generation", 1), "replicas": 1,
                             "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}
        self.kube.replace_status("apps", "deployments", VELERO_NS, created)

    def _install_missing_crds(self, have: set[str]) -> list[str]:
        """The CRDs the velero server requires that engine/crds does not carry (its v2alpha1 kinds, ...),
        taken from the velero binary itself (`velero install --crds-only --dry-run`)."""
        out = subprocess.run([str(self.binaries.velero), "install", "--crds-only", "--dry-run", "-o", "json"],
                             capture_output=True, text=True, check=True, timeout=120).stdout
        added = []
        for item in json.loads(out)["items"]:
            if item.get("kind") == "CustomResourceDefinition" and item["metadata"]["name"] not in have:
                item.pop("status", None)
                self.kube.create(*CRDS, None, item)
                added.append(item["metadata"]["name"])
        return added

    def refresh_credentials(self) -> None:
        """A moto user for Velero, in the `cloud-credentials` Secret (`velero install --secret-file`) and in the
        file the Deployment would mount for the process (AWS_SHARED_CREDENTIALS_FILE). Call after a moto reset."""
        assert self.s3 is not None
        self.velero_credentials = self.s3.create_credentials()
        text = self.velero_credentials.shared_credentials_file()
        secret = {"metadata": {"name": "cloud-credentials", "labels": {"component": "velero"}}, "type": "Opaque",
                  "data": {"cloud": base64.b64encode(text.encode()).decode()}}
        if self.kube.get("", "secrets", VELERO_NS, "cloud-credentials") is None:
            self.kube.create("", "secrets", VELERO_NS, secret)
        else:
            self.kube.request("PUT", self.kube.path("", "secrets", VELERO_NS, "cloud-credentials"), secret)
        self.credentials_file = self.workdir / "credentials" / "cloud"
        self.credentials_file.parent.mkdir(parents=True, exist_ok=True)
        self.credentials_file.write_text(text)
        self.credentials_file.chmod(0o600)

    # ----- velero server
    def start_velero(self, *extra: str) -> Process:
        scratch = self.workdir / "scratch"
        scratch.mkdir(exist_ok=True)
        self.velero = self._spawn("velero", [
            str(self.binaries.velero), "server", "--kubeconfig", str(self.kubeconfig), "--namespace", VELERO_NS,
            "--plugin-dir", str(self.binaries.plugin_dir), "--features=", "--uploader-type=kopia",
            "--backup-sync-period", self.sync_period, "--store-validation-frequency", self.validation_frequency,
            "--metrics-address", f"127.0.0.1:{free_port()}", "--profiler-address", f"127.0.0.1:{free_port()}",
            "--log-level", "debug", *extra],
            env={"AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file), "VELERO_SCRATCH_DIR": str(scratch),
                 "VELERO_NAMESPACE": VELERO_NS})
        self.velero.wait_until(lambda: "Server starting..." in self.velero.log.read_text(errors="replace"),
                               180, "started")
        return self.velero

    def stop_velero(self) -> None:
        if self.velero is not None:
            self.velero.stop()
            self.processes.remove(self.velero)
            self.velero = None

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        process = Process(name, argv, logs / f"{name}.log", env)
        self.processes.append(process)
        return process

    def wait_for(self, predicate, timeout: float, what: str, pause: float = 0.5):
        """Poll predicate() until it returns something truthy (returned); on timeout, fail with velero's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(pause)
        tail = self.velero.tail(40) if self.velero else ""
        raise AssertionError(f"not {what} after {timeout:.0f}s; velero's log ends:\n{tail}")

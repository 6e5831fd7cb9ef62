"""`python -m tests.cluster serve`: the three lines it prints, a usable kubeconfig, S3, a clean interrupt."""
from __future__ import annotations

import base64
import configparser
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import boto3
from kubernetes import client, config
from tests.helpers import ctrl_c_as_a_terminal_sends

ROOT = Path(__file__).resolve().parents[2]


def test_serve_prints_api_s3_kubeconfig_and_stops_on_interrupt(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "test-kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "tests.cluster", "serve", "--port", "0", "--kubeconfig",
                             str(kubeconfig), "--bucket", "backups", "--speed", "10"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=ctrl_c_as_a_terminal_sends)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout.readline() for _ in range(3)))
    reader.start()
    reader.join(60)
    try:
        assert [line.split(":", 1)[0] for line in lines] == ["api", "s3", "kubeconfig"], proc.stderr
        api_url, s3_url = lines[0].split(": ", 1)[1].strip(), lines[1].split(": ", 1)[1].strip()
        assert api_url.startswith("https://127.0.0.1:") and s3_url.startswith("http://127.0.0.1:")
        assert lines[2].strip() == f"kubeconfig: {kubeconfig.resolve()}"

        api = config.new_client_from_config(str(kubeconfig))
        core = client.CoreV1Api(api)
        secret = core.read_namespaced_secret("cloud-credentials", "velero")
        ini = configparser.ConfigParser()
        ini.read_string(base64.b64decode(secret.data["cloud"]).decode())
        s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                          aws_access_key_id=ini["default"]["aws_access_key_id"],
                          aws_secret_access_key=ini["default"]["aws_secret_access_key"])
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["backups"]
        deployment = client.AppsV1Api(api).read_namespaced_deployment("velero", "velero")
        assert deployment.spec.template.spec.containers[0].image == "velero/velero:v1.16.2"
        api.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0

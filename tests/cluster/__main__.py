"""`python -m tests.cluster serve`: run the test cluster (API server, Velero simulator, S3) for people.

Prints `api: URL`, `s3: URL` and `kubeconfig: PATH`, one line each, then serves until interrupted.
"""
from __future__ import annotations

import argparse
import base64
import signal
import sys
import threading
from pathlib import Path

from .apiserver.cluster import Cluster
from .clock import RealClock

SECRETS = ("", "v1", "secrets")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the test cluster and run until interrupted")
    serve.add_argument("--port", type=int, default=0, help="API server port (0: a free one)")
    serve.add_argument("--kubeconfig", default="./test-kubeconfig", help="where to write the kubeconfig")
    serve.add_argument("--bucket", action="append", default=[], help="create this S3 bucket (repeatable)")
    serve.add_argument("--speed", type=float, default=1.0, help="the cluster clock runs N times faster")
    serve.add_argument("--no-velero", action="store_true", help="a cluster without Velero (no CRDs)")
    serve.add_argument("--token", help="bearer token (default: random)")
    return parser


def _install_credentials(cluster: Cluster, s3) -> None:
    """The `cloud-credentials` Secret `velero install --secret-file` creates, for an S3 user."""
    creds = s3.create_credentials("velero")
    data = base64.b64encode(creds.shared_credentials_file().encode()).decode()
    cluster.store.create(SECRETS, cluster.velero_namespace, {
        "metadata": {"name": "cloud-credentials", "labels": {"component": "velero"}},
        "type": "Opaque", "data": {"cloud": data}})


def serve(args: argparse.Namespace) -> int:
    from .s3 import MotoS3  # moto must be imported only when S3 starts (see s3.py)

    clock = RealClock(args.speed)
    cluster = Cluster(clock=clock, with_velero=not args.no_velero, port=args.port, token=args.token)
    s3 = MotoS3.start()
    try:
        for bucket in args.bucket:
            s3.create_bucket(bucket)
        if not args.no_velero:
            from .velero_sim import VeleroSimulator
            _install_credentials(cluster, s3)
            cluster.attach(VeleroSimulator(cluster.store, clock, s3.url))
        cluster.start()
        cluster.run_controllers(period=max(0.05, min(0.5, 0.5 / args.speed)))
        path = cluster.write_kubeconfig(Path(args.kubeconfig)).resolve()
        print(f"api: {cluster.url}", flush=True)
        print(f"s3: {s3.url}", flush=True)
        print(f"kubeconfig: {path}", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        cluster.stop()
        s3.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

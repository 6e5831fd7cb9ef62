"""`python -m tests.conformance serve`: run the real programs (etcd, kube-apiserver, velero + aws plugin) and
moto S3 for people. Prints `api: URL`, `s3: URL` and `kubeconfig: PATH`, then serves until interrupted."""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from pathlib import Path

from .binaries import VERSIONS
from .harness import RealCluster


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the real programs and run until interrupted")
    serve.add_argument("--kubeconfig", default="./test-kubeconfig", help="where to write the kubeconfig")
    serve.add_argument("--bucket", action="append", default=[], help="create this S3 bucket (repeatable)")
    serve.add_argument("--keep", action="store_true", help="keep the work folder (logs, etcd data) at exit")
    return parser


def serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with RealCluster(keep=args.keep) as cluster:
        assert cluster.s3 is not None
        for bucket in args.bucket:
            cluster.s3.create_bucket(bucket)
        path = Path(args.kubeconfig)
        shutil.copyfile(cluster.kubeconfig, path)
        path.chmod(0o600)
        print(f"api: {cluster.url}", flush=True)
        print(f"s3: {cluster.s3.url}", flush=True)
        print(f"kubeconfig: {path.resolve()}", flush=True)
        print(f"logs: {cluster.workdir / 'logs'}", flush=True)
        print("versions: " + "; ".join(VERSIONS.values()), file=sys.stderr, flush=True)
        stop.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return serve(args) if args.command == "serve" else 2


if __name__ == "__main__":
    sys.exit(main())

"""Shared test helpers: run the CLI in-process the way a user would, and build states that equal a policy."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HARNESS_ENV = {"MINIO_ACCESS_KEY": "AKIAFAKEMINIO0000001", "MINIO_SECRET_KEY": "fakeMinioSecretValue000001"}
NOW = "2026-11-25T08:00:00Z"
# The harness's `local` storage moved to another local-volume-provider type: a provider change, which
# replaces the location (the only change that does; bucket, prefix and config are updated in place).
HARNESS_LOCAL = "    type: hostpath              # internal storage via the local-volume-provider plugin\n" \
                "    path: /var/lib/snapshots\n"
HARNESS_LOCAL_ON_NFS = "    type: nfs\n    server: nfs.internal\n    path: /exports/snapshots\n"


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(args: list[str], capsys, monkeypatch, env: dict | None = None) -> Result:
    from engine.cli.app import main

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(sys, "argv", ["snapplan", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def applied_state(policy_path: Path, env: dict | None = None) -> dict:
    """A cluster-state document equal to what apply would write for this policy."""
    from engine.model import build_desired
    from engine.model.manifest import to_manifest
    from engine.spec import load_policy

    policy, _ = load_policy(policy_path, strict_sources=True, env=env or {})
    desired = build_desired(policy, env or {})
    items = []
    for i, d in enumerate(desired.objects.values()):
        obj = to_manifest(d)
        obj["metadata"].update({"resourceVersion": str(100 + i), "uid": f"uid-{i}"})
        items.append(obj)
    return {"apiVersion": "v1", "kind": "List", "items": items}


def dump_state(path: Path, doc: dict) -> Path:
    return write(path, yaml.safe_dump(doc, sort_keys=False))


def seed_backup(store, name: str, schedule: str | None, *, phase: str = "Completed",
                started: str = "2026-11-24T23:00:00Z", namespaces=("*",), namespace: str = "velero") -> dict:
    """A Backup as Velero leaves it, written straight into a test cluster's store."""
    labels = {"velero.io/schedule-name": schedule} if schedule else {}
    return store.create(("velero.io", "v1", "backups"), namespace, {
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "labels": labels},
        "spec": {"includedNamespaces": list(namespaces), "storageLocation": "primary", "ttl": "720h0m0s"},
        "status": {"phase": phase, "startTimestamp": started, "completionTimestamp": started,
                   "progress": {"totalItems": 10, "itemsBackedUp": 10}}})


def ctrl_c_as_a_terminal_sends() -> None:
    """Popen(preexec_fn=...) for a child that a test interrupts with SIGINT. A shell without job control starts
    background commands (CI steps among them) with SIGINT ignored, children inherit that, and Python then
    keeps ignoring it: the default action lets the child raise KeyboardInterrupt as it would at a terminal."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""No path deletes a Backup or an object snapplan does not manage, except `snapshots delete` (after the user
types the backup's name, or --yes), which asks Velero through a DeleteBackupRequest.

Dynamic: replace, prune, a policy that drops everything, and import + apply against 200 Backups and
unmanaged locations, schedules, a restore and a secret, counting before and after every step.
Static: every deleting call in engine/ is one of a short, reviewed list, reachable only as allowed.
"""
from __future__ import annotations

import ast
import random
import re
from collections import Counter

import typer.main

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import ROOT, run_cli, write
from tests.reliability.support import GVR, inventory, is_managed, objects

BACKUPS = 200
KINDS = ("Secret", "BackupStorageLocation", "Schedule", "Restore", "Backup")


def policy(*, main: bool = True, second: str | None = "second-bucket") -> str:
    """Storage main (a secretRef) with schedule daily and restore once; second (a credentials file, in bucket
    `second`) with schedule weekly. Without either, an empty policy."""
    storage, schedules, restores = [], [], []
    if main:
        storage.append("  main: {type: aws, default: true, bucket: main-bucket, region: us-east-1, "
                       "credentials: {secretRef: {name: cloud-credentials}}}")
        schedules.append("  daily: {scope: full, storage: main, schedule: daily}")
        restores.append("  once: {from: {backup: backup-001}, scope: full}")
    if second:
        storage.append(f"  second: {{type: aws, bucket: {second}, region: us-east-1, credentials: {{file: ./creds}}}}")
        schedules.append("  weekly: {scope: full, storage: second, schedule: weekly}")
    section = lambda name, lines: [f"{name}:" + ("" if lines else " {}"), *lines]  # noqa: E731
    return "\n".join(["apiVersion: snapplan/v1", "kind: BackupPolicy", "metadata: {name: safety}",
                      "veleroNamespace: velero", *section("storage", storage), *section("schedules", schedules),
                      *section("restores", restores)]) + "\n"


def seed(store) -> None:
    """200 Backups of managed and unmanaged schedules in every phase, and objects snapplan does not manage."""
    def velero(kind, name, spec):
        store.create(GVR[kind], "velero", {"apiVersion": "velero.io/v1", "kind": kind, "metadata": {"name": name},
                                           "spec": spec})
    velero("BackupStorageLocation", "legacy", {"provider": "aws", "objectStorage": {"bucket": "legacy-bucket"},
                                               "config": {"region": "us-east-1"}})
    velero("BackupStorageLocation", "hand-made", {"provider": "aws", "objectStorage": {"bucket": "theirs"},
                                                  "config": {"region": "eu-west-1"}})
    velero("Schedule", "legacy-nightly", {"schedule": "0 1 * * *", "template": {"storageLocation": "legacy"}})
    velero("Schedule", "uses-main", {"schedule": "0 2 * * *", "template": {"storageLocation": "main"}})
    velero("Restore", "old-restore", {"backupName": "backup-000"})
    store.create(GVR["Secret"], "velero", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "theirs"},
                                           "data": {"key": "dmFsdWU="}})
    rng = random.Random(7)
    for i in range(BACKUPS):
        schedule = rng.choice(["daily", "weekly", "legacy-nightly", "uses-main", None])
        location = {"daily": "main", "weekly": "second", "legacy-nightly": "legacy", "uses-main": "main"}.get(
            schedule, rng.choice(["main", "second", "legacy"]))
        phase = "Completed" if i < 10 else rng.choice(["Completed"] * 6 + ["Failed", "PartiallyFailed",
                                                                          "InProgress", "Deleting"])
        labels = {"velero.io/schedule-name": schedule} if schedule else {}
        store.create(GVR["Backup"], "velero", {
            "apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": f"backup-{i:03d}", "labels": labels},
            "spec": {"storageLocation": location, "ttl": "720h0m0s"},
            "status": {"phase": phase, "startTimestamp": f"2026-11-{1 + i % 24:02d}T01:00:00Z"}})


def unmanaged(store) -> dict[str, dict]:
    """Every object snapplan does not manage, whole (resourceVersion included: an untouched object keeps it)."""
    return {f"{k}/{o['metadata']['name']}": o for k in KINDS for o in objects(store, k) if not is_managed(o)}


def leaves(tree: dict, path: tuple = ()) -> dict:
    out = {}
    for key, value in tree.items():
        out.update(leaves(value, path + (key,)) if isinstance(value, dict) else {path + (key,): str(value)})
    return out


class Steps:
    def __init__(self, cluster, kubeconfig, tmp_path, capsys, monkeypatch):
        self.cluster, self.tmp_path, self.capsys, self.monkeypatch = cluster, tmp_path, capsys, monkeypatch
        self.kc = ["--kubeconfig", str(kubeconfig)]
        self.deletes: Counter = Counter()
        write(tmp_path / "creds", "[default]\naws_access_key_id=AKIAFAKE\naws_secret_access_key=fake\n")

    def apply(self, text: str, *extra: str, name: str = "policy.yaml"):
        path = write(self.tmp_path / name, text) if text else self.tmp_path / name
        before = self.cluster.requests.snapshot()
        res = run_cli(["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", str(path), *self.kc,
                       *extra], self.capsys, self.monkeypatch)
        after = self.cluster.requests.snapshot()
        self.deletes.update({k[1]: n - before.get(k, 0) for k, n in after.items()
                             if k[0] in ("delete", "deletecollection") and n > before.get(k, 0)})
        return res


def test_replace_prune_drop_everything_and_import_keep_every_backup_and_unmanaged_object(
        tmp_path, capsys, monkeypatch, figures):
    with Cluster() as cluster:
        seed(cluster.store)
        theirs = unmanaged(cluster.store)
        steps = Steps(cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path, capsys, monkeypatch)
        store = cluster.store
        backups = lambda: len(objects(store, "Backup"))  # noqa: E731
        counts = [("seeded", backups())]

        res = steps.apply(policy())
        assert res.code == 0 and "Apply complete! 6 added" in res.out, res.out + res.err
        counts.append(("apply", backups()))

        res = steps.apply(policy(second="second-bucket-v2"))  # bucket changed: -/+
        assert res.code == 0 and "bsl.second must be replaced" in res.err + res.out, res.out + res.err
        assert "Apply complete! 1 added, 0 changed, 1 destroyed." in res.out
        assert store.get(GVR["BackupStorageLocation"], "velero", "second")["spec"]["objectStorage"]["bucket"] == \
            "second-bucket-v2"
        counts.append(("replace", backups()))

        res = steps.apply(policy(second=None))  # without --prune nothing goes
        assert res.code == 0 and "would be removed with --prune" in res.out, res.out
        res = steps.apply(policy(second=None), "--prune")
        assert res.code == 0 and "Apply complete! 0 added, 0 changed, 3 destroyed." in res.out, res.out + res.err
        counts.append(("prune", backups()))

        # A policy that drops everything: main is still used by a schedule snapplan does not manage.
        empty = policy(main=False, second=None)
        res = steps.apply(empty, "--prune")
        assert res.code == 1 and "bsl.main cannot be deleted: still used by schedule(s) uses-main" in res.err, res.err
        counts.append(("drop everything, refused", backups()))
        store.delete(GVR["Schedule"], "velero", "uses-main")  # its owner removes it; then the prune may go on
        del theirs["Schedule/uses-main"]
        res = steps.apply(empty, "--prune")
        assert res.code == 0 and "Apply complete! 0 added, 0 changed, 2 destroyed." in res.out, res.out + res.err
        assert "restore.once" not in res.out  # a Restore is a record: it stays, and no plan offers to delete it
        counts.append(("drop everything", backups()))

        # Import what is left (the unmanaged objects) and apply it with --prune: adoption, never a deletion.
        (tmp_path / "imported").mkdir()
        res = run_cli(["import", "-o", str(tmp_path / "imported" / "policy.yaml"), *steps.kc], capsys, monkeypatch)
        assert res.code == 0, res.err
        res = steps.apply("", "--prune", name="imported/policy.yaml")
        assert res.code == 0 and "Apply complete! 0 added, 3 changed, 0 destroyed." in res.out, res.out + res.err
        assert "adopt: not managed by snapplan yet" in res.out
        assert steps.apply("", "--prune", name="imported/policy.yaml").code == 0
        counts.append(("import + apply", backups()))

        assert [n for _, n in counts] == [BACKUPS] * len(counts), counts
        names = inventory(store)
        for key, obj in theirs.items():
            kind, name = key.split("/")
            assert name in names[kind], key  # still there
            now = store.get(GVR[kind], "velero", name)
            if kind in ("Backup", "Restore", "Secret"):
                assert now == obj, key  # untouched, to the resourceVersion
            else:  # adopted by the imported policy: labelled, its settings as they were
                assert is_managed(now) and leaves(obj["spec"]).items() <= leaves(now["spec"]).items(), key
        assert set(steps.deletes) <= {"schedules", "backupstoragelocations", "secrets", "leases"}, steps.deletes
        assert cluster.requests.count(verb="deletecollection") == 0
    figures(f"data safety: {BACKUPS} Backups after " + ", ".join(f"{s}: {n}" for s, n in counts)
            + f"; {len(theirs)} unmanaged objects kept; DELETE requests by resource: {dict(steps.deletes)}")


# --- static: every deleting call in engine/ -------------------------------------------------------------

ENGINE = ROOT / "engine"
# (file, function, what) of every call that deletes something outside this process, and why it may.
ALLOWED = {
    ("apply/writer.py", "KubeWriter.delete", '"DELETE"'),  # a managed object the plan deletes or replaces
    ("apply/executor.py", "Executor._act", "self.writer.delete"),  # Action.DELETE / Action.REPLACE only
    ("apply/lock.py", "LeaseLock.release", '"DELETE"'),  # our own Lease, if we still hold it
    ("apply/lock.py", "break_lock", '"DELETE"'),  # `snapplan lock break`: the Lease shown, after confirmation
    ("storage/preflight.py", "_Run._probe", "client.delete_object"),  # the probe object it just wrote
    ("snapshots/actions.py", "request_deletion", '"deletebackuprequests"'),  # Velero deletes the backup
}


def deleting_calls() -> Counter:
    found: Counter = Counter()
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func, node in _calls(tree):
            what = _deletes(node)
            if what:
                found[(str(path.relative_to(ENGINE)), func, what)] += 1
    return found


def _calls(tree):
    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from visit(child, f"{scope}.{child.name}" if scope else child.name)
            else:
                if isinstance(child, ast.Call):
                    yield scope, child
                yield from visit(child, scope)
    yield from visit(tree, "")


def _deletes(call: ast.Call) -> str | None:
    """What makes this call a deletion: a delete* method, the HTTP verb DELETE, or a DeleteBackupRequest."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if re.match(r"delete(_|$)", name.lower()) and name != "delete_request":  # builds one, see below
        return ast.unparse(func)
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Constant) and arg.value in ("DELETE", "deletebackuprequests", "deletecollection"):
            return repr(arg.value).replace("'", '"')
    return None


def test_every_deleting_call_in_the_engine_is_a_reviewed_one():
    found = deleting_calls()
    assert set(found) == ALLOWED, f"new or moved deleting calls: {set(found) ^ ALLOWED}"


def _callers(name: str) -> set[tuple[str, str]]:
    """(file, function) of every call to a function or method of this name in engine/."""
    out = set()
    for path in sorted(ENGINE.rglob("*.py")):
        for func, call in _calls(ast.parse(path.read_text())):
            callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if callee == name:
                out.add((str(path.relative_to(ENGINE)), func))
    return out


def test_deleting_paths_are_reachable_only_from_where_they_may_be():
    # the cluster writer's delete: only the executor, for the plan's DELETE and REPLACE changes
    assert _callers("delete") == {("apply/executor.py", "Executor._act")}
    source = (ENGINE / "apply" / "executor.py").read_text()
    act = source[source.index("    def _act("):source.index("    def _create(")]
    assert act.count("self.writer.delete(") == 2
    assert act.index("if change.action is Action.DELETE:") < act.index("self.writer.delete(")
    # ...and the plan makes DELETE only for managed objects of the prunable kinds, REPLACE only for a
    # managed location (an unmanaged one that would need it is refused): Backups and Restores never.
    from engine import diff

    assert set(diff.PRUNABLE) == {"Secret", "BackupStorageLocation", "VolumeSnapshotLocation", "Schedule"}
    made = [(str(p.relative_to(ENGINE)), f) for p in ENGINE.rglob("*.py") for f, c in _calls(ast.parse(p.read_text()))
            if getattr(c.func, "id", "") == "Change" and any(ast.unparse(a) in ("Action.DELETE", "Action.REPLACE")
                                                             for a in c.args)]
    assert sorted(made) == [("diff.py", "_compare"), ("diff.py", "diff")]
    # a DeleteBackupRequest: only from `snapshots delete`, after the typed confirmation unless --yes
    assert _callers("request_deletion") == {("cli/snapshots_cmd.py", "delete")}
    command = (ENGINE / "cli" / "snapshots_cmd.py").read_text()
    body = command[command.index("def delete("):command.index("def _confirm(")]
    assert body.index("if not yes:\n            _confirm(") < body.index("request_deletion(")
    # the lock deletes only its own Lease, with the resourceVersion it read
    lock = (ENGINE / "apply" / "lock.py").read_text()
    release = lock[lock.index("    def release("):lock.index("    def _renew_loop(")]
    assert 'f"{self._path}/{LEASE_NAME}"' in release and '"preconditions": {"resourceVersion": version}' in release
    assert "Holder.of(resp.json()).identity != self.who" in release
    # breaking another run's lock: only `snapplan lock break`, after the typed holder's name unless --yes, and
    # only the Lease it showed (uid and resourceVersion as preconditions)
    assert _callers("break_lock") == {("cli/lock_cmd.py", "break_")}
    command = (ENGINE / "cli" / "lock_cmd.py").read_text()
    body = command[command.index("def break_("):command.index("def _confirm(")]
    assert body.index("if not yes:\n            _confirm(") < body.index("break_lock(")
    breaker = lock[lock.index("def break_lock("):]
    assert '"preconditions": {"uid": meta.get("uid"),' in breaker


def test_there_is_no_debug_option_to_cover():
    """The secrets test covers every output there is; a --debug (or log) option would need covering too."""
    from engine.cli.app import app

    def options(command, prefix=""):
        for param in command.params:
            yield prefix, param.opts
        for name, sub in getattr(command, "commands", {}).items():
            yield from options(sub, f"{prefix} {name}")

    found = [(cmd, opts) for cmd, opts in options(typer.main.get_command(app))
             if any(word in o for o in opts for word in ("debug", "verbose", "log", "trace"))]
    assert found == [], f"cover these in tests/reliability/test_secrets.py: {found}"

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


def policy(*, main: bool = True, second: str | None = "second-bucket", second_type: str = "aws") -> str:
    """Storage main (a secretRef) with schedule daily and restore once; second (a credentials file, in bucket
    `second`) with schedule weekly. Without either, an empty policy."""
    storage, schedules, restores = [], [], []
    if main:
        storage.append("  main: {type: aws, default: true, bucket: main-bucket, region: us-east-1, "
                       "credentials: {secretRef: {name: cloud-credentials}}}")
        schedules.append("  daily: {scope: full, storage: main, schedule: daily}")
        restores.append("  once: {from: {backup: backup-001}, scope: full}")
    if second:
        region = ", region: us-east-1" if second_type == "aws" else ""
        storage.append(f"  second: {{type: {second_type}, bucket: {second}{region}, credentials: {{file: ./creds}}}}")
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

        res = steps.apply(policy(second="second-bucket-v2"))  # bucket changed: updated in place
        assert res.code == 0 and "bsl.second moves (spec.objectStorage.bucket" in res.out, res.out + res.err
        assert "Apply complete! 0 added, 1 changed, 0 destroyed." in res.out
        assert store.get(GVR["BackupStorageLocation"], "velero", "second")["spec"]["objectStorage"]["bucket"] == \
            "second-bucket-v2"
        counts.append(("move", backups()))

        res = steps.apply(policy(second="second-bucket-v2", second_type="gcp"))  # provider changed: -/+
        assert res.code == 0 and "bsl.second must be replaced" in res.out, res.out + res.err
        assert "Apply complete! 1 added, 0 changed, 1 destroyed." in res.out
        assert store.get(GVR["BackupStorageLocation"], "velero", "second")["spec"]["provider"] == "velero.io/gcp"
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
# Found from the syntax tree, not from how a call is written: the HTTP method of every request is traced from
# the functions that send one back to its origin, through any number of helpers that pass a `method` on.

ENGINE = ROOT / "engine"
# Functions that send an HTTP request, by name, and where their method goes: (position, keyword). The
# kubernetes client's param_serialize takes the method; call_api sends what param_serialize returned.
HTTP_SENDERS = {"param_serialize": (None, "method"), "call_api": (0, "method"), "urlopen": (0, "method"),
                "request": (1, "method")}  # engine.state.kube.request(api, method, path, ...)
# Every function that sends an HTTP DELETE, and why it may.
HTTP_DELETES = {
    ("apply/writer.py", "KubeWriter.delete"),  # the guarded helper's request: uid + resourceVersion preconditions
    ("apply/lock.py", "LeaseLock.release"),  # our own Lease, if we still hold it, at the version we hold
    ("apply/lock.py", "break_lock"),  # `lock break`: the Lease shown and confirmed, by uid and resourceVersion
    ("drill/run.py", "cleanup"),  # `drill`: the scratch namespaces <ns>-drill-<id> it saw absent before restoring
}
# Calls of delete* methods (boto3, a typed Kubernetes client, our writers) and DeleteBackupRequests.
ALLOWED = {
    ("apply/executor.py", "Executor._delete_guarded", "self.writer.delete"),  # the one guarded helper
    ("storage/preflight.py", "_Run._probe", "client.delete_object"),  # the probe object it just wrote
    ("snapshots/actions.py", "request_deletion", '"deletebackuprequests"'),  # Velero deletes the backup
}


def _scoped(tree):
    """(enclosing function, node) for every node, with the function's own definition node."""
    def visit(node, scope, func):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = child if not isinstance(child, ast.ClassDef) else func
                yield from visit(child, f"{scope}.{child.name}" if scope else child.name, inner)
            else:
                yield scope, func, child
                yield from visit(child, scope, func)
    yield from visit(tree, "", None)


def _trees():
    return [(str(p.relative_to(ENGINE)), ast.parse(p.read_text(), str(p))) for p in sorted(ENGINE.rglob("*.py"))]


def _callee(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _argument(call: ast.Call, where: tuple[int | None, str]):
    index, keyword = where
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[index] if index is not None and index < len(call.args) else None


def _from_param_serialize(func, name: str) -> bool:
    """`name` is bound by unpacking what param_serialize returned (the method it was given, checked there)."""
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                _callee(node.value) == "param_serialize":
            for target in node.targets:
                if isinstance(target, ast.Tuple) and any(getattr(e, "id", "") == name for e in target.elts):
                    return True
    return False


def http_methods():
    """({(file, function, METHOD)} of every request sent with a literal method, [methods it cannot trace])."""
    trees = _trees()
    senders = dict(HTTP_SENDERS)
    sent, unknown = set(), []
    changed = True
    while changed:
        changed = False
        sent, unknown = set(), []
        for file, tree in trees:
            for scope, func, node in _scoped(tree):
                if not isinstance(node, ast.Call) or _callee(node) not in senders:
                    continue
                arg = _argument(node, senders[_callee(node)])
                if arg is None:
                    continue  # the method's default (GET)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    sent.add((file, scope, arg.value.upper()))
                    continue
                if _callee(node) == "urlopen" and isinstance(arg, ast.Name) and arg.id == "url":
                    sent.add((file, scope, "GET"))  # urlopen of a URL string (a signed URL), not a Request: a GET
                    continue
                params = [a.arg for a in func.args.args] if func is not None else []
                if isinstance(arg, ast.Name) and arg.id in params:  # passed on: its callers are senders too
                    position = params.index(arg.id) - (1 if params[:1] == ["self"] else 0)
                    if func.name not in senders:
                        senders[func.name] = (position, arg.id)
                        changed = True
                    continue
                if isinstance(arg, ast.Name) and _callee(node) == "call_api" and _from_param_serialize(func, arg.id):
                    continue
                unknown.append(f"{file}:{node.lineno} {scope}: {ast.unparse(node)[:80]}")
    return sent, unknown


def deleting_calls() -> Counter:
    found: Counter = Counter()
    for file, tree in _trees():
        for scope, _, node in _scoped(tree):
            if isinstance(node, ast.Call):
                what = _deletes(node)
                if what:
                    found[(file, scope, what)] += 1
    return found


def _deletes(call: ast.Call) -> str | None:
    """What makes this call a deletion: a delete* method (called, or fetched with getattr), or a
    DeleteBackupRequest. HTTP DELETEs are traced by http_methods()."""
    name = _callee(call)
    if re.match(r"delete(_|$)", name.lower()) and name != "delete_request":  # builds one, see below
        return ast.unparse(call.func)
    if name == "getattr" and len(call.args) > 1 and isinstance(call.args[1], ast.Constant) and \
            str(call.args[1].value).lower().startswith("delete"):
        return ast.unparse(call)
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Constant) and arg.value in ("deletebackuprequests", "deletecollection"):
            return repr(arg.value).replace("'", '"')
    return None


def test_every_http_delete_in_the_engine_is_a_reviewed_request():
    sent, unknown = http_methods()
    assert unknown == [], f"requests whose HTTP method cannot be traced to a literal: {unknown}"
    deletes = {(file, scope) for file, scope, method in sent if method in ("DELETE", "DELETECOLLECTION")}
    assert deletes == HTTP_DELETES, f"new or moved HTTP DELETEs: {deletes ^ HTTP_DELETES}"
    assert {m for _, _, m in sent} <= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert ("apply/writer.py", "KubeWriter.get", "GET") in sent  # the tracing reaches through _call


def test_every_deleting_call_in_the_engine_is_a_reviewed_one():
    found = deleting_calls()
    assert set(found) == ALLOWED, f"new or moved deleting calls: {set(found) ^ ALLOWED}"


def _callers(name: str) -> set[tuple[str, str]]:
    """(file, function) of every call to a function or method of this name in engine/."""
    return {(file, scope) for file, tree in _trees() for scope, _, node in _scoped(tree)
            if isinstance(node, ast.Call) and _callee(node) == name}


def _function(file: str, qualname: str):
    node = ast.parse((ENGINE / file).read_text())
    for name in qualname.split("."):
        node = next(n for n in node.body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name)
    return node


def test_cluster_objects_are_deleted_only_through_the_guarded_helper():
    # The writer's delete takes the uid and the resourceVersion, required and keyword-only, and sends them
    # as preconditions: the server refuses to delete any other incarnation or version.
    delete = _function("apply/writer.py", "KubeWriter.delete")
    assert [a.arg for a in delete.args.kwonlyargs] == ["uid", "resource_version"]
    assert delete.args.kw_defaults == [None, None]
    preconditions = [n for n in ast.walk(delete) if isinstance(n, ast.Dict) and
                     any(getattr(k, "value", None) == "preconditions" for k in n.keys)]
    assert len(preconditions) == 1
    inner = preconditions[0].values[[k.value for k in preconditions[0].keys].index("preconditions")]
    assert {k.value: ast.unparse(v) for k, v in zip(inner.keys, inner.values)} == \
        {"uid": "uid", "resourceVersion": "resource_version"}
    # It is called from the guarded helper only, which reads the object and compares it first...
    assert _callers("delete") == {("apply/executor.py", "Executor._delete_guarded")}
    helper = _function("apply/executor.py", "Executor._delete_guarded")
    calls = [ast.unparse(n.func) for n in ast.walk(helper) if isinstance(n, ast.Call)]
    assert calls.index("self.writer.get") < calls.index("content_parts") < calls.index("self.writer.delete")
    # ...and the helper runs only for the plan's DELETE and REPLACE changes.
    assert _callers("_delete_guarded") == {("apply/executor.py", "Executor._act")}
    act = _function("apply/executor.py", "Executor._act")
    branches = {ast.unparse(b.test): b for b in ast.walk(act) if isinstance(b, ast.If)}
    calls = [n for n in ast.walk(act) if isinstance(n, ast.Call) and _callee(n) == "_delete_guarded"]
    inside = {test for test, b in branches.items() for n in ast.walk(b) if n in calls}
    assert len(calls) == 2 and {"change.action is Action.DELETE", "change.action is Action.REPLACE"} <= inside
    for call in calls:  # each under exactly one of the two action tests
        assert sum(call in ast.walk(branches[t]) for t in ("change.action is Action.DELETE",
                                                            "change.action is Action.REPLACE")) == 1
    # The plan makes DELETE only for managed objects of the prunable kinds, REPLACE only for a managed
    # location (an unmanaged one that would need it is refused): Backups and Restores never.
    from engine import diff

    assert set(diff.PRUNABLE) == {"Secret", "BackupStorageLocation", "VolumeSnapshotLocation", "Schedule"}
    made = [(file, scope) for file, tree in _trees() for scope, _, c in _scoped(tree) if isinstance(c, ast.Call)
            and getattr(c.func, "id", "") == "Change" and any(ast.unparse(a) in ("Action.DELETE", "Action.REPLACE")
                                                              for a in c.args)]
    assert sorted(made) == [("diff.py", "_compare"), ("diff.py", "diff")]


def test_the_other_deleting_paths_are_reachable_only_from_where_they_may_be():
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

"""examples/rbac against what snapplan really does: run plan, audit and snapshots, then apply (creates,
updates, deletes, a restore, a lock takeover), then drills, on the test cluster with the Velero simulator,
and compare the requests the API server saw with the Roles: everything used is granted, and everything
granted is used."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import yaml

from engine.apply.lock import LEASE_NAME, micro_time
from tests.apply.test_restores_live import NS, take_backup, velero_cluster
from tests.helpers import EXAMPLES, run_cli, write

RBAC = EXAMPLES / "rbac"
LEASES = ("coordination.k8s.io", "v1", "leases")
Access = tuple[str, str, str, str]  # verb, API group, resource, namespace ("" cluster-wide)


def _docs() -> list[dict]:
    return [d for f in sorted(RBAC.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def grants(subject: str) -> list[tuple[dict, str | None]]:
    """(rule, namespace or None for every namespace) granted to the ServiceAccount `subject`."""
    docs = _docs()
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("Role", "ClusterRole")}
    out = []
    for b in docs:
        if b["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(s["kind"] == "ServiceAccount" and s["name"] == subject for s in b["subjects"]):
            continue
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
        role = roles[(ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"])]
        out += [(rule, ns) for rule in role["rules"]]
    return out


def allowed(subject: str, access: Access) -> bool:
    verb, group, resource, namespace = access
    return any(verb in r["verbs"] and group in r["apiGroups"] and resource in r["resources"]
               and (ns is None or ns == namespace) for r, ns in grants(subject))


def granted(subject: str, only_role: str | None = None) -> set[tuple[str, str, str]]:
    docs = {d["metadata"]["name"]: d for d in _docs() if d["kind"] in ("Role", "ClusterRole")}
    rules = docs[only_role]["rules"] if only_role else [r for r, _ in grants(subject)]
    return {(v, g, res) for r in rules for v in r["verbs"] for g in r["apiGroups"] for res in r["resources"]}


def _policy(tmp_path, s3, *, version: int) -> object:
    second = ("  spare:\n    type: s3-compatible\n    bucket: spare\n"
              f"    endpoint: {s3.url}\n    pathStyle: true\n    credentials: {{file: ./creds-spare}}\n")
    return write(tmp_path / f"policy-{version}.yaml", f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: rbac}}
apps:
  shop: {{namespaces: [shop]}}
storage:
  s3:
    type: s3-compatible
    default: true
    bucket: backups
    endpoint: {s3.url}
    region: {"us-east-1" if version == 1 else "eu-west-1"}
    pathStyle: true
    credentials: {{file: ./creds}}
{second if version == 1 else ""}
snapshotLocations:
  ebs: {{type: aws, region: {"us-east-1" if version == 1 else "eu-west-1"}}}
{"  spare-ebs: {type: aws, region: us-east-1}" if version == 1 else ""}
schedules:
  full: {{scope: full, schedule: daily, retention: {"30d" if version == 1 else "7d"}}}
{"  shop-only: {scope: application, app: shop, schedule: weekly}" if version == 1 else ""}
{"restores:" if version == 2 else ""}
{"  back: {from: {schedule: full}, scope: application, app: shop, namespaceMapping: {shop: shop-r}}"
 if version == 2 else ""}
""")


def _seen(cluster, capsys, monkeypatch, *args) -> set[Access]:
    cluster.requests.reset()
    res = run_cli(list(args), capsys, monkeypatch)
    assert res.code == 0, res.err
    return set(cluster.requests.access())


def test_rbac_roles_grant_exactly_what_snapplan_uses(cluster_factory, s3, tmp_path, capsys, monkeypatch):
    for bucket in ("backups", "spare"):
        s3.create_bucket(bucket)
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    write(tmp_path / "creds-spare", s3.create_credentials().shared_credentials_file())
    cluster, _ = velero_cluster(cluster_factory, s3)
    cluster.store.create(NS, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    kc = ["--kubeconfig", str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))]
    v1, v2 = _policy(tmp_path, s3, version=1), _policy(tmp_path, s3, version=2)

    applies = _seen(cluster, capsys, monkeypatch, "apply", "--auto-approve", "-f", str(v1), *kc, "--timeout", "60s")
    take_backup(cluster, "full-20261124020000", "full", ["*"])
    reads = set()
    for args in (["plan", "-f", str(v1)], ["audit", "-f", str(v1)], ["snapshots"],
                 ["snapshots", "show", "full-20261124020000"]):
        reads |= _seen(cluster, capsys, monkeypatch, *args, *kc)
    # v2: a rotated credential, a changed location and snapshot location (and one of each pruned), a shorter
    # retention, a schedule pruned, a restore that runs; and the lock a crashed apply left, taken over
    write(tmp_path / "creds", s3.create_credentials().shared_credentials_file())
    reads |= _seen(cluster, capsys, monkeypatch, "plan", "-f", str(v2), *kc, "--prune", "--out", str(tmp_path / "v2.plan"))
    stale = datetime.now(timezone.utc) - timedelta(minutes=10)
    cluster.store.create(LEASES, "velero", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE_NAME},
        "spec": {"holderIdentity": "crashed@ci pid 1", "leaseDurationSeconds": 60,
                 "acquireTime": micro_time(stale), "renewTime": micro_time(stale)}})
    applies |= _seen(cluster, capsys, monkeypatch, "apply", str(tmp_path / "v2.plan"), "--timeout", "60s")

    drills = set()
    for drill_id in ("r0r0r", "r1r1r"):  # the second updates the drill record the first created
        drills |= _seen(cluster, capsys, monkeypatch, "drill", "-f", str(v2), *kc, "--schedule", "full",
                        "--id", drill_id)

    writes = {"create", "update", "patch", "delete", "deletecollection"}
    assert sorted(a for a in reads if not allowed("snapplan-read", a)) == []
    assert {a[0] for a in reads} <= {"get", "list", "watch"}
    assert sorted(a for a in applies if not allowed("snapplan-apply", a)) == []
    assert [a for a in applies if a[0] in writes and allowed("snapplan-read", a)] == []  # read-only is read-only
    # nothing granted that was not used
    used_reads = {(v, g, r) for v, g, r, _ in reads}
    assert granted("snapplan-read") - used_reads == set()
    used_applies = {(v, g, r) for v, g, r, _ in applies}
    assert granted("snapplan-apply", only_role="snapplan-apply") - used_applies == set()
    assert sorted(a for a in drills if not allowed("snapplan-drill", a)) == []
    assert granted("snapplan-drill") - {(v, g, r) for v, g, r, _ in drills} == set()


def test_the_rbac_check_notices_a_missing_and_an_unused_rule():
    assert allowed("snapplan-read", ("list", "velero.io", "schedules", "velero"))
    assert not allowed("snapplan-read", ("list", "velero.io", "schedules", "other"))  # a Role: its namespace only
    assert allowed("snapplan-read", ("list", "", "namespaces", ""))                    # the ClusterRole: everywhere
    assert not allowed("snapplan-read", ("create", "velero.io", "schedules", "velero"))
    assert allowed("snapplan-apply", ("create", "velero.io", "schedules", "velero"))
    assert not allowed("nobody", ("list", "", "namespaces", ""))

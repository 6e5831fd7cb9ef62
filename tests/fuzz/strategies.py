"""Hypothesis strategies for hostile input: policies (mostly valid, then broken in a few places), raw YAML
with the constructs attackers and accidents bring (bombs, tags, deep nesting, bad bytes), and state files."""
from __future__ import annotations

import json

import yaml
from hypothesis import strategies as st

from tests.helpers import EXAMPLES

HARNESS_POLICY = (EXAMPLES / "harness" / "policy.yaml").read_text()
MINIMAL_POLICY = (EXAMPLES / "minimal" / "policy.yaml").read_text()
HARNESS_STATE_TEXT = (EXAMPLES / "harness" / "cluster-state.yaml").read_text()
HARNESS_STATE = yaml.safe_load(HARNESS_STATE_TEXT)


def mostly(good: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Three draws in four from `good` (one_of(good, good, good, odd) would not do: it drops repeats)."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: good if ok else odd)


huge_text = st.integers(1_000, 300_000).map(lambda n: "x" * n)
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**30, 10**30), st.floats(),
              st.text(max_size=10), huge_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)

# Names from the harness example, so references resolve and entries meet objects in its cluster state.
KNOWN = ["primary", "minio", "local", "nightly-full", "harness-hourly", "harness-rollback", "harness", "harness-db",
         "legacy-weekly", "old-hourly", "velero", "kube-system", "a", "b"]
ODD_NAMES = ["", "-a", "a-", "A", "a_b", "a.b", "ä", "名前", "nightly‐full", "a" * 64, "a" * 300, "1", "true",
             "null", "~", "<<", "a b", "*", "&a", "!tag", "a\u0000b", "\u202eevil", "\ufeffbom", "😀"]
names = mostly(st.sampled_from(KNOWN) | st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True),
               st.sampled_from(ODD_NAMES) | st.text(max_size=12))

CRON_FIELDS = ["*", "?", "*/0", "*/5", "*/100", "0", "15", "59", "60", "1-5", "5-1", "L", "W", "1W", "5L", "1#2", "H",
               "MON", "mon-fri", "JAN", "jan-dec", "7", "-1", "+1", "1,2,3", "0x1", "١", "1/0", "99999999999999999999",
               "*-5", "1-2-3", "1//2", "31", "29", "2"]
cron_line = st.lists(st.sampled_from(CRON_FIELDS) | st.integers(-3, 70).map(str), min_size=0, max_size=7).map(" ".join)
every = st.lists(st.tuples(st.integers(0, 10**25), st.sampled_from("hms")), max_size=3).map(
    lambda parts: "@every " + "".join(f"{n}{u}" for n, u in parts))
schedule_expr = mostly(
    st.sampled_from(["hourly", "daily", "weekly", "monthly", "15 * * * *", "0 3 * * 1-5", "@every 6h", "@every 90m"]),
    st.one_of(cron_line, every, st.text(max_size=30), st.sampled_from(
        ["@daily", "@yearly", "@reboot", "CRON_TZ=UTC 0 0 * * *", "TZ=Europe/Berlin 0 * * * *", "0 0 31 2 *",
         "0 0 30 2 *", "0 0 29 2 *", "@every 1.5h", "@every 1d", "@every -1h", "@every 1ms", "@every 30s",
         "@every 2562048h", "* " * 100, "1," * 300 + "1 * * * *"])))
timezones = mostly(
    st.sampled_from(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Pacific/Chatham"]),
    st.one_of(st.text(max_size=20), st.sampled_from(
        ["Etc/GMT+14", "EST5EDT", "Europe/", "Europe", "../../etc/passwd", "/etc/passwd", "UTC ", " UTC", "utc",
         "Mars/Base", "", "a" * 300, "a" * 5000, "Europe/Berlin\x00", "Factory", "posixrules", "localtime",
         "zoneinfo", "__init__.py", "tzdata", "Europe/Kiev", "Asia/Tōkyō", "\\", "UTC/../UTC"])))
durations = mostly(
    st.sampled_from(["30d", "7d", "1h", "4w", "720h"]),
    st.one_of(st.tuples(st.integers(-5, 10**7), st.sampled_from("hdwmsy")).map(lambda t: f"{t[0]}{t[1]}"),
              st.sampled_from(["0d", "999999w", "106751d", "106752d", "2562047h", "2562048h", "15250w", "15251w",
                               "1.5d", "30 d", "30D", "", "d", "7dd", "1e3h", "٣d"])))
paths = mostly(st.sampled_from(["./aws-credentials", "aws-credentials", "minio-ca.pem"]), st.sampled_from(
    ["/dev/null", "/etc/passwd", "/", ".", "..", "~", "~nosuchuser/x", "~/x", "a" * 300, "a" * 5000, "a/" * 200,
     "nonexistent", "", "\x00", "a\x00b", "./", "C:\\creds"]))
env_names = mostly(st.sampled_from(["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"]),
                   st.sampled_from(["", "1X", "A-B", "A B", "NOT_SET_ANYWHERE", "a" * 300]) | st.text(max_size=8))


def entry(required: dict, optional: dict) -> st.SearchStrategy:
    return st.fixed_dictionaries(required, optional=optional)


credentials = st.one_of(
    entry({"file": paths}, {}),
    entry({"env": entry({"accessKeyId": env_names, "secretAccessKey": env_names}, {"sessionToken": env_names})}, {}),
    entry({"secretRef": entry({"name": names}, {"key": st.text(max_size=8)})}, {}),
    st.dictionaries(st.sampled_from(["file", "env", "secretRef", "other"]), junk, max_size=3))
storage = entry(
    {"type": mostly(st.sampled_from(["aws", "s3-compatible", "gcp", "azure", "hostpath", "nfs", "pvc"]),
                    st.sampled_from(["s3", "AWS", "", "local"]))},
    {"default": st.booleans(), "bucket": mostly(st.sampled_from(["acme-velero", "velero", "bbb"]), names),
     "prefix": mostly(st.sampled_from(["prod", "a/b"]), st.sampled_from(["/x", "x/", "/", "a//b", "a\nb"])),
     "region": mostly(st.sampled_from(["us-east-1", "minio"]), st.text(max_size=5)),
     "endpoint": mostly(st.just("https://minio.internal:9000"), st.sampled_from(["ftp://x", "http://", "https://a b"])),
     "pathStyle": st.booleans(), "caFile": paths, "accessMode": st.sampled_from(["ReadWrite", "ReadOnly", "rw"]),
     "protect": st.booleans(), "credentials": credentials, "path": mostly(st.just("/var/lib/snapshots"), names),
     "server": names, "storageClassName": names,
     "storageSize": mostly(st.sampled_from(["10Gi", "5"]), st.sampled_from(["10GB", "-1", "1.5Gi", ""])),
     "resourceGroup": names, "storageAccount": names, "subscriptionId": names,
     "config": st.dictionaries(st.text(max_size=8), mostly(st.text(max_size=8), junk), max_size=3)})
schedule = entry(
    {"scope": mostly(st.sampled_from(["full", "application"]), st.sampled_from(["app", "", "Full"])),
     "schedule": schedule_expr},
    {"app": names, "storage": names, "snapshotLocation": names, "timezone": timezones, "retention": durations,
     "enabled": st.booleans(), "startImmediately": st.booleans(),
     "volumes": st.sampled_from(["default", "filesystem", "snapshot", "none", "all"]),
     "exclude": st.lists(names, max_size=3)})
restore = entry(
    {"from": st.one_of(entry({"schedule": names}, {}), entry({"backup": names}, {}),
                       entry({}, {"schedule": names, "backup": names})),
     "scope": mostly(st.sampled_from(["full", "application"]), st.just("partial"))},
    {"app": names, "namespaceMapping": st.dictionaries(names, names, max_size=2),
     "existingResources": st.sampled_from(["none", "update", "replace"])})
app = entry({"namespaces": mostly(st.lists(names, min_size=1, max_size=3), st.lists(names, max_size=0))},
            {"labelSelector": st.dictionaries(st.text(max_size=10), mostly(st.text(max_size=10), junk), max_size=2)})
snapshot_location = entry({"type": st.sampled_from(["aws", "gcp", "azure", "hostpath"])},
                          {"region": names, "credentials": credentials,
                           "config": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)})
odd_policies = entry(
    {"apiVersion": mostly(st.just("snapplan/v1"), st.sampled_from(["snapplan/v2", "v1", ""])),
     "kind": mostly(st.just("BackupPolicy"), st.sampled_from(["Policy", ""])),
     "metadata": entry({"name": names}, {})},
    {"veleroNamespace": mostly(st.just("velero"), names),
     "apps": st.dictionaries(names, app, max_size=3),
     "storage": st.dictionaries(names, storage, min_size=1, max_size=3),
     "snapshotLocations": st.dictionaries(names, snapshot_location, max_size=2),
     "schedules": st.dictionaries(names, schedule, max_size=4),
     "restores": st.dictionaries(names, restore, max_size=2)})


def _paths(value, at=()):
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, at + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, at + (i,))


# ----- valid policies: every reference resolves, every field fits its storage type
dns = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True)
valid_names = st.sampled_from(KNOWN) | dns
valid_cron = st.tuples(*(st.sampled_from(f) for f in (
    ["*", "*/15", "0", "30", "0-30/10", "5,35"], ["*", "0", "3", "*/6", "9-17"], ["*", "1", "15", "1-7", "29"],
    ["*", "1", "2", "jan-jun", "*/3"], ["*", "0", "1-5", "MON", "sat,sun"]))).map(" ".join)
valid_schedule = st.sampled_from(["hourly", "daily", "weekly", "monthly", "@every 6h", "@every 90m"]) | valid_cron
OBJECT_FIELDS = {"aws": {"region": "us-east-1"}, "s3-compatible": {"endpoint": "https://minio.internal:9000"},
                 "gcp": {}, "azure": {"resourceGroup": "rg", "storageAccount": "acct"}}
INTERNAL_FIELDS = {"hostpath": {"path": "/var/lib/snapshots"}, "nfs": {"server": "nfs.local", "path": "/exports"},
                   "pvc": {"storageSize": "10Gi"}}


@st.composite
def valid_policies(draw) -> dict:
    apps = {name: {"namespaces": draw(st.lists(valid_names, min_size=1, max_size=3, unique=True))}
            for name in draw(st.lists(valid_names, max_size=2, unique=True))}
    storage = {}
    for i, name in enumerate(draw(st.lists(valid_names, min_size=1, max_size=3, unique=True))):
        kind = draw(st.sampled_from(sorted(OBJECT_FIELDS) + sorted(INTERNAL_FIELDS)))
        s = {"type": kind, "default": i == 0, **OBJECT_FIELDS.get(kind, {}), **INTERNAL_FIELDS.get(kind, {})}
        if kind in OBJECT_FIELDS:
            s["bucket"] = draw(st.sampled_from(["acme-velero", "velero", "backups"])) + f"-{i}"
            if draw(st.booleans()):
                s["credentials"] = draw(st.sampled_from(
                    [{"file": "./aws-credentials"}, {"secretRef": {"name": "cloud-credentials"}}]
                    + ([{"env": {"accessKeyId": "MINIO_ACCESS_KEY", "secretAccessKey": "MINIO_SECRET_KEY"}}]
                       if kind in ("aws", "s3-compatible") else [])))
        if kind != "pvc" and draw(st.booleans()):
            s["prefix"] = draw(st.sampled_from(["prod", "a/b", "velero"]))
        s.update(draw(st.fixed_dictionaries({}, optional={
            "accessMode": st.sampled_from(["ReadWrite", "ReadOnly"]), "protect": st.booleans(),
            "config": st.dictionaries(st.sampled_from(["kmsKeyId", "profile", "x"]), dns, max_size=2)})))
        storage[name] = s
    schedules = {}
    for name in draw(st.lists(valid_names, max_size=4, unique=True)):
        sched = {"scope": "full", "schedule": draw(valid_schedule)}
        if apps and draw(st.booleans()):
            sched.update(scope="application", app=draw(st.sampled_from(sorted(apps))))
        elif draw(st.booleans()):
            sched["exclude"] = draw(st.lists(valid_names, max_size=2, unique=True))
        sched.update(draw(st.fixed_dictionaries({}, optional={
            "storage": st.sampled_from(sorted(storage)), "retention": st.sampled_from(["30d", "7d", "12h", "4w"]),
            "enabled": st.booleans(), "startImmediately": st.booleans(),
            "volumes": st.sampled_from(["default", "filesystem", "snapshot", "none"]),
            "timezone": st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"])})))
        schedules[name] = sched
    restores = {}
    for name in draw(st.lists(valid_names, max_size=2, unique=True)):
        full = [n for n, s in schedules.items() if s["scope"] == "full" and not s.get("exclude")]
        source = {"schedule": draw(st.sampled_from(full))} if full and draw(st.booleans()) else \
            {"backup": draw(valid_names)}
        r = {"from": source, "scope": "full"}
        if apps and draw(st.booleans()):
            app_name = draw(st.sampled_from(sorted(apps)))
            r.update(scope="application", app=app_name)
            if draw(st.booleans()):
                r["namespaceMapping"] = {apps[app_name]["namespaces"][0]: draw(dns)}
        restores[name] = r
    doc = {"apiVersion": "snapplan/v1", "kind": "BackupPolicy", "metadata": {"name": draw(valid_names)},
           "storage": storage}
    for key, value in (("apps", apps), ("schedules", schedules), ("restores", restores)):
        if value:
            doc[key] = value
    return doc


odd_values = st.one_of(junk, st.sampled_from(ODD_NAMES), schedule_expr, timezones, durations, paths, env_names)


@st.composite
def broken(draw, base: st.SearchStrategy) -> object:
    """`base`, then 0-3 of: a value replaced by an odd one, a key removed, an unknown key added."""
    doc = draw(base)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        at = draw(st.sampled_from(list(_paths(doc))))
        if not at:
            continue
        parent = doc
        for k in at[:-1]:
            parent = parent[k]
        how = draw(st.sampled_from(["odd", "odd", "drop", "extra"]))
        if how == "odd":
            parent[at[-1]] = draw(odd_values)
        elif how == "drop":
            del parent[at[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(odd_values)
    return doc


policies = broken(valid_policies())


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(doc) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)


# ----- raw YAML: what no well-meaning generator writes
def _bomb(levels: int, fanout: int, merge: bool) -> str:
    lines = ["x0: &x0 {k: v}" if merge else "x0: &x0 [a, a]"]
    for i in range(1, levels):
        refs = ", ".join([f"*x{i - 1}"] * fanout)
        lines.append(f"x{i}: &x{i} {{<<: [{refs}]}}" if merge else f"x{i}: &x{i} [{refs}]")
    return "\n".join(lines)


TAGS = ["!!python/object/apply:os.system ['echo pwned']", "!!python/object:os.system {}",
        "!!python/name:os.system ''", "!!python/tuple [1, 2]", "!!set {a, b}", "!!omap [{a: 1}]", "!custom x",
        "!<tag:yaml.org,2002:str> x", "!!binary '!!!'", "!!binary aGVsbG8=", "!!timestamp x", "!!int x", "!!float x",
        "!!bool x", "!!null x", "!!str [a]", "!!map [a]", "!!seq {a: b}", "2024-13-45", "2024-02-30 10:00:00",
        "0x_", "0b2", "1_000", "9" * 5000, "1e999999", ".nan", "-.inf", "0o9", "12:30:61"]
hostile_piece = st.one_of(
    st.integers(1, 5_000).map(lambda n: f"deep: {'[' * n}{']' * n}"),
    st.integers(1, 400).map(lambda n: "".join(f"{'  ' * i}d{i}:\n" for i in range(n)) + "  " * n + "end"),
    st.integers(1, 2_000).map(lambda n: "- " * n + "x"),
    st.tuples(st.integers(2, 10), st.integers(2, 12), st.booleans()).map(lambda t: _bomb(*t)),
    st.sampled_from(["apps: &a {x: *a}", "veleroNamespace: &a [*a]", "m: &m {<<: *m}", "storage: &s\n  s: *s",
                     "*undefined : x", "a: *undefined"]),
    st.tuples(st.sampled_from(["veleroNamespace", "metadata", "x", "storage"]), st.sampled_from(TAGS)).map(
        lambda t: f"{t[0]}: {t[1]}"),
    st.tuples(st.sampled_from(TAGS), st.text(max_size=4)).map(lambda t: f"? {t[0]}\n: {t[1]!r}"),
    st.integers(1_000, 1_000_000).map(lambda n: "metadata:\n  name: " + "a" * n),
    st.integers(1_000, 300_000).map(lambda n: "a" * n + ": x"),
    st.sampled_from(["kind: BackupPolicy", "apiVersion: snapplan/v1", "storage: {}", "schedules: {a: 1, a: 2}"]),
    st.just("storage:\n  x: &d {type: aws, bucket: bbb, region: r, default: true}\n  y:\n    <<: *d\n    bucket: ccc\n"
            "    default: false"),
    st.sampled_from(["\x00", "\x07", "\x1b[31m", "\u2028", "\ufeff", "\r", "\t", "\r\n", "\x85", "\ud7ff",
                     "\U0010ffff"]),
    st.sampled_from(["---", "...", "--- |\n  text", "%YAML 1.1\n---", "%YAML 2.0\n---",
                     "%TAG ! tag:yaml.org,2002:python/object:\n--- !os.system x", "--- null", "--- []", "--- hello",
                     "# only a comment"]),
    st.integers(1, 1_500).map(lambda n: "schedules:\n" + "".join(
        f"  s{i}:\n    scope: full\n    schedule: daily\n" for i in range(n))),
    st.sampled_from(["? [a, b]\n: c", "? {a: 1}\n: x", "[a]: b", "{a: 1}: b", "&k key: v", "'': empty", "~: null"]),
    st.tuples(st.sampled_from(["schedules", "storage", "apps"]), st.text(min_size=1, max_size=10)).map(
        lambda t: f"{t[0]}:\n  {json.dumps(t[1])}: {{}}"),
    st.tuples(schedule_expr, timezones, durations).map(
        lambda t: f"schedules:\n  odd:\n    scope: full\n    schedule: {json.dumps(t[0])}\n"
                  f"    timezone: {json.dumps(t[1])}\n    retention: {json.dumps(t[2])}"),
)


@st.composite
def hostile_yaml(draw) -> bytes:
    """A policy file as bytes: a real or generated policy with hostile pieces spliced in at line boundaries,
    and sometimes bytes that are not UTF-8."""
    base = draw(st.one_of(st.just(HARNESS_POLICY), st.just(MINIMAL_POLICY), odd_policies.map(dump)))
    lines = base.split("\n")
    for piece in draw(st.lists(hostile_piece, min_size=1, max_size=3)):
        at = draw(st.integers(0, len(lines)))
        lines[at:at] = piece.split("\n")
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


# ----- cluster-state files
KINDS = ["Secret", "BackupStorageLocation", "VolumeSnapshotLocation", "Schedule", "Backup", "Restore", "Namespace",
         "Deployment", "DaemonSet", "List", "SecretList", "", "Pod"]


@st.composite
def state_docs(draw) -> dict:
    """The harness cluster state with 0-3 fields of its objects replaced, removed or re-kinded."""
    doc = json.loads(json.dumps(HARNESS_STATE))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
        at = draw(st.sampled_from(list(_paths(doc))))
        if not at:
            continue
        parent = doc
        for k in at[:-1]:
            parent = parent[k]
        how = draw(st.sampled_from(["junk", "junk", "drop", "kind", "extra"]))
        if how == "junk":
            parent[at[-1]] = draw(junk)
        elif how == "drop":
            del parent[at[-1]]
        elif how == "kind" and isinstance(parent, dict):
            parent["kind"] = draw(st.sampled_from(KINDS))
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(junk)
    return doc


@st.composite
def state_files(draw) -> tuple[bytes, bool]:
    """(file bytes, is YAML): a mutated state as YAML or JSON, sometimes with hostile pieces spliced in."""
    doc = draw(state_docs())
    if draw(st.integers(0, 4)) == 0:
        return json.dumps(doc).encode(), False
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    if draw(st.booleans()):
        lines = text.split("\n")
        for piece in draw(st.lists(hostile_piece, min_size=1, max_size=2)):
            at = draw(st.integers(0, len(lines)))
            lines[at:at] = piece.split("\n")
        text = "\n".join(lines)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 6)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data, True

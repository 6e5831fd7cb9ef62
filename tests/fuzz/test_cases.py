"""The inputs the fuzzers (and a hand search) found, one test each, and the worst cases with their time and
memory: each was a traceback, a hang, a crash or an unclear error before the fix named in its id."""
from __future__ import annotations

import subprocess
import sys

import pytest

from engine import cron
from engine.errors import PolicyError, StateError
from engine.planner import plan_against, prepare
from engine.spec import load_policy
from engine.spec.source import MAX_BYTES
from engine.state import read_state_file
from tests.fuzz.figures import bounded, traced_peak
from tests.helpers import EXAMPLES, HARNESS_ENV, NOW, ROOT, run_cli

H = "apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata:\n  name: p\n"
S3 = "storage:\n  s3:\n    type: aws\n    default: true\n    bucket: bbb\n    region: us-east-1\n"


def sched(**fields) -> str:
    return H + S3 + "schedules:\n  a:\n    scope: full\n" + "".join(f"    {k}: {v}\n" for k, v in fields.items())


def lol(levels: int, fanout: int) -> str:
    """The billion laughs: each anchor a list of `fanout` aliases of the one before."""
    return "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * fanout)}]\n" for i in range(1, levels))


MERGE_BOMB = "x0: &x0 {k0: 1}\n" + "".join(
    f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}]}}\n" for i in range(1, 14))

# (id: what it was before, policy text, a fragment of the one error expected, its line)
POLICY_ERRORS = [
    ("date-ValueError", H + "veleroNamespace: 2024-13-45\n", "'2024-13-45' reads as a date but is not a valid one", 5),
    ("tag-int-ValueError", H + "veleroNamespace: !!int foo\n", "'foo' reads as an integer", 5),
    ("tag-bool-KeyError", H + "veleroNamespace: !!bool foo\n", "'foo' reads as a boolean", 5),
    ("tag-timestamp-AttributeError", H + "veleroNamespace: !!timestamp foo\n", "'foo' reads as a date", 5),
    ("5000-digits-ValueError", H + "veleroNamespace: " + "9" * 5000 + "\n", "reads as an integer", 5),
    ("python-tag-on-scalar", H + "veleroNamespace: !!python/name:os.system ''\n",
     "tag !!python/name:os.system is not allowed", 5),
    ("python-tag-on-list-was-ignored", H + "veleroNamespace: !!python/object/apply:os.system ['echo pwned']\n",
     "tag !!python/object/apply:os.system is not allowed", 5),
    ("python-tag-on-map-was-accepted", H + S3 + "apps: !!python/object:os.system\n  a: {namespaces: [x]}\n",
     "tag !!python/object:os.system is not allowed", 11),
    ("set-tag", H + "veleroNamespace: !!set {a, b}\n", "tag !!set is not allowed", 5),
    ("escape-sequence-in-a-tag", H + "veleroNamespace: !<%1b%5b2J> x\n", "tag \\x1b[2J is not allowed", 5),
    ("local-tag-via-TAG-directive",
     "%TAG ! tag:yaml.org,2002:python/object:\n---\n" + H + "veleroNamespace: !os.system x\n",
     "tag !!python/object:os.system is not allowed", 7),
    ("NUL-ReaderError", H + "veleroNamespace: a\x00b\n", "character #x0000 is not allowed", 5),
    ("recursive-anchor-at-1:1", H + "apps: &a {x: *a}\n", "an alias refers to the node that contains it", 5),
    ("merge-loop", H + "apps: &m {<<: *m}\n", "a merge key (<<) refers to the mapping that contains it", 5),
    ("billion-laughs-at-1:1", H + lol(9, 10), "document expands to more than 200000 values", 5),
    ("deep-at-1:1", H + "metadata: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than 64 levels", 5),
    ("deep-block", H + "".join(f"{'  ' * i}d{i}:\n" for i in range(80)), "nesting deeper than 64 levels", 69),
    ("merge-of-a-scalar", H + "storage:\n  s:\n    <<: 5\n", "a merge key (<<) takes a mapping", 7),
    ("not-UTF-8", H.encode() + b"veleroNamespace: \xff\n", "file is not valid UTF-8 (byte 0xff)", 5),
    ("every-OverflowError", sched(schedule="'@every 99999999999999999999h'"), "is longer than Velero can hold", 14),
    ("every-digits-ValueError", sched(schedule="'@every " + "9" * 5000 + "h'"), "longer than 200 characters", 14),
    ("never-runs-CroniterBadDateError-at-plan", sched(schedule="'0 0 31 2 *'"), "never runs", 14),
    ("L-accepted-Velero-refuses", sched(schedule="'0 0 L * *'"), "day-of-month field 'L' is not valid", 14),
    ("dow-7-accepted-Velero-refuses", sched(schedule="'0 0 * * 7'"), "day-of-week field '7' is out of range", 14),
    ("hash-accepted-Velero-refuses", sched(schedule="'0 0 * * 1#2'"), "'1#2' is not valid", 14),
    ("reversed-range-accepted", sched(schedule="'5-1 * * * *'"), "a range must go from low to high", 14),
    ("step-0", sched(schedule="'*/0 * * * *'"), "a step must be at least 1", 14),
    ("retention-beyond-Go-duration", sched(schedule="daily", retention="999999w"),
     "retention '999999w' is longer than Velero can hold", 15),
    ("timezone-5000-chars-message", sched(schedule="daily", timezone="a" * 5000), "...(5002 chars)", 15),
    ("credentials-file-name-too-long-OSError",
     H + S3 + "    credentials: {file: " + "a" * 5000 + "}\n", "cannot be read (File name too long)", 11),
    ("credentials-file-unknown-user-RuntimeError", H + S3 + "    credentials: {file: '~nosuchuser/f'}\n",
     "~nosuchuser/f' does not exist", 11),
    ("caFile-name-too-long-OSError",
     H + "storage:\n  s:\n    type: s3-compatible\n    default: true\n    bucket: bbb\n    endpoint: http://x\n"
         "    caFile: " + "a" * 5000 + "\n", "cannot be read (File name too long)", 11),
    ("name-error-at-the-map", H + "apps:\n  Bad_Name: {namespaces: [a]}\n", "invalid name 'Bad_Name'", 6),
    ("uniqueItems-hours", H + S3 + "apps:\n  a:\n    namespaces: [" + ", ".join(f"[{i}]" for i in range(20_000))
     + ", x, x]\n", "more problem(s) from here on are not shown", 13),
]


@pytest.mark.parametrize("text, expected, line", [c[1:] for c in POLICY_ERRORS], ids=[c[0] for c in POLICY_ERRORS])
def test_policy_error_names_file_and_line(text, expected, line, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with bounded("cases: policy errors"), pytest.raises(PolicyError) as caught:
        load_policy(path, strict_sources=True, env=HARNESS_ENV)
    found = [d for d in caught.value.diagnostics if expected in str(d)]
    assert found, "\n".join(map(str, caught.value.diagnostics))[:3000]
    assert (found[0].source.file, found[0].source.line) == (str(path), line), str(found[0])
    assert all(len(str(d)) < 1_000 for d in caught.value.diagnostics)
    assert len(caught.value.diagnostics) <= PolicyError.MAX_SHOWN + 1


def test_merge_keys_follow_yaml_merge_rules(tmp_path):
    """Keys written beside `<<` win over merged ones, earlier merged mappings over later ones; before, the
    override was reported as a duplicate key."""
    path = tmp_path / "policy.yaml"
    path.write_text(H + "storage:\n  s3: &d {type: aws, bucket: bbb, region: r, default: true}\n  s4:\n"
                        "    <<: [{region: x, prefix: p}, *d]\n    bucket: ccc\n    default: false\n")
    policy, _ = load_policy(path, env={})
    s4 = policy.storage["s4"]
    assert (s4.type, s4.bucket, s4.region, s4.prefix, s4.default) == ("aws", "ccc", "x", "p", False)


def test_merge_bomb_is_bounded(tmp_path):
    """PyYAML's flatten_mapping copies merged pairs without dropping repeats: 4^13 of them here (a hang)."""
    path = tmp_path / "policy.yaml"
    path.write_text(H + S3 + MERGE_BOMB)
    with bounded("cases: merge bomb"), pytest.raises(PolicyError) as caught:
        load_policy(path, env={})
    assert "unknown field 'x13'" in str(caught.value)


def test_control_characters_never_reach_the_terminal(tmp_path, capsys, monkeypatch):
    """A key such as "\\e[2J" cleared the user's screen: names from the file are printed escaped."""
    path = tmp_path / "policy.yaml"
    path.write_text(H + '"\\e[2J\\e[31mpwned\\u202e": 1\n' + S3.replace(
        "    region: us-east-1\n", "    region: us-east-1\n    credentials: {env: {accessKeyId: \"\\e[31m\", "
                                   "secretAccessKey: B}}\n"))
    res = run_cli(["validate", "-f", str(path)], capsys, monkeypatch)
    assert res.code == 1
    assert "\x1b" not in res.err and "\u202e" not in res.err
    assert "\\x1b[2J\\x1b[31mpwned\\u202e: unknown field" in res.err
    assert "environment variable \\x1b[31m is not set" in res.err


def test_plan_output_escapes_control_characters(tmp_path, capsys, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text(H + S3 + '    config: {note: "a\\u202eb\\x9b2Jc\\x7f"}\n')
    res = run_cli(["plan", "-f", str(path), "--state", str(EXAMPLES / "minimal" / "cluster-state.yaml"), "--now", NOW],
                  capsys, monkeypatch)
    assert res.code == 0, res.err
    assert not {c for c in res.out if c != "\n" and not c.isprintable()}


def test_cli_missing_policy_with_a_name_too_long(capsys, monkeypatch):
    res = run_cli(["validate", "-f", "a" * 5000], capsys, monkeypatch)
    assert res.code == 1 and "File name too long" in res.err and "Internal error" not in res.err


# (id, state text, expected fragment; every message starts with FILE:LINE:COL)
OBJ = "apiVersion: velero.io/v1\nkind: Schedule\nmetadata:\n  name: nightly-full\n  namespace: velero\n"


def listed(*objects: str) -> str:
    return "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + "\n  ".join(o.strip().split("\n")) + "\n" for o in objects)


BACKUP = ("apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b1, namespace: velero, labels: "
          "{velero.io/schedule-name: nightly-full}}\nstatus: {phase: Completed, startTimestamp: '2026-01-01T00:00:00'}")
STATE_ERRORS = [
    ("items-TypeError", "kind: List\nitems: 5\n", ":2:8: items: must be a list of objects"),
    ("kind-unhashable", "kind: [1, 2]\nmetadata: {name: x}\n", ":1:7: kind: must be non-empty text, not a list"),
    ("name-unhashable", "kind: Schedule\nmetadata: {name: [1]}\n", ":2:18: metadata.name: must be a Kubernetes name"),
    ("name-with-escape-sequence", 'kind: Schedule\nmetadata: {name: "\\e[2J"}\n',
     ":2:18: metadata.name: must be a Kubernetes name (at most 253 characters, no spaces or '/'), not text '\\x1b[2J'"),
    ("namespace-null", "kind: Schedule\nmetadata: {name: a, namespace: null}\n", ":2:32: metadata.namespace: must be"),
    ("labels-AttributeError", listed(OBJ + "  labels: [a]"), ":9:13: items[0].metadata.labels: must be a mapping"),
    ("label-value-not-text", listed(OBJ + "  labels: {a: 1}"), ":9:17: items[0].metadata.labels.a: must be text"),
    ("secret-data-AttributeError", listed("kind: Secret\nmetadata: {name: s, namespace: velero}\ndata: [1]"),
     ":6:9: items[0].data: must be a mapping of text to text"),
    ("naive-time-TypeError-in-restores", listed(BACKUP, BACKUP.replace("b1", "b2").replace("00'", "00Z'")),
     ":7:46: items[0].status.startTimestamp: must be an RFC 3339 time with a zone"),
    ("containers-AttributeError-in-preflight",
     listed("kind: Deployment\nmetadata: {name: velero, namespace: velero}\n"
            "spec: {template: {spec: {containers: [5]}}}"),
     ":6:41: items[0].spec.template.spec.containers[0]: must be a container"),
    ("template-list", listed(OBJ + "spec: {template: [1]}"), ":9:20: items[0].spec.template: must be a mapping"),
    ("duplicate-key-last-won", listed(OBJ + "  name: other"), ":9:5: duplicate key 'name'"),
    ("python-tag", listed(OBJ + "spec: !!python/object:os.system {}"), ":9:9: tag !!python/object:os.system"),
    ("recursive-anchor", "kind: List\nitems: &a [*a]\n", ":2:8: an alias refers to the node that contains it"),
    ("bomb-hang", lol(9, 10) + "kind: List\nitems: []\n", ":5:5: aliases expand to more than 100000 values"),
    ("alias-chain-depth", "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 120))
     + "kind: List\nitems: []\n", ":101:7: aliases nest deeper than 100 levels"),
    ("5000-digits-ValueError", listed(OBJ + "  generation: " + "9" * 5000), ":9:17: '9999"),
    ("not-UTF-8-without-line", OBJ.encode() + b"spec: {a: \xff}\n", ":6: state file is not valid UTF-8 (byte 0xff)"),
    ("NUL", OBJ + "spec: {a: \"\x00\"}\n", ":6: invalid YAML: character #x0000 is not allowed"),
]
JSON_ERRORS = [
    ("json-RecursionError", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", ": invalid JSON: nesting deeper than 100"),
    ("json-5000-digits-ValueError", '{"kind": "List", "items": [], "x": 1' + "1" * 5000 + "}",
     ": invalid JSON: a number has too many digits"),
    ("json-duplicate-key", '{"kind": "List", "kind": "List", "items": []}', ": invalid JSON: duplicate key 'kind'"),
    ("json-bad-object", '{"kind": "List", "items": [{"kind": "Schedule", "metadata": {"name": 5}}]}',
     ": items[0].metadata.name: must be a Kubernetes name (at most 253 characters, no spaces or '/'), not an "
     "integer 5"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in STATE_ERRORS + JSON_ERRORS],
                         ids=[c[0] for c in STATE_ERRORS + JSON_ERRORS])
def test_state_error_names_file_and_line(text, expected, tmp_path):
    path = tmp_path / "cluster-state.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with bounded("cases: state errors"), pytest.raises(StateError) as caught:
        read_state_file(path)
    assert str(caught.value).startswith(f"{path}{expected}"), str(caught.value)[:500]


def test_deep_last_applied_annotation_is_no_crash(tmp_path):
    """An annotation is text of up to 256 KiB: a live cluster accepts 100,000 `[` in snapplan.io/last-applied."""
    import yaml

    doc = yaml.safe_load((EXAMPLES / "harness" / "cluster-state.yaml").read_text())
    primary = next(i for i in doc["items"]
                   if i["kind"] == "BackupStorageLocation" and i["metadata"]["name"] == "primary")
    primary["metadata"]["annotations"]["snapplan.io/last-applied"] = "[" * 100_000 + "]" * 100_000
    (tmp_path / "state.yaml").write_text(yaml.safe_dump(doc))
    live = read_state_file(tmp_path / "state.yaml")
    plan_against(prepare(EXAMPLES / "harness" / "policy.yaml", env=HARNESS_ENV), live, now=NOW)


@pytest.mark.parametrize("what", ["policy", "state"])
def test_deep_nesting_does_not_crash_libyaml(what, tmp_path):
    """libyaml composes in C recursion: 100,000 levels of `[` killed the process (SIGSEGV), so no traceback,
    no message, no exit code. A subprocess, so a regression fails this test instead of ending the run."""
    path = tmp_path / "deep.yaml"
    path.write_text(("metadata: " if what == "policy" else "a: ") + "[" * 100_000 + "]" * 100_000 + "\n")
    args = ["validate", "-f", str(path)] if what == "policy" else \
        ["plan", "-f", str(EXAMPLES / "harness" / "policy.yaml"), "--state", str(path)]
    code = f"import sys; sys.argv = ['snapplan', *{args!r}]; from engine.cli.app import main; main()"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", **HARNESS_ENV})
    assert res.returncode == 1, (res.returncode, res.stderr[-2000:])
    assert f"{path}:1:" in res.stderr and "nesting deeper than" in res.stderr


# Worst cases: each one's time is bounded, and for hostile ones its traced peak too; both show in the summary.
HOSTILE = {
    "billion laughs (policy)": lambda d: _policy(d, H + lol(9, 10)),
    "merge-key bomb (policy)": lambda d: _policy(d, H + S3 + MERGE_BOMB),
    "10,000 unhashable list items (policy)": lambda d: _policy(
        d, H + S3 + "apps:\n  a:\n    namespaces: [" + ", ".join(f"[{i}]" for i in range(10_000)) + "]\n"),
    "2 MB name (policy)": lambda d: _policy(d, H.replace("name: p", "name: " + "a" * 2_000_000)),
    "50,000 duplicate keys (policy)": lambda d: _policy(d, H + S3 + "apps:\n" + "  a: {}\n" * 50_000),
    "billion laughs (state)": lambda d: _state(d, lol(9, 10) + "kind: List\nitems: []\n"),
}
LARGE = {
    "file over the 1 MiB limit (policy)": lambda d: _policy(d, H + "# " + "x" * MAX_BYTES + "\n"),
    "1,000 schedules, valid (policy -> plan)": lambda d: _plan(d, 1_000),
    "2,000 backups (state -> plan)": lambda d: _plan_state(d, 2_000),
}


def _policy(d, text):
    (d / "policy.yaml").write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(d / "policy.yaml", env={})
    assert all(len(str(x)) < 1_000 for x in caught.value.diagnostics)


def _state(d, text):
    (d / "state.yaml").write_text(text)
    with pytest.raises(StateError):
        read_state_file(d / "state.yaml")


def _plan(d, n):
    (d / "policy.yaml").write_text(H + S3 + "schedules:\n" + "".join(
        f"  s{i}:\n    scope: full\n    schedule: '{i % 60} {i % 24} * * *'\n    retention: 7d\n" for i in range(n)))
    live = read_state_file(EXAMPLES / "minimal" / "cluster-state.yaml")
    plan = plan_against(prepare(d / "policy.yaml", env={}), live, now=NOW).plan
    assert plan.summary["add"] == n + 1


def _plan_state(d, n):
    import yaml

    doc = yaml.safe_load((EXAMPLES / "harness" / "cluster-state.yaml").read_text())
    backup = next(i for i in doc["items"] if i["kind"] == "Backup")
    for j in range(n):
        doc["items"].append({**backup, "metadata": {**backup["metadata"], "name": f"extra-{j}"}})
    (d / "state.yaml").write_text(yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    plan_against(prepare(EXAMPLES / "harness" / "policy.yaml", env=HARNESS_ENV), read_state_file(d / "state.yaml"),
                 now=NOW)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_case_is_bounded_in_time_and_memory(name, tmp_path):
    with bounded(f"worst: {name}"):
        HOSTILE[name](tmp_path)
    traced_peak(f"worst: {name}", lambda: HOSTILE[name](tmp_path))


@pytest.mark.parametrize("name", list(LARGE))
def test_large_input_is_bounded_in_time(name, tmp_path):
    with bounded(f"worst: {name}"):
        LARGE[name](tmp_path)


@pytest.mark.parametrize("expr", ["hourly", "daily", "weekly", "monthly", "*/5 * * * *", "0 3 * * mon-fri",
                                  "0 0 29 2 *", "5/10 * * * *", "0 0 ? * *", "0 0 * JAN-MAR SUN", "@every 1h30m",
                                  "@every 2562047h", "*/100 * * * *", "0,30 9-17 * * 1-5"])
def test_cron_accepts_what_velero_accepts(expr):
    cron.check(expr)


@pytest.mark.parametrize("expr", ["0 0 L * *", "0 0 1W * *", "0 0 * * 1#2", "H * * * *", "0 0 * * 7", "5-1 * * * *",
                                  "*/0 * * * *", "*-5 * * * *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "@every ٣h",
                                  "@every 2562048h", "0 0 * FOO *", "1-2-3 * * * *", "x" * 201])
def test_cron_refuses_what_velero_refuses_or_never_runs(expr):
    with pytest.raises(cron.CronError):
        cron.check(expr)

"""Known fake credentials in every form (file, env, secretRef in the cluster) never show: not in plan text or
JSON, saved plans, apply output and progress, error messages (failed, refused, stale, timed out), storage
check, import, audit, validate, graph, nor a crash log. Searched as text and base64, whole and per value.
snapplan has no --debug option or debug log (tests/reliability/test_data_safety.py looks for one).
"""
from __future__ import annotations

import base64
import builtins
import re
import stat
import tempfile
from pathlib import Path

import pytest

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import run_cli, write
from tests.reliability.support import GVR

ENV = {"SP_ACCESS_KEY": "AKIAENVFAKE000000001", "SP_SECRET_KEY": "envSecret/Fake+Value00000000000000001",
       "SP_SESSION_TOKEN": "envSessionTokenFake0000000000000001",
       # the AWS credential chain: what `storage check` uses for a secretRef (its Secret is in the cluster)
       "AWS_ACCESS_KEY_ID": "AKIACHAINFAKE0000001", "AWS_SECRET_ACCESS_KEY": "chainSecretFake000000000000000000001"}
ROTATED = "envSecretRotated0000000000000000002"
REF = ("AKIAREFFAKE000000001", "refSecretFake0000000000000000000001")  # in the cluster's Secret ref-credentials
REF_FILE = f"[default]\naws_access_key_id={REF[0]}\naws_secret_access_key={REF[1]}\n"


def policy_text(endpoint: str) -> str:
    return f"""
apiVersion: snapplan/v1
kind: BackupPolicy
metadata: {{name: secrets}}
veleroNamespace: velero
storage:
  from-file: {{type: s3-compatible, default: true, bucket: velero, prefix: file, endpoint: "{endpoint}",
              credentials: {{file: ./file-credentials}}}}
  from-env: {{type: s3-compatible, bucket: velero, prefix: env, endpoint: "{endpoint}",
             credentials: {{env: {{accessKeyId: SP_ACCESS_KEY, secretAccessKey: SP_SECRET_KEY,
                                   sessionToken: SP_SESSION_TOKEN}}}}}}
  from-ref: {{type: s3-compatible, bucket: velero, prefix: ref, endpoint: "{endpoint}",
             credentials: {{secretRef: {{name: ref-credentials, key: cloud}}}}}}
schedules:
  daily: {{scope: full, storage: from-file, schedule: daily}}
  env-daily: {{scope: full, storage: from-env, schedule: daily}}
  ref-daily: {{scope: full, storage: from-ref, schedule: daily}}
"""


def forms(value: str) -> set[str]:
    raw = value.encode()
    return {value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}


def env_file(secret: str) -> str:
    return (f"[default]\naws_access_key_id={ENV['SP_ACCESS_KEY']}\naws_secret_access_key={secret}\n"
            f"aws_session_token={ENV['SP_SESSION_TOKEN']}\n")


class Transcript:
    """Everything a person or a script could see, by where it came from."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    def add(self, label: str, *texts: str) -> None:
        self.seen.append((label, "\n".join(texts)))

    def leaks(self, needles: set[str]) -> list[str]:
        return [f"{label}: {needle!r}" for label, text in self.seen for needle in sorted(needles) if needle in text]


@pytest.fixture
def setup(s3, tmp_path, capsys, monkeypatch):
    s3.create_bucket("velero")
    file_creds = s3.create_credentials()  # valid for moto: storage check gets through with these
    write(tmp_path / "file-credentials", file_creds.shared_credentials_file())
    policy = write(tmp_path / "policy.yaml", policy_text(s3.url))
    with Cluster() as cluster:
        cluster.store.create(GVR["Secret"], "velero", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ref-credentials"},
            "data": {"cloud": base64.b64encode(REF_FILE.encode()).decode()}})
        kubeconfig = str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
        secrets = {file_creds.access_key_id, file_creds.secret_access_key, *ENV.values(), ROTATED, *REF,
                   cluster.token}
        whole = [(tmp_path / "file-credentials").read_text(), env_file(ENV["SP_SECRET_KEY"]), env_file(ROTATED),
                 REF_FILE]
        needles = set().union(*(forms(v) for v in [*secrets, *whole]))
        yield cluster, kubeconfig, policy, needles, whole


def test_no_credential_value_is_ever_shown(setup, tmp_path, capsys, monkeypatch, figures):
    cluster, kubeconfig, policy, needles, whole = setup
    seen = Transcript()
    kc = ["--kubeconfig", kubeconfig]

    def cli(label, *args, env=ENV):
        res = run_cli(list(args), capsys, monkeypatch, env=env)
        seen.add(label, res.out, res.err)
        assert "Traceback" not in res.out + res.err, (label, res.err)
        return res

    assert cli("validate", "validate", "-f", str(policy)).code == 0
    cli("validate --json", "validate", "--json", "-f", str(policy))
    assert cli("plan", "plan", "-f", str(policy), *kc).code == 0
    cli("plan --json", "plan", "--json", "-f", str(policy), *kc)
    cli("graph", "graph", "-f", str(policy), *kc)
    saved = tmp_path / "plans" / "first.plan"
    assert cli("plan --out", "plan", "-f", str(policy), *kc, "--out", str(saved)).code == 0
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    seen.add("saved plan file", saved.read_text())

    # apply's own storage check: the file credentials are moto's, the env ones fake (refused by S3)
    res = cli("apply, storage check refused", "apply", "--auto-approve", "--no-wait", "-f", str(policy), *kc)
    assert res.code == 1 and "the storage check failed; nothing was applied" in res.err, res.err
    apply = ["apply", "--auto-approve", "--no-wait", "--skip-storage-check", "-f", str(policy), *kc]

    # A server that quotes what it was sent, as admission webhooks do when they deny an object.
    quoted = f"data.cloud: {base64.b64encode(whole[0].encode()).decode()} / {ENV['SP_SECRET_KEY']}"
    rule = cluster.faults.add(verb="create", resource="secrets", status=422,
                              message=f'admission webhook "deny.example.com" denied the request: {quoted}')
    res = cli("apply, 422 on Secret create", *apply)
    assert res.code == 1 and rule.fired == 2 and "(422 " in res.out
    cluster.faults.clear()
    forbidden = cluster.faults.add(verb="create", resource="secrets", status=403, times=1, message=quoted)
    res = cli("apply, 403 on a Secret create", *apply)
    assert res.code == 1 and forbidden.fired == 1 and "(403 " in res.out, res.out + res.err
    cluster.faults.clear()

    # Retried server errors, progress, and waits that time out (no Velero runs here); then the rest.
    retried = cluster.faults.add(verb="create", resource="secrets", status=500, times=2, message=quoted)
    res = cli("apply, 500 retried, waits time out", "apply", "--auto-approve", "--skip-storage-check",
              "--timeout", "1s", "-f", str(policy), *kc)
    assert res.code == 1 and retried.fired == 2 and "retrying in" in res.err, res.out + res.err
    assert "timed out after 1s waiting for Velero to validate the location" in res.out, res.out
    assert cli("apply, converges", *apply).code == 0
    data = {o["metadata"]["name"]: o.get("data", {}) for o in cluster.store.list(GVR["Secret"], "velero")[0]}
    assert base64.b64decode(data["snapplan-from-env-credentials"]["cloud"]).decode() == whole[1]  # the values are real

    # A stale saved plan (the env secret rotated), and the apply of the rotation.
    rotated = {**ENV, "SP_SECRET_KEY": ROTATED}
    res = cli("apply stale saved plan", "apply", str(saved), "--no-wait", "--skip-storage-check", env=rotated)
    assert res.code == 1 and "no longer holds" in res.err
    res = cli("plan after rotation", "plan", "-f", str(policy), *kc, env=rotated)
    assert "data.cloud = (sensitive, changed)" in res.out, res.out
    assert cli("apply rotation", *apply, env=rotated).code == 0

    # The access key ids are shown masked (AKIA…0001) where S3 refuses them.
    res = cli("storage check", "storage", "check", "-f", str(policy), *kc)
    assert res.code == 1 and "Storage check: 2 failed, 1 passed." in res.out, res.out
    assert cli("storage check --json", "storage", "check", "--json", "-f", str(policy)).code == 1
    assert cli("import", "import", *kc).code == 0
    assert cli("import --json", "import", "--json", *kc).code == 0
    assert cli("audit", "audit", "-f", str(policy), *kc, env=rotated).code == 0
    assert cli("audit --json", "audit", "--json", "-f", str(policy), *kc, env=rotated).code == 0

    # A bug in the middle of apply: the crash log holds the traceback, never a value.
    def bug(*args, **kwargs):
        raise TypeError("'NoneType' object is not subscriptable")
    monkeypatch.setattr("engine.apply.run.Executor", bug)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(builtins, "input", lambda prompt="": "yes")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    res = cli("apply, internal error", "apply", "--no-wait", "--skip-storage-check", "-f", str(policy), *kc,
              env={**ENV, "SP_SECRET_KEY": "envSecretAfterTheCrash000000000003"})
    needles |= forms("envSecretAfterTheCrash000000000003")
    crash = Path(re.search(r"traceback in (\S+)", res.err).group(1))
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600 and "TypeError" in crash.read_text()
    seen.add("crash log", crash.read_text())

    assert seen.leaks(needles) == []
    figures(f"secrets: {len(needles)} needles (file, env, secretRef, AWS chain, bearer token; raw and base64) x "
            f"{len(seen.seen)} outputs ({sum(len(t) for _, t in seen.seen) // 1000} kB): 0 occurrences; "
            "saved plan and crash log mode 0600; no --debug option exists")


def test_redaction_hides_every_form_and_keeps_the_message_readable():
    from engine.apply.redact import HIDDEN, needles, redact

    data = env_file(ENV["SP_SECRET_KEY"]).encode()
    hidden = needles([data])
    message = (f"denied: {base64.b64encode(data).decode()} has aws_secret_access_key={ENV['SP_SECRET_KEY']} "
               f"({base64.b64encode(ENV['SP_SESSION_TOKEN'].encode()).decode()}) in profile [default]")
    assert redact(message, hidden) == (f"denied: {HIDDEN} has aws_secret_access_key={HIDDEN} ({HIDDEN}) "
                                       "in profile [default]")

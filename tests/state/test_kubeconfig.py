"""KUBECONFIG lists merged as kubectl merges them (first file wins per key), on every command that reads a
cluster; --context names what exists."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.cluster.apiserver.cluster import Cluster
from tests.helpers import EXAMPLES, NOW, run_cli

MINIMAL = str(EXAMPLES / "minimal" / "policy.yaml")


@pytest.fixture
def two(tmp_path):
    """Cluster A in file a (context `a`, current); cluster B in file b, which also names a context `a` and
    sets its own current-context `b`: with KUBECONFIG=a:b kubectl uses A for both."""
    with Cluster() as a, Cluster() as b:
        fa = a.write_kubeconfig(tmp_path / "a", context="a")
        fb = b.write_kubeconfig(tmp_path / "b", context="b")
        doc = yaml.safe_load(fb.read_text())
        shadow = {"name": "a", "context": {"cluster": "b", "user": "b"}}
        doc["contexts"].append(shadow)  # loses to file a's context `a`
        fb.write_text(yaml.safe_dump(doc))
        yield a, b, fa, fb


def _reads(cluster) -> int:
    return sum(cluster.requests.snapshot().values())


COMMANDS = [
    ["plan", "-f", MINIMAL, "--now", NOW],
    ["graph", "-f", MINIMAL, "--now", NOW],
    ["audit", "-f", MINIMAL, "--now", NOW],
    ["import", "--name", "x"],
    ["snapshots", "--now", NOW],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_kubeconfig_list_merges_first_file_wins(two, args, capsys, monkeypatch):
    a, b, fa, fb = two
    a.requests.reset(), b.requests.reset()
    res = run_cli(args, capsys, monkeypatch, env={"KUBECONFIG": f"{fa}:{fb}"})
    assert res.code == 0, res.err
    assert _reads(a) > 0 and _reads(b) == 0  # current-context of the first file: a
    a.requests.reset(), b.requests.reset()
    res = run_cli([*args, "--context", "b"], capsys, monkeypatch, env={"KUBECONFIG": f"{fa}:{fb}"})
    assert res.code == 0, res.err
    assert _reads(b) > 0 and _reads(a) == 0


def test_kubeconfig_list_skips_missing_files_and_names_the_context_of_the_first(two, tmp_path, capsys,
                                                                                monkeypatch):
    a, b, fa, fb = two
    res = run_cli(["plan", "--json", "-f", MINIMAL, "--now", NOW, "--context", "a"], capsys, monkeypatch,
                  env={"KUBECONFIG": f"{tmp_path / 'absent'}:{fb}:{fa}"})
    assert res.code == 0, res.err
    assert json.loads(res.out)["state"] == f"cluster {b.url}"  # file b comes first now: its `a` wins


def test_kubeconfig_list_of_missing_files_is_one_error(tmp_path, capsys, monkeypatch):
    kc = f"{tmp_path / 'x'}:{tmp_path / 'y'}"
    res = run_cli(["plan", "-f", MINIMAL], capsys, monkeypatch, env={"KUBECONFIG": kc})
    assert res.code == 1 and res.err == f"Error: kubeconfig {kc} does not exist; check --kubeconfig / KUBECONFIG\n"


def test_unknown_context_lists_the_contexts(two, capsys, monkeypatch):
    _, _, fa, fb = two
    res = run_cli(["plan", "-f", MINIMAL, "--context", "nope"], capsys, monkeypatch,
                  env={"KUBECONFIG": f"{fa}:{fb}"})
    assert res.code == 1
    assert res.err == "Error: context 'nope' is not in KUBECONFIG (contexts: a, b)\n"


def test_saved_plan_made_through_a_kubeconfig_list_applies(two, tmp_path, capsys, monkeypatch):
    a, b, fa, fb = two
    out = tmp_path / "p.plan"
    env = {"KUBECONFIG": f"{fa}:{fb}"}
    res = run_cli(["plan", "-f", MINIMAL, "--out", str(out)], capsys, monkeypatch, env=env)
    assert res.code == 0, res.err
    monkeypatch.delenv("KUBECONFIG")
    res = run_cli(["apply", str(out), "--no-wait", "--skip-storage-check"], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert a.store.get(("velero.io", "v1", "schedules"), "velero", "nightly") is not None
    assert b.store.list(("velero.io", "v1", "schedules"), "velero")[0] == []

"""Golden plan of examples/hooks-filters: app hooks and resource filters shown like any other field."""
from __future__ import annotations

from tests.helpers import EXAMPLES, NOW, run_cli

ARGS = ["-f", str(EXAMPLES / "hooks-filters" / "policy.yaml"), "--state",
        str(EXAMPLES / "minimal" / "cluster-state.yaml"), "--now", NOW]


def test_text_plan_shows_hooks_and_filters(snapshot, capsys, monkeypatch):
    res = run_cli(["plan", *ARGS], capsys, monkeypatch)
    assert res.code == 0, res.err
    out = res.out.replace(str(EXAMPLES), "examples")
    assert 'spec.template.excludedNamespaceScopedResources     = ["events", "events.events.k8s.io"]' in out
    assert "spec.template.includeClusterResources              = true" in out
    assert '"name": "orders-db", "includedNamespaces": ["orders-db"]' in out
    assert out == snapshot
    assert "schedules.weekly-config.resources: hooks of app orders-db, web do not run" in res.err, res.err


def test_mixed_filter_styles_stop_the_plan_at_the_line(tmp_path, capsys, monkeypatch):
    text = (EXAMPLES / "hooks-filters" / "policy.yaml").read_text()
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace("      excludeNamespaceScoped: [events, events.events.k8s.io]",
                                "      excludeNamespaceScoped: [events, events.events.k8s.io]\n    clusterResources: exclude"))
    res = run_cli(["plan", "-f", str(bad), "--state", str(EXAMPLES / "minimal" / "cluster-state.yaml"), "--now", NOW],
                  capsys, monkeypatch)
    assert res.code != 0
    line = text.splitlines().index("    resources:                   # the newer, scoped filters") + 1
    assert f"{bad}:{line}:" in res.err and "They cannot be used together" in res.err, res.err
    assert "Traceback" not in res.err

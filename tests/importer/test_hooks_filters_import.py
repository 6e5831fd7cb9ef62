"""Import keeps backup hooks and resource filters as policy fields: import -> plan shows no spec change."""
from __future__ import annotations

import yaml

from engine.spec import load_policy
from tests.helpers import EXAMPLES, applied_state, dump_state, write
from tests.importer.support import acting, assert_adoption, extra_fields, import_cli, plan_cli

VELERO = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: velero, resourceVersion: "1"}
- apiVersion: velero.io/v1
  kind: BackupStorageLocation
  metadata: {name: default, namespace: velero, resourceVersion: "2", uid: u2}
  spec: {provider: aws, default: true, objectStorage: {bucket: bk1}, config: {region: eu-west-1}}
"""
CLI_SCHEDULE = """- apiVersion: velero.io/v1
  kind: Schedule
  metadata: {name: db-nightly, namespace: velero, resourceVersion: "3", uid: u3}
  spec:
    schedule: 0 1 * * *
    template:
      metadata: {labels: {snapplan.io/scope: application, snapplan.io/app: db}}
      ttl: 168h0m0s
      storageLocation: default
      includedNamespaces: [db]
      labelSelector: {matchLabels: {app: postgres}}
      excludedResources: [events]
      includeClusterResources: true
      hooks:
        resources:
        - name: pg-dump
          includedNamespaces: [db]
          labelSelector: {matchLabels: {role: primary}}
          pre:
          - exec: {container: postgres, command: [/bin/sh, -c, pg_dumpall > /dump/all.sql], onError: Continue, timeout: 2m}
          post:
          - exec: {command: [rm, /dump/all.sql]}
- apiVersion: velero.io/v1
  kind: Schedule
  metadata: {name: scoped, namespace: velero, resourceVersion: "4", uid: u4}
  spec:
    schedule: 0 2 * * *
    template:
      metadata: {labels: {snapplan.io/scope: full}}
      ttl: 720h0m0s
      storageLocation: default
      includedNamespaces: ["*"]
      includedNamespaceScopedResources: [deployments.apps, persistentvolumeclaims]
      excludedClusterScopedResources: [nodes]
      hooks:
        resources:
        - name: pg-dump
          includedNamespaces: [db]
          labelSelector: {matchLabels: {role: primary}}
          pre:
          - exec: {container: postgres, command: [/bin/sh, -c, pg_dumpall > /dump/all.sql], onError: Continue, timeout: 2m}
          post:
          - exec: {command: [rm, /dump/all.sql]}
"""


def test_hooks_filters_example_applied_then_imported(tmp_path, capsys, monkeypatch):
    original = EXAMPLES / "hooks-filters" / "policy.yaml"
    state = dump_state(tmp_path / "state.yaml", applied_state(original))
    out = tmp_path / "imported.yaml"
    res = import_cli(state, out, capsys, monkeypatch)
    assert "kept as in the cluster" not in res.err, res.err
    plan = plan_cli(out, state, capsys, monkeypatch)
    assert plan["has_changes"] is False, acting(plan)
    before, _ = load_policy(original)
    after, _ = load_policy(out)
    assert after.apps == before.apps
    for name, s in before.schedules.items():
        assert after.schedules[name].resources == s.resources


def test_velero_made_schedules_with_hooks_and_filters_are_adopted_with_no_spec_change(tmp_path, capsys, monkeypatch):
    state = write(tmp_path / "state.yaml", VELERO + CLI_SCHEDULE)
    out = tmp_path / "imported.yaml"
    res = import_cli(state, out, capsys, monkeypatch, "--name", "p")
    assert "kept as in the cluster" not in res.err, res.err
    doc = yaml.safe_load(out.read_text())
    assert doc["apps"]["db"]["hooks"] == {
        "name": "pg-dump", "labelSelector": {"role": "primary"},
        "pre": [{"container": "postgres", "command": ["/bin/sh", "-c", "pg_dumpall > /dump/all.sql"],
                 "onError": "Continue", "timeout": "2m"}],
        "post": [{"command": ["rm", "/dump/all.sql"]}]}
    assert doc["schedules"]["db-nightly"]["resources"] == {"exclude": ["events"]}
    assert doc["schedules"]["db-nightly"]["clusterResources"] == "include"
    assert doc["schedules"]["scoped"]["resources"] == {
        "excludeClusterScoped": ["nodes"], "includeNamespaceScoped": ["deployments.apps", "persistentvolumeclaims"]}
    changes = acting(plan_cli(out, state, capsys, monkeypatch))
    assert set(changes) == {"bsl.default", "schedule.db-nightly", "schedule.scoped"}
    for change in changes.values():
        assert_adoption(change)
        assert extra_fields(change) == set(), change


def test_hooks_the_policy_cannot_say_are_kept_and_noted(tmp_path, capsys, monkeypatch):
    odd = CLI_SCHEDULE.replace("          includedNamespaces: [db]\n          labelSelector: {matchLabels: {role: primary}}",
                               "          includedNamespaces: [db]\n          includedResources: [pods]", 1)
    state = write(tmp_path / "state.yaml", VELERO + odd)
    out = tmp_path / "imported.yaml"
    res = import_cli(state, out, capsys, monkeypatch, "--name", "p")
    assert "schedules.db-nightly: kept as in the cluster (the policy has no field for them): spec.template.hooks" \
        in res.err, res.err


def test_a_full_schedule_without_the_apps_hooks_is_noted_and_planned(tmp_path, capsys, monkeypatch):
    no_hooks = CLI_SCHEDULE[:CLI_SCHEDULE.index("      hooks:", CLI_SCHEDULE.index("name: scoped"))]
    state = write(tmp_path / "state.yaml", VELERO + no_hooks)
    out = tmp_path / "imported.yaml"
    res = import_cli(state, out, capsys, monkeypatch, "--name", "p")
    assert ("schedules.scoped: an app's hooks run in every backup that covers the app, so the plan changes "
            "spec.template.hooks of this schedule to pg-dump") in res.err, res.err
    changes = acting(plan_cli(out, state, capsys, monkeypatch))
    assert extra_fields(changes["schedule.scoped"]) == {"spec.template.hooks.resources"}
    assert extra_fields(changes["schedule.db-nightly"]) == set()

"""Backup hooks per app and resource filters (issue 17, items 1 and 2): what reaches Velero's objects."""
from __future__ import annotations

import pytest

from engine.addr import Address
from engine.errors import PolicyError
from engine.model import build_desired
from engine.model.crd import check_object
from engine.model.desired import backup_template
from engine.spec import load_policy
from tests.helpers import write

HEADER = ("apiVersion: snapplan/v1\nkind: BackupPolicy\nmetadata:\n  name: p\n"
          "storage:\n  s: {type: aws, bucket: bk1, region: r1, default: true}\n")
APPS = """apps:
  db:
    namespaces: [db]
    labelSelector: {app: postgres}
    hooks:
      pre:
        - {container: postgres, command: [/bin/sh, -c, pg_dump -f /backup/db.sql], onError: Fail, timeout: 5m}
      post:
        - {command: [/bin/true]}
  web:
    namespaces: [web, web-cache]
    hooks:
      labelSelector: {tier: front}
      pre:
        - {container: nginx, command: [fsfreeze, --freeze, /data], onError: Continue}
  plain:
    namespaces: [plain]
"""
DB_HOOK = {"name": "db", "includedNamespaces": ["db"], "labelSelector": {"matchLabels": {"app": "postgres"}},
           "pre": [{"exec": {"container": "postgres", "command": ["/bin/sh", "-c", "pg_dump -f /backup/db.sql"],
                             "onError": "Fail", "timeout": "5m"}}],
           "post": [{"exec": {"command": ["/bin/true"]}}]}
WEB_HOOK = {"name": "web", "includedNamespaces": ["web", "web-cache"], "labelSelector": {"matchLabels": {"tier": "front"}},
            "pre": [{"exec": {"container": "nginx", "command": ["fsfreeze", "--freeze", "/data"],
                              "onError": "Continue"}}]}


def load(tmp_path, body: str):
    return load_policy(write(tmp_path / "p.yaml", HEADER + body), strict_sources=True, env={})


def schedule(tmp_path, body: str, name: str) -> dict:
    policy, _ = load(tmp_path, body)
    obj = build_desired(policy, {}).objects[Address("Schedule", "velero", name)].obj
    assert check_object(obj) == []
    return obj


def problems(tmp_path, body: str) -> list[str]:
    try:
        load(tmp_path, body)
    except PolicyError as exc:
        return [str(d) for d in exc.diagnostics]
    return []


def test_app_hooks_go_into_every_schedule_that_covers_the_app(tmp_path):
    body = APPS + """schedules:
  db-hourly: {scope: application, app: db, schedule: hourly}
  plain-daily: {scope: application, app: plain, schedule: daily}
  full: {scope: full, schedule: daily}
  full-but-web: {scope: full, schedule: weekly, exclude: [web, web-cache]}
"""
    assert schedule(tmp_path, body, "db-hourly")["spec"]["template"]["hooks"] == {"resources": [DB_HOOK]}
    assert "hooks" not in schedule(tmp_path, body, "plain-daily")["spec"]["template"]
    assert schedule(tmp_path, body, "full")["spec"]["template"]["hooks"] == {"resources": [DB_HOOK, WEB_HOOK]}
    # an app whose namespaces a full backup leaves out runs no hook in it
    assert schedule(tmp_path, body, "full-but-web")["spec"]["template"]["hooks"] == {"resources": [DB_HOOK]}


def test_on_demand_backup_of_an_app_carries_its_hooks(tmp_path):
    policy, _ = load(tmp_path, APPS)
    spec = backup_template(policy, scope="application", app="web", storage="s", retention="7d")
    assert spec["hooks"] == {"resources": [WEB_HOOK]}
    full = backup_template(policy, scope="full", app=None, storage="s", retention="7d")
    assert full["hooks"] == {"resources": [DB_HOOK, WEB_HOOK]}


@pytest.mark.parametrize("hook, message", [
    ("{command: [x], onError: fail}", "onError"),
    ("{command: [x], timeout: 30}", "timeout"),
    ("{command: []}", "command"),
    ("{container: c}", "command"),
])
def test_bad_hooks_are_reported_at_their_position(tmp_path, hook, message):
    body = f"apps:\n  db:\n    namespaces: [db]\n    hooks:\n      pre:\n        - {hook}\n"
    found = problems(tmp_path, body)
    assert found and all("p.yaml:12:" in p for p in found), found
    assert any("apps.db.hooks.pre" in p and message in p for p in found), found


def test_resource_filters_on_a_schedule(tmp_path):
    body = """schedules:
  old-style:
    scope: full
    schedule: daily
    resources: {include: [deployments.apps, configmaps], exclude: [secrets]}
    clusterResources: exclude
  new-style:
    scope: full
    schedule: daily
    resources: {includeClusterScoped: [persistentvolumes], excludeNamespaceScoped: [events, events.events.k8s.io]}
  auto: {scope: full, schedule: daily, clusterResources: auto}
  included: {scope: full, schedule: daily, clusterResources: include}
"""
    old = schedule(tmp_path, body, "old-style")["spec"]["template"]
    assert old["includedResources"] == ["deployments.apps", "configmaps"]
    assert old["excludedResources"] == ["secrets"]
    assert old["includeClusterResources"] is False
    new = schedule(tmp_path, body, "new-style")["spec"]["template"]
    assert new["includedClusterScopedResources"] == ["persistentvolumes"]
    assert new["excludedNamespaceScopedResources"] == ["events", "events.events.k8s.io"]
    assert "includeClusterResources" not in new and "includedResources" not in new
    assert "includeClusterResources" not in schedule(tmp_path, body, "auto")["spec"]["template"]
    assert schedule(tmp_path, body, "included")["spec"]["template"]["includeClusterResources"] is True


@pytest.mark.parametrize("filters", [
    "resources: {include: [pods], includeNamespaceScoped: [configmaps]}",
    "resources: {excludeClusterScoped: [nodes]}\n    clusterResources: include",
])
def test_old_and_new_filter_styles_together_are_refused_with_veleros_message(tmp_path, filters):
    body = f"schedules:\n  mixed:\n    scope: full\n    schedule: daily\n    {filters}\n"
    found = problems(tmp_path, body)
    assert len(found) == 1, found
    assert "p.yaml:11:" in found[0] and "schedules.mixed.resources" in found[0]
    assert ("include-resources, exclude-resources and include-cluster-resources are old filter parameters. "
            "include-cluster-scoped-resources, exclude-cluster-scoped-resources, include-namespace-scoped-resources "
            "and exclude-namespace-scoped-resources are new filter parameters. They cannot be used together") in found[0]


def test_resource_filters_on_a_restore(tmp_path):
    body = """schedules:
  full: {scope: full, schedule: daily}
restores:
  r:
    from: {schedule: full}
    scope: full
    resources: {include: [persistentvolumeclaims, persistentvolumes], exclude: [pods]}
    clusterResources: include
"""
    policy, _ = load(tmp_path, body)
    obj = build_desired(policy, {}).objects[Address("Restore", "velero", "r")].obj
    assert check_object(obj) == []
    assert obj["spec"]["includedResources"] == ["persistentvolumeclaims", "persistentvolumes"]
    assert obj["spec"]["excludedResources"] == ["pods"]
    assert obj["spec"]["includeClusterResources"] is True
    # a Restore has no cluster-/namespace-scoped filters: the schema says so where it is written
    bad = body.replace("exclude: [pods]", "excludeNamespaceScoped: [pods]")
    found = problems(tmp_path, bad)
    assert any(":13:" in p and "restores.r.resources" in p for p in found), found


@pytest.mark.parametrize("filters, warned", [
    ("resources: {include: [configmaps, secrets]}", True),
    ("resources: {exclude: [pods]}", True),
    ("resources: {includeNamespaceScoped: [deployments.apps]}", True),
    ("resources: {excludeNamespaceScoped: [pods]}", True),
    ("resources: {include: [pods, configmaps]}", False),
    ("resources: {include: ['*'], exclude: [secrets]}", False),
    ("resources: {excludeClusterScoped: [nodes]}", False),
])
def test_hooks_that_cannot_run_because_the_filters_leave_out_pods_are_a_warning(tmp_path, filters, warned):
    body = APPS + f"schedules:\n  s:\n    scope: application\n    app: db\n    schedule: daily\n    {filters}\n"
    _, warnings = load(tmp_path, body)
    found = [str(w) for w in warnings if "schedules.s.resources" in str(w)]
    if warned:
        assert len(found) == 1 and "hooks of app db do not run" in found[0] and "p.yaml:29:" in found[0], found
    else:
        assert found == []


def test_backup_now_from_a_schedule_carries_its_filters_and_hooks(tmp_path):
    from datetime import datetime, timezone

    from engine.snapshots.build import BackupRequest, on_demand_backup

    policy, _ = load(tmp_path, APPS + """schedules:
  nightly:
    scope: full
    schedule: daily
    resources: {excludeNamespaceScoped: [events]}
""")
    backup = on_demand_backup(policy, BackupRequest(schedule="nightly"), datetime(2026, 11, 24, tzinfo=timezone.utc))
    assert check_object(backup) == []
    assert backup["spec"]["excludedNamespaceScopedResources"] == ["events"]
    assert backup["spec"]["hooks"] == {"resources": [DB_HOOK, WEB_HOOK]}

"""Fixtures shared by every test directory."""
from tests.cluster.s3_fixtures import moto_s3, s3  # noqa: F401  (pytest finds fixtures by name)

pytest_plugins = ["tests.cluster.fixtures"]  # the test API server: cluster, kubeconfig, api_client, kubectl

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_plan_key(tmp_path_factory, monkeypatch):
    """Saved plans are signed with a key under $XDG_CONFIG_HOME: each test gets its own, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("SNAPPLAN_PLAN_KEY", raising=False)

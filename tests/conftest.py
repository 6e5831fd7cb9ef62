"""Fixtures shared by every test directory."""
import os

import pytest

from tests.cluster.s3_fixtures import moto_s3, s3  # noqa: F401  (pytest finds fixtures by name)

# the test API server (cluster, kubeconfig, api_client, kubectl); the real programs (real_cluster, real, WORLDS)
pytest_plugins = ["tests.cluster.fixtures", "tests.conformance.fixtures"]

# The conformance scenarios run real programs built with Go (`make conformance`); the default suite never
# collects them (and deselects the "real" parameter of tests parametrised over both worlds).
collect_ignore = [] if os.environ.get("SNAPPLAN_CONFORMANCE") == "1" else ["conformance"]


@pytest.fixture(autouse=True)
def _private_plan_key(tmp_path_factory, monkeypatch):
    """Saved plans are signed with a key under $XDG_CONFIG_HOME: each test gets its own, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("SNAPPLAN_PLAN_KEY", raising=False)

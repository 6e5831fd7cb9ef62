"""Fixtures shared by every test directory."""
from tests.cluster.s3_fixtures import moto_s3, s3  # noqa: F401  (pytest finds fixtures by name)

pytest_plugins = ["tests.cluster.fixtures"]  # the test API server: cluster, kubeconfig, api_client, kubectl

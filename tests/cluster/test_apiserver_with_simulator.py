"""The API server and the Velero simulator together: clients see what the simulator writes, over HTTPS."""
from __future__ import annotations

import base64

from kubernetes import client

from tests.cluster.velero_sim import objects

G, V, NS = "velero.io", "v1", "velero"


def test_a_location_created_over_https_becomes_available(cluster, velero_sim, s3, api_client) -> None:
    s3.create_bucket("backups")
    creds = s3.create_credentials()
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(NS, {"metadata": {"name": "cloud-credentials"}, "data": {
        "cloud": base64.b64encode(creds.shared_credentials_file().encode()).decode()}})
    co = client.CustomObjectsApi(api_client)
    co.create_namespaced_custom_object(G, V, NS, "backupstoragelocations", objects.storage_location(
        "default", "backups", s3_url=s3.url, credential=("cloud-credentials", "cloud"), default=True))
    rv = co.list_namespaced_custom_object(G, V, NS, "backupstoragelocations")["metadata"]["resourceVersion"]

    cluster.clock.advance(1)
    cluster.step()

    bsl = co.get_namespaced_custom_object(G, V, NS, "backupstoragelocations", "default")
    assert bsl["status"]["phase"] == "Available"
    assert int(bsl["metadata"]["resourceVersion"]) > int(rv)

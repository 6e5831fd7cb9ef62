"""Resource filters: Velero fails a Backup that mixes the old and new filter styles, in the words snapplan
refuses such a policy with (engine.spec.semantic.MIXED_FILTERS)."""
from __future__ import annotations

import pytest

from engine.spec.semantic import MIXED_FILTERS
from tests.cluster.velero_sim import objects
from tests.cluster.velero_sim.testing import BACKUP, SimCluster, sim_cluster  # noqa: F401


def with_location(c: SimCluster) -> None:
    c.s3.create_bucket("velero")
    c.add_credentials("cloud-credentials", c.s3.create_credentials())
    c.add_location("default", "velero", "cloud-credentials", prefix="cluster-a", default=True)


@pytest.mark.parametrize("filters, fails", [
    ({"includedResources": ["pods"], "includedNamespaceScopedResources": ["configmaps"]}, True),
    ({"includeClusterResources": False, "excludedClusterScopedResources": ["nodes"]}, True),
    ({"includedResources": ["pods"], "includeClusterResources": True}, False),
    ({"excludedNamespaceScopedResources": ["events"], "includedClusterScopedResources": ["persistentvolumes"]}, False),
])
def test_mixed_filter_styles_fail_validation_with_veleros_message(sim_cluster: SimCluster, filters, fails) -> None:
    c = sim_cluster
    with_location(c)
    b = objects.backup("b1", included_namespaces=["*"])
    b["spec"].update(filters)
    c.create(BACKUP, b)
    c.sim.step()
    status = c.get(BACKUP, "b1")["status"]
    if fails:
        assert status["phase"] == "FailedValidation"
        assert [e.replace("\n", " ") for e in status["validationErrors"]] == [MIXED_FILTERS]
    else:
        assert status["phase"] != "FailedValidation", status

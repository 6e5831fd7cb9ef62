"""The fleet's clusters as a CI matrix: GitHub Actions' `strategy.matrix` ({"include": [...]}) or a GitLab child
pipeline with one job per cluster. Pure: the fleet in, JSON-ready data out."""
from __future__ import annotations

from engine.fleet.spec import ClusterSpec

FORMATS = ("github", "gitlab")


def github_matrix(clusters: list[ClusterSpec]) -> dict:
    """`strategy: {matrix: ${{ fromJSON(needs.<job>.outputs.matrix) }}}`: one job per cluster, `matrix.cluster`."""
    return {"include": [{"cluster": c.name, "context": c.context, "region": c.variables.get("region"),
                         "labels": dict(sorted(c.labels.items()))} for c in clusters]}


HIDDEN_JOB = ".snapplan-cluster"


def gitlab_pipeline(clusters: list[ClusterSpec], fleet_path: str, include: str) -> dict:
    """A child pipeline (GitLab reads JSON as YAML): the file `include` (in the repository) defines the hidden job
    `.snapplan-cluster`; one job `cluster:<name>` per cluster extends it with SNAPPLAN_FLEET, SNAPPLAN_CLUSTER and
    SNAPPLAN_REGION set."""
    jobs: dict = {"include": [{"local": include}]}
    for c in clusters:
        jobs[f"cluster:{c.name}"] = {"extends": HIDDEN_JOB, "variables": {
            "SNAPPLAN_FLEET": fleet_path, "SNAPPLAN_CLUSTER": c.name, "SNAPPLAN_REGION": c.variables.get("region", "")}}
    return jobs

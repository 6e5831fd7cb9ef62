"""fleet: one policy for many clusters. A fleet file names the clusters, a base policy and the overlays merged
over it per cluster (engine.fleet.merge), with ${cluster}/${region} variables; `effective` builds one cluster's
policy document with every value's position in the file that wrote it; `run` plans, applies or audits the
clusters in parallel through the single-cluster pipeline.

May import engine.spec, engine.model, engine.planner, engine.state, engine.apply, engine.audit; never engine.cli.
"""
from engine.fleet.spec import ClusterSpec, Fleet, load_fleet, select

__all__ = ["ClusterSpec", "Fleet", "load_fleet", "select"]

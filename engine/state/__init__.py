"""state: readers of what is live (a cluster-state file; later Kubernetes and S3) -> LiveState.

Readers parse; the diff decides. May import engine.addr and engine.errors; kubernetes/boto3 only lazily.
"""
from engine.state.live import LiveState
from engine.state.file import read_state_file

__all__ = ["LiveState", "read_state_file"]

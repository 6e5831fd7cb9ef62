"""The test cluster's Kubernetes API server: an object store with kube semantics served over HTTPS.

store.py is the in-process API (also used by the Velero simulator); server.py and the handler modules
serve it over HTTP; cluster.py bundles store, clock, server and kubeconfig.
"""
from .errors import ApiError
from .resources import GVR
from .store import Store

__all__ = ["GVR", "ApiError", "Store"]

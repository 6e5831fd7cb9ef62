"""The project's test cluster: a Kubernetes API server over HTTPS, a Velero simulator and S3 (moto).

Tests and people point the official `kubernetes` client, `kubectl` and `snapplan` at it; it must answer
like a real cluster with Velero installed. Nothing under engine/ imports from here.
"""

"""The conformance tier: snapplan against the real programs — etcd, kube-apiserver, Velero and its aws plugin,
built from their Go modules (go/*, build.sh) — on loopback, with moto S3 as the test cluster uses it.

Nothing here runs in `make test`: tests/conftest.py ignores this folder unless SNAPPLAN_CONFORMANCE=1
(`make conformance` sets it). Nothing under engine/ imports from here.
"""

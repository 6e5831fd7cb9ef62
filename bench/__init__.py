"""The performance benchmark (issue 8): snapplan against the floor on the test cluster, at scale.

Not part of the installed package; run from the repository root with `python -m bench`.
"""

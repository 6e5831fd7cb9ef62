from tests.snapshots.live import live  # noqa: F401  (pytest finds fixtures by name)

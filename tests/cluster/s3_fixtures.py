"""pytest fixtures for S3: one moto server per test session, emptied before each test that uses `s3`."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.s3 import MotoS3


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """The session's moto server. Its state is shared: prefer `s3`, which empties it first."""
    server = MotoS3.start()
    yield server
    server.stop()


@pytest.fixture
def s3(moto_s3: MotoS3) -> MotoS3:
    """The moto server, emptied (no buckets, no users but a fresh admin) for this test."""
    moto_s3.reset()
    return moto_s3

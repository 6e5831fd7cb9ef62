"""How many examples each hostile-input test runs: the CI budget (>= 1,000 in all, derandomized so a failure
reproduces), or 20 times as many from random seeds under `--hypothesis-profile=deep`."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings

from tests.fuzz.figures import MAX_SECONDS

DEEP = settings.get_current_profile_name() == "deep"
DEEP_FACTOR = 20


def fuzz(examples: int) -> settings:
    """Settings for a test of `examples` examples in CI; every example must finish within MAX_SECONDS (a typical
    one takes 5-30 ms: a slow shared CI machine does not make it flaky)."""
    return settings(
        max_examples=examples * DEEP_FACTOR if DEEP else examples,
        derandomize=not DEEP,
        database=None if not DEEP else settings.default.database,
        deadline=timedelta(seconds=MAX_SECONDS),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
    )

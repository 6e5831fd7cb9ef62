"""engine.times.Duration: the policy's spellings and Go's, compared by value, written as Go writes them."""
from __future__ import annotations

import pytest

from engine.times import DEFAULT_RETENTION, Duration, DurationTooLong


@pytest.mark.parametrize("a, b", [
    ("720h", "720h0m0s"), ("30d", "720h"), ("2w", "336h0m0s"), ("1h30m", "90m"), ("1.5h", "1h30m0s"),
    ("0", "0s"), ("1m30s", "90s"), ("500ms", "0.5s"), ("1µs", "1us"), ("1μs", "1000ns"),
])
def test_one_value_in_two_spellings(a, b):
    assert Duration.parse(a) == Duration.parse(b)


@pytest.mark.parametrize("text, go", [
    ("720h", "720h0m0s"), ("30d", "720h0m0s"), ("90m", "1h30m0s"), ("90s", "1m30s"), ("0", "0s"),
    ("1.5s", "1.5s"), ("500ms", "500ms"), ("1h0m30s", "1h0m30s"), ("-1h", "-1h0m0s"), ("1500us", "1.5ms"),
])
def test_written_as_go_writes_it(text, go):
    """Go's time.Duration.String(), which is how Velero writes a ttl back."""
    assert str(Duration.parse(text)) == go


@pytest.mark.parametrize("text, policy", [("720h0m0s", "30d"), ("36h0m0s", "36h"), ("1h30m0s", "1h30m"),
                                          ("10m0s", "10m"), ("1h0m30s", "1h0m30s"), ("336h", "14d")])
def test_policy_spelling(text, policy):
    assert Duration.parse(text).policy_text() == policy
    assert Duration.parse(policy) == Duration.parse(text)


@pytest.mark.parametrize("text", ["", "1", "h", "1d2h", "30D", "1x", ".h", "1hh", "30 days", None, 30, "1h 30m"])
def test_not_durations(text):
    assert Duration.of(text) is None
    with pytest.raises((ValueError, TypeError)):
        Duration.parse(text)


def test_longer_than_go_holds():
    with pytest.raises(DurationTooLong):
        Duration.parse("2562048h")  # Go's limit is 2562047h47m16.854775807s
    assert str(Duration.parse("2562047h")) == "2562047h0m0s"
    with pytest.raises(DurationTooLong):
        Duration.parse("999999w")


def test_velero_default_retention_is_one_constant():
    assert DEFAULT_RETENTION == Duration.parse("720h0m0s") == Duration.parse("30d")

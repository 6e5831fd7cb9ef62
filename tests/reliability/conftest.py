"""Fixtures of the reliability suite: a time bound per test, and the figures each test records (printed as
the "reliability figures" section of the terminal summary, so CI output shows them)."""
from __future__ import annotations

import faulthandler
import sys

import pytest

from tests.reliability.support import DEEP

LIMIT = 900 if DEEP else 150  # seconds any one test may take before the run stops with every thread's traceback
FIGURES: list[str] = []


@pytest.fixture(autouse=True)
def bounded_in_time():
    """A hung test ends the run after LIMIT seconds with tracebacks, instead of waiting for CI's own timeout."""
    faulthandler.dump_traceback_later(LIMIT, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def figures():
    """record(line): one line for the summary section."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)

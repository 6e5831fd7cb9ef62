"""Hypothesis profiles for the hostile-input suite, and its figures in the test summary.

CI runs the default budget (tests/fuzz/budget.py: >= 1,000 examples, derandomized, about a minute).
`pytest tests/fuzz --hypothesis-profile=deep` runs 20 times as many, from random seeds.
"""
from hypothesis import settings

from tests.fuzz import figures

settings.register_profile("deep", print_blob=True)


def pytest_terminal_summary(terminalreporter) -> None:
    lines = figures.summary()
    if lines:
        terminalreporter.write_sep("-", "hostile input: examples, slowest example, largest traced peak")
        for line in lines:
            terminalreporter.write_line(line)

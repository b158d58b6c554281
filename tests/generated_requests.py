"""The generated requests the fuzzing tests send in one run (schemathesis's contract test, the hypothesis tests of
edge inputs), and the server errors they saw: issue 15 asks for at least 10,000 per full run, and none."""

from __future__ import annotations

from collections import Counter

import pytest

SENT: Counter[str] = Counter()
"""Requests sent, by test module."""
SERVER_ERRORS: Counter[str] = Counter()
"""Answers of status 500 or more, by test module (each one also fails its test)."""
CASES: Counter[str] = Counter()
"""Generated cases, by test module, where a case sends more than one request (schemathesis's checks send their own
requests after the case's: without the token, with another method...)."""
TARGET = 10_000


def count(module: str, status: int) -> None:
    SENT[module] += 1
    if status >= 500:
        SERVER_ERRORS[module] += 1


def summary() -> str:
    parts = " + ".join(
        f"{module} {sent:,}" + (f" ({CASES[module]:,} cases)" if CASES[module] else "")
        for module, sent in sorted(SENT.items())
    )
    return (
        f"generated requests: {parts} = {sum(SENT.values()):,} (target {TARGET:,}); "
        f"server errors: {sum(SERVER_ERRORS.values())}"
    )


class _Summary:
    """A plugin, registered by the first test module that counts: the summary at the end of the run."""

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_sep("-", summary())


_SUMMARY = _Summary()


def report(config: pytest.Config) -> None:
    """The summary will be written at the end of the run (once, however many modules ask)."""
    if not config.pluginmanager.is_registered(_SUMMARY):
        config.pluginmanager.register(_SUMMARY, "generated-requests-summary")

"""Measured figures tests report (how long a run took), printed in the session's summary.

A test may not assert on speed (a busy machine would make it flaky), but what it measured is
worth seeing: ``report_figure`` keeps a line, and ``conftest`` prints them all at the end.
"""

from __future__ import annotations

FIGURES: list[str] = []


def report_figure(line: str) -> None:
    """Keep a measured figure for the session summary."""
    FIGURES.append(line)

"""Anonymous statistics with small-cell suppression (INAMI's small-cell-risk rule). Pure.

The published tables are fixed: each crosses the month with one classification (type and outcome; insurer;
regional service) of the same cases, so the month's lines of the three tables share one total, never published.
- Every cell below the threshold is suppressed (primary suppression); if a line has any, its smallest cell at or
  above the threshold is suppressed too; a line with no such cell is suppressed whole.
- Then, for the month: if any of its lines hides a cell, no line of that month stays fully visible (the smallest
  cell of a fully visible line is suppressed too). So the month total can be read from no table, and a suppressed
  cell can never be recomputed from totals, not even by bounding it (it always shares an unknown sum).
Categories with no case at all are absent (a zero identifies nobody).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_THRESHOLD = 5


def suppress_line(cells: Mapping[K, int], threshold: int) -> dict[K, int | None]:
    """One month line: the published counts, None where suppressed."""
    small = {category for category, count in cells.items() if count < threshold}
    if not small:
        return dict(cells)
    large = sorted((count, repr(category), category) for category, count in cells.items() if count >= threshold)
    if not large:
        return {category: None for category in cells}
    complementary = large[0][2]
    hidden = small | {complementary}
    return {category: (None if category in hidden else count) for category, count in cells.items()}


def suppress_month(lines: Mapping[str, Mapping[K, int]], threshold: int) -> dict[str, dict[K, int | None]]:
    """The month's line of every table (by table name), suppressed together."""
    published = {name: suppress_line(line, threshold) for name, line in lines.items()}
    if any(None in line.values() for line in published.values()):
        for line in published.values():
            if line and None not in line.values():
                smallest = min(line, key=lambda category: (line[category], repr(category)))
                line[smallest] = None
    return published

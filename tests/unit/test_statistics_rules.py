"""Small-cell suppression: no published cell below the threshold, and no suppressed cell recomputable from what is
published plus the fact that a month's lines in the three tables share one total, not even with bounds."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from rp_api.domain.statistics import suppress_line, suppress_month

T = 5


def test_line_examples() -> None:
    assert suppress_line({"a": 7, "b": 9}, T) == {"a": 7, "b": 9}
    assert suppress_line({"a": 2, "b": 9, "c": 30}, T) == {"a": None, "b": None, "c": 30}
    assert suppress_line({"a": 2, "b": 3}, T) == {"a": None, "b": None}


def test_a_visible_line_cannot_give_the_total_of_a_hidden_one() -> None:
    published = suppress_month({"byType": {"training": 4, "coaching": 4}, "byInsurer": {"300": 8}}, T)
    assert published == {"byType": {"training": None, "coaching": None}, "byInsurer": {"300": None}}


def determined(lines: dict[str, dict[str, int]], published: dict[str, dict[str, int | None]], bound: int) -> set[str]:
    """Suppressed cells whose value is the same in every assignment consistent with what an attacker knows: the
    published cells, that every line sums to one common total, and that each suppressed cell is at least 1. Totals
    up to ``bound`` are tried (the true one is among them)."""
    fixed: set[str] = set()
    candidates: dict[str, set[int]] = {}
    for total in range(1, bound + 1):
        per_line: list[dict[str, set[int]]] = []
        for name, line in published.items():
            hidden = [c for c, v in line.items() if v is None]
            rest = total - sum(v for v in line.values() if v is not None)
            options: dict[str, set[int]] = {c: set() for c in hidden}
            feasible = False
            if not hidden:
                feasible = rest == 0
            else:
                for values in itertools.product(range(1, rest + 1), repeat=len(hidden)):
                    if sum(values) == rest:
                        feasible = True
                        for cell, value in zip(hidden, values, strict=True):
                            options[cell].add(value)
            if not feasible:
                break
            per_line.append({f"{name}.{c}": v for c, v in options.items()})
        else:
            for options in per_line:
                for cell, values in options.items():
                    candidates.setdefault(cell, set()).update(values)
    for cell, values in candidates.items():
        if len(values) == 1:
            fixed.add(cell)
    return fixed


cases = st.lists(
    st.tuples(st.sampled_from(["training/approved", "training/refused", "coaching/approved"]),
              st.sampled_from(["100", "300", "500"]),
              st.sampled_from(["VDAB", "Forem"])),
    min_size=1,
    max_size=14,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(cases)
def test_nothing_small_is_published_and_nothing_suppressed_is_recomputable(month: list[tuple[str, str, str]]) -> None:
    lines = {
        "byTypeAndOutcome": dict(Counter(case[0] for case in month)),
        "byInsurer": dict(Counter(case[1] for case in month)),
        "byRegionalService": dict(Counter(case[2] for case in month)),
    }
    published = suppress_month(lines, T)
    for line in published.values():
        assert all(v is None or v >= T for v in line.values())
    assert determined(lines, published, bound=len(month) + 6) == set()

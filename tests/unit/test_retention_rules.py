"""Retention edges: a change on 31 December versus 1 January."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rp_api.domain.retention import audit_cutoff_month, dossier_cutoff, dossier_expires_on


@pytest.mark.parametrize(
    ("last_change", "expires"),
    [
        (date(2026, 12, 31), date(2030, 1, 1)),
        (date(2027, 1, 1), date(2031, 1, 1)),
        (date(2026, 1, 1), date(2030, 1, 1)),
    ],
)
def test_three_years_from_the_first_of_january_after_the_last_change(last_change: date, expires: date) -> None:
    assert dossier_expires_on(last_change) == expires


@pytest.mark.parametrize(
    ("last_change", "today", "expired"),
    [
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), date(2029, 12, 31), False),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), date(2030, 1, 1), True),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2030, 1, 1), False),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2031, 1, 1), True),
    ],
)
def test_cutoff_agrees_with_expiry(last_change: datetime, today: date, expired: bool) -> None:
    assert (last_change < dossier_cutoff(today)) is expired
    assert (dossier_expires_on(last_change.date()) <= today) is expired


@pytest.mark.parametrize(
    ("today", "months", "first_kept"),
    [
        (date(2026, 11, 22), 12, date(2025, 11, 1)),
        (date(2026, 1, 1), 1, date(2025, 12, 1)),
        (date(2026, 3, 31), 14, date(2025, 1, 1)),
    ],
)
def test_audit_cutoff(today: date, months: int, first_kept: date) -> None:
    assert audit_cutoff_month(today, months) == first_kept

"""How long data is kept (deliberation 26/060). Pure rules; the clock is an argument.

- Dossier data (forms, requests, decisions, hours, conversations): three years from 1 January of the year after its
  last change, then deleted as a whole.
- Access-management data (person links): 24 hours at most.
- Audit records: a configurable number of months, dropped a monthly partition at a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

DOSSIER_YEARS = 3


def dossier_expires_on(last_change: date) -> date:
    """The first day on which a dossier last changed on ``last_change`` is deleted."""
    return date(last_change.year + 1 + DOSSIER_YEARS, 1, 1)


def dossier_cutoff(today: date) -> datetime:
    """Dossiers whose last change is before this instant have expired on ``today``."""
    return datetime(today.year - DOSSIER_YEARS, 1, 1, tzinfo=UTC)


def audit_cutoff_month(today: date, months: int) -> date:
    """The first month kept: partitions of months before it are dropped."""
    index = today.year * 12 + (today.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)

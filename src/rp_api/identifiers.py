"""Belgian identifiers, checked with python-stdnum: the SSIN (INSZ/NISS, National Register or bis number) and the
enterprise number (BCE/KBO, mod 97).

In request schemas, a value of the wrong shape is a ``schemaViolation``; a value of the right shape with a wrong
check number is an ``invalidStructure`` issue. Error messages never repeat the value.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from stdnum.be import ssn as stdnum_ssn
from stdnum.be import vat as stdnum_enterprise
from stdnum.exceptions import ValidationError as StdnumError


class InvalidIdentifierError(ValueError):
    """The identifier has the wrong shape or check number (the message never contains it)."""


# Both checks are pure; memoised because the same users and organisations call all day long (python-stdnum's
# SSIN check costs about 20 µs, most of a token verification's budget). Failures are not memoised.
@functools.lru_cache(maxsize=65_536)
def normalise_ssin(value: str) -> str:
    """The 11 digits of a valid SSIN (National Register or bis number)."""
    digits = value.strip()
    if len(digits) != 11 or not digits.isdigit():
        raise InvalidIdentifierError("an SSIN has 11 digits")
    try:
        return str(stdnum_ssn.validate(digits))
    except StdnumError:
        raise InvalidIdentifierError("the SSIN has an invalid check number") from None


@functools.lru_cache(maxsize=4_096)
def normalise_enterprise_number(value: str) -> str:
    """The 10 digits of a valid enterprise number; 9-digit numbers (old form) are left-padded with 0."""
    digits = value.strip().replace(".", "").replace(" ", "")
    if not digits.isdigit() or not 9 <= len(digits) <= 10:
        raise InvalidIdentifierError("an enterprise number has 10 digits")
    digits = digits.zfill(10)
    try:
        return str(stdnum_enterprise.validate(digits))
    except StdnumError:
        raise InvalidIdentifierError("the enterprise number has an invalid check number") from None


def make_ssin(birth: date, serial: int, *, bis_month_offset: int = 0) -> str:
    """A valid SSIN for a birth date and a day serial (1-997; odd for men, even for women).

    ``bis_month_offset`` 20 or 40 gives a bis number (gender unknown or known). Used to generate the demo
    population and test data; never to guess a real person's number.
    """
    if not 1 <= serial <= 997:
        raise ValueError("serial must be between 1 and 997")
    if bis_month_offset not in (0, 20, 40):
        raise ValueError("bis_month_offset is 0, 20 or 40")
    base = f"{birth:%y}{birth.month + bis_month_offset:02d}{birth:%d}{serial:03d}"
    prefix = "2" if birth.year >= 2000 else ""
    check = 97 - int(prefix + base) % 97
    return f"{base}{check:02d}"


def make_enterprise_number(base: int) -> str:
    """A valid enterprise number whose first eight digits are ``base`` (below 2 * 10**7: it starts with 0 or 1)."""
    if not 0 < base < 2 * 10**7:
        raise ValueError("base must be below 20,000,000")
    return f"{base:08d}{97 - base % 97:02d}"


def _ssin_checksum(value: str) -> str:
    try:
        return normalise_ssin(value)
    except InvalidIdentifierError as exc:
        raise PydanticCustomError("invalid_structure", str(exc)) from None


def _enterprise_checksum(value: str) -> str:
    try:
        return normalise_enterprise_number(value)
    except InvalidIdentifierError as exc:
        raise PydanticCustomError("invalid_structure", str(exc)) from None


Ssin = Annotated[
    str,
    Field(pattern=r"^\d{11}$", description="Social security identification number (INSZ/NISS), 11 digits."),
    AfterValidator(_ssin_checksum),
]
EnterpriseNumber = Annotated[
    str,
    Field(pattern=r"^[01]\d{9}$", description="Enterprise number (BCE/KBO), 10 digits."),
    AfterValidator(_enterprise_checksum),
]


_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


def _not_a_timestamp(value: object) -> object:
    """pydantic reads a number (or a numeric string) as a Unix timestamp: ``to=0`` would mean 1 January 1970. The
    API's dates and times are ISO 8601 text only."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("iso_8601_expected", "An ISO 8601 date or date-time is expected")
    return value


FIRST_YEAR = 2
LAST_YEAR = 9998
"""Years a date or date-time of the API may have. Python's calendar ends with years 1 and 9999, and the service
computes with what it is given (``to`` + 1 day, the next month, an anniversary, a conversion to UTC with an offset of
up to ±23:59): one year of margin on each side keeps every such computation, and PostgreSQL, inside the calendar.
"""


def within_calendar(value: date) -> bool:
    """Whether a date or date-time (its local year: with the margin, its UTC conversion is safe) is usable."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


D = TypeVar("D", bound=date)


def _within_calendar(value: D) -> D:
    if not within_calendar(value):
        raise PydanticCustomError("date_out_of_range", f"Dates are accepted from year {FIRST_YEAR} to year {LAST_YEAR}")
    return value


def _month_within_calendar(value: str) -> str:
    year = value[:4]
    if not year.isdigit() or not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise PydanticCustomError(
            "date_out_of_range", f"Months are accepted from year {FIRST_YEAR} to year {LAST_YEAR}"
        )
    return value


IsoDate = Annotated[date, BeforeValidator(_not_a_timestamp), AfterValidator(_within_calendar)]
"""A date given as ISO 8601 text (``2026-11-22``), never as a number, from year 2 to 9998."""
IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_timestamp), AfterValidator(_within_calendar)]
"""A date-time given as ISO 8601 text, never as a number, from year 2 to 9998 (in its own offset)."""
MONTH_WITHIN_CALENDAR = AfterValidator(_month_within_calendar)
"""Refuses a month (``2026-11``, checked by its pattern first) outside years 2 to 9998: its next month exists.
Given after the parameter's ``Query(pattern=...)`` (an annotated type in its place would hide the pattern)."""

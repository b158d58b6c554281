"""Hypothesis strategies of inputs at the edges (issue 15, item 5): forged keyset cursors, dates and date-times at
the ends of the calendar, texts with control characters, token claims of the wrong JSON type.

Each strategy generates one class of input only, so that a test can assert what that class deserves: a valid
cursor or date is accepted, an invalid one is a 400 naming the parameter, and nothing is ever a 500. Whether a
value is valid is decided here, by the rules the API documents, never by asking the code under test.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from hypothesis import strategies as st

FIRST_YEAR, LAST_YEAR = 2, 9998
INT64_MAX = 2**63 - 1
NUL = "\x00"
CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]

Kind = Literal["datetime", "uuid", "int"]
"""What a cursor part is: the sort keys of the API's pages are (datetime, uuid) for decisions and dossiers,
(datetime, int, int) for audit events, (int, int) for the change feed."""

# Offsets: every minute of ±23:59 is too many to shrink well; the extremes, the usual ones and any at random.
_EXTREME_OFFSETS = [timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59), timedelta(hours=14)]
offsets = st.one_of(
    st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(hours=-12), *_EXTREME_OFFSETS]),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timedelta(minutes=minutes)),
).map(timezone)

calendar_dates = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31))
"""Dates the API accepts."""
edge_dates = st.one_of(
    st.dates(max_value=date(FIRST_YEAR - 1, 12, 31)),
    st.dates(min_value=date(LAST_YEAR + 1, 1, 1)),
    st.sampled_from([date(1, 1, 1), date(9999, 12, 31)]),
)
"""Dates it refuses: year 1 or 9999 (the ends of Python's calendar)."""

_first = datetime(FIRST_YEAR, 1, 1)
_last = datetime(LAST_YEAR, 12, 31, 23, 59, 59, 999_999)
aware_datetimes = st.datetimes(min_value=_first, max_value=_last, timezones=offsets)
"""Date-times with an offset, inside the calendar: what the API accepts anywhere (and what a cursor holds)."""
naive_datetimes = st.datetimes(min_value=_first, max_value=_last)
"""Date-times without an offset, inside the calendar: accepted in a body, never in a cursor (none is made so)."""
edge_datetimes = st.one_of(
    st.datetimes(max_value=datetime(FIRST_YEAR - 1, 12, 31, 23, 59, 59), timezones=st.none() | offsets),
    st.datetimes(min_value=datetime(LAST_YEAR + 1, 1, 1), timezones=st.none() | offsets),
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=14))),
        ]
    ),
)
"""Date-times the API refuses: year 1 or 9999, with or without an offset."""

calendar_months = st.builds(
    lambda year, month: f"{year:04d}-{month:02d}", st.integers(1000, LAST_YEAR), st.integers(1, 12)
)
"""Months of the statistics (their pattern starts at year 1000)."""
edge_months = st.integers(1, 12).map(lambda month: f"9999-{month:02d}")


# -- cursors ------------------------------------------------------------------------------------------------------


def encode(values: Any) -> str:
    """A cursor as the API writes one: base64url (unpadded) of a compact JSON document."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def valid_part(kind: Kind) -> st.SearchStrategy[Any]:
    """The JSON value of a cursor part the API could have written."""
    if kind == "datetime":
        return aware_datetimes.map(datetime.isoformat)
    if kind == "uuid":
        return st.uuids().map(str)
    return st.integers(0, INT64_MAX)


def is_valid_part(kind: Kind, value: Any) -> bool:
    """The oracle: by the documented rule, independently of the code under test."""
    if kind == "int":
        return type(value) is int and 0 <= value <= INT64_MAX
    if type(value) is not str:
        return False
    if kind == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.utcoffset() is not None and FIRST_YEAR <= moment.year <= LAST_YEAR


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)
"""Any JSON value (and NaN and the infinities, which Python's JSON reads too)."""


def forged_part(kind: Kind) -> st.SearchStrategy[Any]:
    """A JSON value the API never writes for a part of this kind: wrong JSON type, out of range, naive or beyond
    the calendar, a nested list; filtered by the oracle so that a lucky draw is never counted as forged."""
    if kind == "int":
        specific = st.one_of(
            st.integers(max_value=-1),
            st.integers(min_value=INT64_MAX + 1, max_value=2**200),
            st.booleans(),
            st.floats(),
            st.integers(0, 1000).map(str),
            st.lists(st.integers(0, 10), max_size=2),
        )
    elif kind == "uuid":
        specific = st.one_of(st.uuids().map(lambda u: u.int), st.uuids().map(lambda u: [str(u)]), st.text(max_size=40))
    else:
        specific = st.one_of(
            naive_datetimes.map(datetime.isoformat),
            edge_datetimes.map(datetime.isoformat),
            aware_datetimes.map(lambda moment: moment.timestamp()),
            aware_datetimes.map(lambda moment: moment.date().isoformat()),
            aware_datetimes.map(lambda moment: [moment.isoformat()]),
            st.text(max_size=30),
        )
    return st.one_of(specific, json_values).filter(lambda value: not is_valid_part(kind, value))


def valid_cursors(kinds: tuple[Kind, ...]) -> st.SearchStrategy[str]:
    return st.tuples(*(valid_part(kind) for kind in kinds)).map(lambda parts: encode(list(parts)))


@st.composite
def forged_cursors(draw: st.DrawFn, kinds: tuple[Kind, ...]) -> str:
    """A well-encoded cursor whose content the API could not have written: a part forged, or the wrong shape."""
    how = draw(st.sampled_from(["part", "part", "part", "shape"]))
    if how == "part":
        parts = [draw(valid_part(kind)) for kind in kinds]
        position = draw(st.integers(0, len(kinds) - 1))
        parts[position] = draw(forged_part(kinds[position]))
        return encode(parts)
    shape = draw(
        st.one_of(
            st.lists(json_values, max_size=len(kinds) + 2).filter(lambda values: len(values) != len(kinds)),
            json_values.filter(lambda value: not isinstance(value, list)),
        )
    )
    return encode(shape)


def is_valid_cursor(cursor: str, kinds: tuple[Kind, ...]) -> bool:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(values, list)
        and len(values) == len(kinds)
        and all(is_valid_part(kind, value) for kind, value in zip(kinds, values, strict=True))
    )


garbage_cursors = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=45).map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=60),
)
"""Any text at all, in or out of the base64url alphabet: a 400 unless (by the oracle) it happens to be valid."""


# -- texts --------------------------------------------------------------------------------------------------------

texts_with_nul = st.tuples(st.text(max_size=30), st.text(max_size=30)).map(
    lambda halves: f"{halves[0]}{NUL}{halves[1]}"
)
"""Texts PostgreSQL cannot store: a NUL somewhere."""
texts_with_controls = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8", exclude_characters=NUL), st.sampled_from(CONTROL_CHARACTERS[1:])),
    min_size=1,
    max_size=60,
)
"""Texts with control characters other than NUL (tabs, escapes, C1 controls): a JSON text field stores them."""

header_bytes_with_controls = st.tuples(
    st.binary(max_size=20),
    st.sampled_from([bytes([c]) for c in [*range(0x20), *range(0x7F, 0xA0)]]),
    st.binary(max_size=20),
).map(lambda parts: b"".join(parts))
"""Header values (raw bytes, read as Latin-1 by the server) with at least one control character."""
printable_header_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=200
)
"""Header values that are fine as an ``Idempotency-Key``."""


# -- token claims -------------------------------------------------------------------------------------------------


def _not_numeric_date(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or not 0 <= value <= 253_370_764_799  # 9998-12-31T23:59:59Z


# orjson (the token's JSON reader) refuses NaN and the infinities, so they are never a claim.
_claim_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=6,
)
MALFORMED_CLAIMS: dict[str, st.SearchStrategy[Any]] = {
    "exp": _claim_values.filter(lambda v: v is not None and _not_numeric_date(v)),
    "iat": _claim_values.filter(lambda v: v is not None and _not_numeric_date(v)),
    "nbf": _claim_values.filter(lambda v: v is not None and _not_numeric_date(v)),
    "sub": _claim_values.filter(lambda v: not isinstance(v, str)),
    "roles": _claim_values.filter(
        lambda v: (
            v is not None
            and not isinstance(v, str)
            and not (isinstance(v, list) and all(isinstance(role, str) for role in v))
        )
    ),
    "jti": _claim_values.filter(lambda v: v is not None and not isinstance(v, str)),
    "name": st.one_of(
        _claim_values.filter(lambda v: v is not None and not isinstance(v, str)),
        st.tuples(st.text(max_size=10), st.sampled_from([*CONTROL_CHARACTERS[:32], "\x7f"])).map("".join),
    ),
    "aud": _claim_values.filter(lambda v: v != "rp-api" and not (isinstance(v, list) and "rp-api" in v)),
}
"""Per claim, values of the wrong JSON type or range: a signed token carrying one is a 401 invalidAccessToken."""

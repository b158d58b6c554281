"""No input is a 500 (issue 15, item 5), the pure part: cursors refuse whatever :func:`rp_api.cursors.encode` could
not have written, dates and date-times stay inside the calendar every computation of the service needs, no model
takes a text with a NUL, an ``Idempotency-Key`` takes no control character.

The live endpoints are driven with the same strategies in tests/integration/test_no_server_error_inputs.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError
from starlette.requests import Request

from rp_api import cursors
from rp_api.handlers import issue_from_pydantic
from rp_api.idempotency import Idempotency
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.problems import BadRequest
from rp_api.schemas.audit import AuditQuery
from rp_api.schemas.base import ApiModel
from rp_api.schemas.conversation import ConversationOut, MessageIn
from rp_api.schemas.dossier import DossierQuery
from rp_api.schemas.registration_form import FormContent
from rp_api.services import events
from rp_api.services.statistics import _month_start, _next_month
from rp_api.services.views import incapacity_at_least_one_year
from tests import edge_strategies as edge

PARSERS = {"datetime": datetime.fromisoformat, "uuid": uuid.UUID, "int": int}
KEYS: list[tuple[edge.Kind, ...]] = [("datetime", "uuid"), ("datetime", "int", "int"), ("int", "int")]
"""The sort keys of the API's pages: decisions and dossiers, audit events, the change feed."""
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def decode(cursor: str, kinds: tuple[edge.Kind, ...]) -> tuple[Any, ...]:
    return cursors.decode(cursor, *(PARSERS[kind] for kind in kinds), where="query", name="page")


def assert_refused(cursor: str, kinds: tuple[edge.Kind, ...]) -> None:
    with pytest.raises(BadRequest) as refused:
        decode(cursor, kinds)
    [issue] = refused.value.issues
    assert (issue.in_, issue.name) == ("query", "page")


# -- cursors ------------------------------------------------------------------------------------------------------

_AWARE = "2026-11-22T09:00:00+00:00"
_ID = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"


@pytest.mark.parametrize(
    ("kinds", "values"),
    [
        # Each of these was a 500 (or silently accepted) before: asyncpg, datetime or xid8 failed on it.
        (("datetime", "uuid"), ["0001-01-01T00:00:00+14:00", _ID]),  # UTC conversion before year 1
        (("datetime", "uuid"), ["9999-12-31T23:59:59-23:59", _ID]),  # after year 9999
        (("datetime", "uuid"), ["9999-12-31T23:59:59+14:00", _ID]),
        (("datetime", "uuid"), ["2026-11-22T09:00:00", _ID]),  # naive
        (("datetime", "uuid"), ["2026-11-22", _ID]),
        (("datetime", "uuid"), [_AWARE, 123]),  # uuid.UUID(123): AttributeError
        (("datetime", "uuid"), [_AWARE, [_ID]]),
        (("datetime", "uuid"), [1.5, True]),
        (("datetime", "int", "int"), [_AWARE, 1.5, 1]),  # int(1.5) == 1
        (("datetime", "int", "int"), [_AWARE, True, 1]),  # int(True) == 1
        (("datetime", "int", "int"), [_AWARE, "1", 1]),  # int("1") == 1
        (("datetime", "int", "int"), [_AWARE, [1], 1]),
        (("int", "int"), [2**70, 1]),  # beyond xid8 and bigint
        (("int", "int"), [2**63, 0]),
        (("int", "int"), [0, 2**63]),
        (("int", "int"), [-1, 0]),
        (("int", "int"), [1e20, 0]),
        (("int", "int"), [[[1]], 0]),
        (("int", "int"), [{"a": 1}, 0]),
        (("int", "int"), [None, 0]),
        (("int", "int"), [1]),
        (("int", "int"), {"xid": 1, "seq": 2}),
    ],
)
def test_forged_cursor_examples(kinds: tuple[edge.Kind, ...], values: Any) -> None:
    assert_refused(edge.encode(values), kinds)


@pytest.mark.parametrize("cursor", ["", "=", "!!!!", "a", "bnVsbA", "W10", "W1tdXQ", "\x00", "é", "W" * 500])
def test_undecodable_cursors(cursor: str) -> None:
    for kinds in KEYS:
        assert_refused(cursor, kinds)


def test_the_limits_are_accepted() -> None:
    top = edge.INT64_MAX
    assert decode(edge.encode([top, 0]), ("int", "int")) == (top, 0)
    first = datetime(2, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    last = datetime(9998, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(-timedelta(hours=23, minutes=59)))
    for moment in (first, last):
        (decoded,) = cursors.decode(cursors.encode(moment), datetime.fromisoformat, where="body", name="page")
        assert decoded == moment
        assert decoded.astimezone(UTC) + timedelta(days=1) > decoded  # no overflow on what the queries do


@pytest.mark.parametrize("kinds", KEYS, ids="-".join)
@FAST
@given(data=st.data())
def test_what_encode_writes_decodes_back(kinds: tuple[edge.Kind, ...], data: st.DataObject) -> None:
    values = [data.draw(edge.valid_part(kind)) for kind in kinds]
    parts = [PARSERS[kind](value) for kind, value in zip(kinds, values, strict=True)]
    assert decode(cursors.encode(*parts), kinds) == tuple(parts)


@pytest.mark.parametrize("kinds", KEYS, ids="-".join)
@FAST
@given(data=st.data())
def test_forged_cursors_are_refused(kinds: tuple[edge.Kind, ...], data: st.DataObject) -> None:
    assert_refused(data.draw(edge.forged_cursors(kinds), label="cursor"), kinds)


@pytest.mark.parametrize("kinds", KEYS, ids="-".join)
@FAST
@given(data=st.data())
def test_any_text_is_a_cursor_or_a_bad_request(kinds: tuple[edge.Kind, ...], data: st.DataObject) -> None:
    cursor = data.draw(edge.garbage_cursors, label="cursor")
    if edge.is_valid_cursor(cursor, kinds):
        assert len(decode(cursor, kinds)) == len(kinds)
    else:
        assert_refused(cursor, kinds)


def test_feed_positions() -> None:
    """The change feed's call (``cursors.decode(position, int, int, ...)``) keeps working, and names ``after``."""
    assert events.decode(events.START) == (0, 0)
    assert events.decode(cursors.encode(812, 3)) == (812, 3)
    for forged in ([2**64, 0], [-5, 0], [True, 0], [1.0, 0], ["812", 3]):
        with pytest.raises(BadRequest) as refused:
            events.decode(edge.encode(forged))
        assert [(issue.in_, issue.name) for issue in refused.value.issues] == [("query", "after")]


# -- dates --------------------------------------------------------------------------------------------------------

DATES = TypeAdapter(IsoDate)
DATETIMES = TypeAdapter(IsoDateTime)


def out_of_range(adapter: TypeAdapter[Any], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError as error:
        return [e["type"] for e in error.errors()] == ["date_out_of_range"]
    return False


@pytest.mark.parametrize("text", ["0001-01-01", "0001-12-31", "9999-01-01", "9999-12-31"])
def test_dates_at_the_ends_of_the_calendar(text: str) -> None:
    assert out_of_range(DATES, text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-23:59",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59+14:00",
        "9999-12-31T23:59:59Z",
    ],
)
def test_date_times_at_the_ends_of_the_calendar(text: str) -> None:
    assert out_of_range(DATETIMES, text)


@settings(max_examples=500, deadline=None)
@given(day=edge.calendar_dates)
def test_every_accepted_date_survives_what_the_service_does_with_it(day: date) -> None:
    accepted = DATES.validate_python(day.isoformat())
    datetime.combine(accepted + timedelta(days=1), time.min, UTC)  # the audit query's end of period
    datetime.combine(accepted - timedelta(days=1), time.min, UTC)
    incapacity_at_least_one_year(accepted, date(2026, 11, 29))  # the anniversary (29 February too)


@settings(max_examples=500, deadline=None)
@given(moment=st.one_of(edge.aware_datetimes, edge.naive_datetimes))
def test_every_accepted_date_time_survives_what_the_service_does_with_it(moment: datetime) -> None:
    accepted = DATETIMES.validate_python(moment.isoformat())
    in_utc = accepted.astimezone(UTC) if accepted.tzinfo else accepted.replace(tzinfo=UTC)
    in_utc + timedelta(days=1)
    in_utc - timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(moment=edge.edge_datetimes)
def test_every_edge_date_time_is_refused(moment: datetime) -> None:
    assert out_of_range(DATETIMES, moment.isoformat())


def test_months_of_the_statistics() -> None:
    from rp_api.identifiers import MONTH_WITHIN_CALENDAR

    months: TypeAdapter[str] = TypeAdapter(Annotated[str, MONTH_WITHIN_CALENDAR])
    assert months.validate_python("9998-12") == "9998-12"
    assert _next_month("9998-12") == datetime(9999, 1, 1, tzinfo=UTC)
    assert _month_start("1000-01") == datetime(1000, 1, 1, tzinfo=UTC)
    for month in ("9999-01", "9999-12"):
        with pytest.raises(ValidationError) as refused:
            months.validate_python(month)
        assert refused.value.errors()[0]["type"] == "date_out_of_range"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "2026-01-01"}, "from"),
    ],
)
def test_audit_query_period_names_the_field(body: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        AuditQuery.model_validate(body)
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"])
def test_dossier_query_modified_since_names_the_field(since: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DossierQuery.model_validate({"modifiedSince": since})
    assert [error["loc"] for error in refused.value.errors()] == [("modifiedSince",)]


# -- NUL in texts -------------------------------------------------------------------------------------------------


def nul_issue(model: type[ApiModel], body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    [error] = refused.value.errors()
    assert error["type"] == "nul_character"
    issue = issue_from_pydantic({**error, "loc": ("body", *error["loc"])}).as_json()
    assert "value" not in issue
    assert "\x00" not in str(issue)
    return issue


def test_a_nul_is_refused_at_any_depth_naming_the_field() -> None:
    assert nul_issue(MessageIn, {"text": "a\x00b"})["name"] == "text"
    nested = {"insurerContacts": {"returnToWorkCoordinator": {"name": "Marie\x00", "email": "m@example.be"}}}
    assert nul_issue(FormContent, nested)["name"] == "insurerContacts.returnToWorkCoordinator.name"
    listed = {
        "id": _ID,
        "dossierId": _ID,
        "subject": "s",
        "medical": False,
        "participants": ["0411159046", "\x00"],
        "createdBy": "0411159046",
        "createdAt": _AWARE,
        "self": "/x",
    }
    assert nul_issue(ConversationOut, listed)["name"] == "participants[1]"


class _Mapping(ApiModel):
    labels: dict[str, list[str]] = Field(default_factory=dict)
    note: str | None = None


def test_a_nul_in_a_mapping_key_or_value() -> None:
    assert nul_issue(_Mapping, {"labels": {"a": ["x", "y\x00"]}})["name"] == "labels.a[1]"
    assert nul_issue(_Mapping, {"labels": {"a\x00": []}})["name"] == "labels"
    assert _Mapping.model_validate({"labels": {"a": ["\t\x1b\x7f\x85"]}, "note": "ok\r\n"}).note == "ok\r\n"


@settings(max_examples=300, deadline=None)
@given(
    drawn=st.one_of(edge.texts_with_nul.map(lambda t: (False, t)), edge.texts_with_controls.map(lambda t: (True, t)))
)
def test_texts_with_control_characters(drawn: tuple[bool, str]) -> None:
    stored, text = drawn
    if stored:
        assert MessageIn.model_validate({"text": text}).text == text
    else:
        assert nul_issue(MessageIn, {"text": text})["name"] == "text"


def test_which_fields_are_searched() -> None:
    from rp_api.schemas.base import may_hold_text, nul_at

    for kind in (str, str | None, list[str], Any, dict[str, int], dict, "Unresolved"):
        assert may_hold_text(kind), kind
    for kind in (int, bool, uuid.UUID, datetime, date, IsoDate, MessageIn, list[MessageIn], list[int] | None):
        assert not may_hold_text(kind), kind
    assert nul_at(["a", ("b", {"c": "\x00"})]) == (1, 1, "c")
    assert nul_at(MessageIn(text="x")) is None


# -- Idempotency-Key ----------------------------------------------------------------------------------------------


def _request(key: bytes) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [(b"idempotency-key", key)]})


@settings(max_examples=300, deadline=None)
@given(key=edge.header_bytes_with_controls)
def test_an_idempotency_key_with_a_control_character_is_refused(key: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        Idempotency(_request(key), None, None)  # type: ignore[arg-type]
    assert [(issue.in_, issue.name) for issue in refused.value.issues] == [("header", "Idempotency-Key")]


@settings(max_examples=100, deadline=None)
@given(key=edge.printable_header_values)
def test_a_printable_idempotency_key_is_taken(key: str) -> None:
    assert Idempotency(_request(key.encode()), None, None).key == key  # type: ignore[arg-type]

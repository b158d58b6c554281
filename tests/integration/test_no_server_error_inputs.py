"""No input is a 500 (issue 15, item 5): generated requests against the live endpoints, in process, on the real
database, each class of input with the answer it deserves.

- Cursors (``page`` of the decision list, of the dossier and audit queries; ``after`` of the change feed): one the
  API could have written is accepted (200); a forged one (wrong JSON type, out of range, naive, beyond the calendar,
  nested, the wrong shape) is a 400 ``badRequest`` whose issue names the parameter; any other text is a 400 unless
  it happens to be a valid cursor.
- Dates and date-times at the ends of the calendar (years 1 and 9999, offsets up to ±23:59 and +14:00): accepted
  from year 2 to 9998, otherwise a 400 naming the field.
- Texts: a NUL character in any JSON text (nested, in lists) is a 400 naming the field, and never echoed; other
  control characters are stored. An ``Idempotency-Key`` with a control character is a 400 naming the header.
- Tokens validly signed by a trusted issuer, with a claim of the wrong JSON type or range: 401 invalidAccessToken.

Every request is counted (:mod:`tests.generated_requests`, printed at the end of the run): with the contract test,
a full run sends more than 10,000 generated requests with no server error, which the last test here checks.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rp_api import cursors
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.simulator.population import SimulatedPerson
from tests import edge_strategies as edge
from tests import generated_requests
from tests.token_factory import TokenFactory

MODULE = "edge inputs"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
INVALID_TOKEN = "urn:problem-type:belgif:invalidAccessToken"
TODAY = datetime.now(UTC).date().isoformat()
# An audit query's days around today, so that a run that crosses midnight (UTC) still reads what it just recorded.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()

# Examples per test (hypothesis), one request each. With the contract test's ~7,000 generated cases, a full run sends
# well over 10,000 generated requests; this module alone sends 6,400 in about 35 s on 2 cores.
CURSOR_EXAMPLES = 600  # per endpoint (4)
DATE_EXAMPLES = 400  # per endpoint (5)
TEXT_EXAMPLES = 300  # per target (4)
TOKEN_EXAMPLES = 100  # per claim (8)
EXPECTED_REQUESTS = 4 * CURSOR_EXAMPLES + 5 * DATE_EXAMPLES + 4 * TEXT_EXAMPLES + 8 * TOKEN_EXAMPLES


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # the figures above are the run's, with or without a local example database
    )


@pytest.fixture(scope="module", autouse=True)
def _report(pytestconfig: pytest.Config) -> None:
    generated_requests.report(pytestconfig)


async def send(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = await client.request(method, f"/rp/v1{path}", **kwargs)
    generated_requests.count(MODULE, response.status_code)
    assert response.status_code < 500, response.text
    return response


def assert_bad_request(response: httpx.Response, where: str, name: str) -> None:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == BAD_REQUEST
    assert any(issue.get("in") == where and issue.get("name") == name for issue in problem["issues"]), problem


Caller = Callable[[str, list[str]], dict[str, str]]
"""The Authorization header of a user of an organisation with these roles."""


@pytest.fixture(scope="module")
def caller(tokens: TokenFactory) -> Caller:
    """One token per organisation and roles for the whole module (signing one per example would cost more than
    the request it authenticates)."""
    made: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}

    def headers(organisation: str, roles: list[str]) -> dict[str, str]:
        key = (organisation, tuple(roles))
        if key not in made:
            made[key] = {"Authorization": f"Bearer {tokens.token(organisation, roles, exp=int(time.time()) + 3600)}"}
        return made[key]

    return headers


REGISTRY = OrganisationRegistry.load()

# -- cursors ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CursorEndpoint:
    name: str
    kinds: tuple[edge.Kind, ...]
    where: str
    parameter: str
    caller: tuple[str, list[str]]
    empty_is_first_page: bool
    start: str | None = None
    """A literal the endpoint takes for its first page (the feed's ``after=0``)."""
    sealed: str | None = None
    """The operationId of a list whose cursors are sealed for it and the caller's organisation (rp_api.cursors)."""

    def cursor_for(self, kind: str, cursor: str, organisation: str) -> str:
        """What the API would have issued for a drawn valid or forged cursor: sealed for this list and caller (a
        forged one then carries content the API could not have written, under a seal it could have)."""
        if self.sealed is None or kind == "garbage":
            return cursor
        plain = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return cursors.seal_bytes(plain, scope=cursors.scope(self.sealed, organisation))

    def request(self, cursor: str) -> tuple[str, str, dict[str, Any]]:
        if self.name == "decisions":
            return "GET", "/decisions", {"params": {"from": "2026-01-01", "to": "2026-01-31", "page": cursor}}
        if self.name == "dossiers":
            return "POST", "/dossiers/query", {"json": {"page": cursor}}
        if self.name == "events":
            return "GET", "/events", {"params": {"after": cursor}}
        return "POST", "/auditEvents/query", {"json": {"from": YESTERDAY, "to": TOMORROW, "page": cursor}}


CURSOR_ENDPOINTS = [
    CursorEndpoint(
        "decisions",
        ("datetime", "uuid"),
        "query",
        "page",
        ("Solidaris", ["medicalAdvisor"]),
        True,
        None,
        "listDecisions",
    ),
    CursorEndpoint(
        "dossiers", ("datetime", "uuid"), "body", "page", ("Solidaris", ["medicalAdvisor"]), True, None, "queryDossiers"
    ),
    CursorEndpoint("events", ("int", "int"), "query", "after", ("VDAB", ["referenceAdvisor"]), False, start="0"),
    CursorEndpoint("auditEvents", ("datetime", "int", "int"), "body", "page", ("INAMI", ["auditor"]), True),
]


def cursor_inputs(kinds: tuple[edge.Kind, ...]) -> st.SearchStrategy[tuple[str, str]]:
    return st.one_of(
        edge.valid_cursors(kinds).map(lambda cursor: ("valid", cursor)),
        edge.forged_cursors(kinds).map(lambda cursor: ("forged", cursor)),
        edge.garbage_cursors.map(lambda cursor: ("garbage", cursor)),
    )


@pytest.mark.parametrize("endpoint", CURSOR_ENDPOINTS, ids=lambda endpoint: endpoint.name)
@fuzz(CURSOR_EXAMPLES)
@given(data=st.data())
async def test_cursors(
    client: httpx.AsyncClient, caller: Caller, endpoint: CursorEndpoint, data: st.DataObject
) -> None:
    kind, cursor = data.draw(cursor_inputs(endpoint.kinds), label="cursor")
    organisation = REGISTRY.find(endpoint.caller[0])
    assert organisation is not None
    cursor = endpoint.cursor_for(kind, cursor, organisation.enterprise_number)
    method, path, kwargs = endpoint.request(cursor)
    response = await send(client, method, path, headers=caller(*endpoint.caller), **kwargs)
    valid = kind == "valid" or (
        kind == "garbage"
        and (
            (endpoint.sealed is None and edge.is_valid_cursor(cursor, endpoint.kinds))
            or (cursor == "" and endpoint.empty_is_first_page)
            or cursor == endpoint.start
        )
    )
    if valid:
        assert response.status_code == 200, response.text
    else:
        assert_bad_request(response, endpoint.where, endpoint.parameter)


# -- dates --------------------------------------------------------------------------------------------------------


def _ordered(pair: tuple[Any, Any]) -> tuple[Any, Any]:
    return (pair[0], pair[1]) if pair[0] <= pair[1] else (pair[1], pair[0])


@st.composite
def date_ranges(
    draw: st.DrawFn, valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]
) -> tuple[str, str, str]:
    """("valid", first, last) with first <= last, or ("from" or "to", first, last) with that one out of range."""
    which = draw(st.sampled_from(["valid", "valid", "from", "to"]))
    first, last = _ordered((draw(valid), draw(valid)))
    if which == "from":
        first = draw(invalid)
    elif which == "to":
        last = draw(invalid)
    return which, _iso(first), _iso(last)


def _iso(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


@fuzz(DATE_EXAMPLES)
@given(period=date_ranges(edge.calendar_dates, edge.edge_dates))
async def test_audit_query_period(client: httpx.AsyncClient, caller: Caller, period: tuple[str, str, str]) -> None:
    which, first, last = period
    body = {"from": first, "to": last, "pageSize": 1}
    response = await send(client, "POST", "/auditEvents/query", headers=caller("INAMI", ["auditor"]), json=body)
    if which == "valid":
        assert response.status_code == 200, response.text
    else:
        assert_bad_request(response, "body", which)


@fuzz(DATE_EXAMPLES)
@given(period=date_ranges(edge.calendar_dates, edge.edge_dates))
async def test_decision_list_period(client: httpx.AsyncClient, caller: Caller, period: tuple[str, str, str]) -> None:
    which, first, last = period
    params = {"from": first, "to": last, "pageSize": "1"}
    response = await send(client, "GET", "/decisions", headers=caller("Solidaris", ["medicalAdvisor"]), params=params)
    if which == "valid":
        assert response.status_code == 200, response.text
    else:
        assert_bad_request(response, "query", which)


@fuzz(DATE_EXAMPLES)
@given(period=date_ranges(edge.calendar_months, edge.edge_months))
async def test_statistics_months(client: httpx.AsyncClient, caller: Caller, period: tuple[str, str, str]) -> None:
    which, first, last = period
    params = {"from": first, "to": last}
    response = await send(client, "GET", "/statistics", headers=caller("INAMI", ["socialExpert"]), params=params)
    if which == "valid":
        assert response.status_code == 200, response.text
    else:
        assert_bad_request(response, "query", which)


@fuzz(DATE_EXAMPLES)
@given(
    drawn=st.one_of(
        edge.aware_datetimes.map(lambda moment: (True, moment)),
        edge.naive_datetimes.map(lambda moment: (True, moment)),
        edge.edge_datetimes.map(lambda moment: (False, moment)),
    )
)
async def test_dossier_query_modified_since(
    client: httpx.AsyncClient, caller: Caller, drawn: tuple[bool, datetime]
) -> None:
    valid, moment = drawn
    body = {"modifiedSince": moment.isoformat(), "pageSize": 1}
    response = await send(client, "POST", "/dossiers/query", headers=caller("Solidaris", ["medicalAdvisor"]), json=body)
    if valid:
        assert response.status_code == 200, response.text
    else:
        assert_bad_request(response, "body", "modifiedSince")


@pytest.fixture
async def dossier(client: httpx.AsyncClient, caller: Caller, person: SimulatedPerson) -> str:
    """A dossier of the insured person, opened by the insurer (Solidaris)."""
    response = await client.post(
        "/rp/v1/dossiers",
        json={"ssin": person.ssin, "start": "registrationForm"},
        headers=caller("Solidaris", ["medicalAdvisor"]),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@fuzz(DATE_EXAMPLES)
@given(
    drawn=st.one_of(
        edge.calendar_dates.map(lambda day: (True, day)),
        st.sampled_from([date(2, 1, 1), date(9998, 12, 31), date(9996, 2, 29)]).map(lambda day: (True, day)),
        edge.edge_dates.map(lambda day: (False, day)),
    )
)
async def test_registration_form_incapacity_start_date(
    client: httpx.AsyncClient, caller: Caller, dossier: str, drawn: tuple[bool, date]
) -> None:
    """A date the service computes with (the anniversary of the incapacity, shown to regional services)."""
    valid, day = drawn
    body = {"expectations": "Training", "incapacityStartDate": day.isoformat()}
    headers = caller("Solidaris", ["medicalAdvisor"])
    response = await send(client, "POST", f"/dossiers/{dossier}/registrationForms", headers=headers, json=body)
    if valid:
        assert response.status_code == 201, response.text
        assert response.json()["incapacityStartDate"] == day.isoformat()
    else:
        assert_bad_request(response, "body", "incapacityStartDate")


# -- texts --------------------------------------------------------------------------------------------------------

# Where a text goes in a registration form: top-level, in nested models; the issue names that path.
FORM_TEXT_FIELDS = [
    ("expectations",),
    ("workProblems",),
    ("insurerContacts", "returnToWorkCoordinator", "name"),
    ("insurerContacts", "advisingPhysician", "phone"),
    ("physicianQuestion", "functionalCapacities"),
]


def _form_with(path: tuple[str, ...], value: str) -> dict[str, Any]:
    inner: dict[str, Any] = {path[-1]: value}
    if path[-1] == "phone":
        inner["name"] = "Dr. Peeters"
    for key in reversed(path[:-1]):
        inner = {key: inner}
    return {"expectations": "Training", **inner}


text_inputs = st.one_of(
    edge.texts_with_nul.map(lambda text: (False, text)), edge.texts_with_controls.map(lambda text: (True, text))
)
"""(stored, text): a text with a NUL (refused), or with other control characters (stored)."""


@fuzz(TEXT_EXAMPLES)
@given(path=st.sampled_from(FORM_TEXT_FIELDS), drawn=text_inputs)
async def test_texts_of_a_registration_form(
    client: httpx.AsyncClient, caller: Caller, dossier: str, path: tuple[str, ...], drawn: tuple[bool, str]
) -> None:
    stored, text = drawn
    headers = caller("Solidaris", ["medicalAdvisor"])
    response = await send(
        client, "POST", f"/dossiers/{dossier}/registrationForms", headers=headers, json=_form_with(path, text)
    )
    if stored:
        assert response.status_code == 201, response.text
        shown: Any = response.json()
        for key in path:
            shown = shown[key]
        assert shown == text
    else:
        assert_bad_request(response, "body", ".".join(path))
        assert "\\u0000" not in response.text  # never echoed


@pytest.fixture
async def conversation(client: httpx.AsyncClient, caller: Caller, dossier: str, tokens: TokenFactory) -> str:
    created = await client.post(
        f"/rp/v1/dossiers/{dossier}/conversations",
        json={"subject": "Start date", "participants": [tokens.organisation("Solidaris").enterprise_number]},
        headers=caller("Solidaris", ["medicalAdvisor"]),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@fuzz(TEXT_EXAMPLES)
@given(target=st.sampled_from(["text", "subject", "participants"]), drawn=text_inputs)
async def test_texts_of_a_conversation(
    client: httpx.AsyncClient,
    caller: Caller,
    tokens: TokenFactory,
    dossier: str,
    conversation: str,
    target: str,
    drawn: tuple[bool, str],
) -> None:
    """A message's text, a conversation's subject, a text in a list (the participants)."""
    stored, text = drawn
    solidaris = tokens.organisation("Solidaris").enterprise_number
    if target == "text":
        path, body, name = f"/conversations/{conversation}/messages", {"text": text}, "text"
    elif target == "subject":
        path, body, name = f"/dossiers/{dossier}/conversations", {"subject": text, "participants": [solidaris]}, target
    else:
        body = {"subject": "Start date", "participants": [solidaris, text]}
        path, name = f"/dossiers/{dossier}/conversations", "participants[1]"
    response = await send(client, "POST", path, headers=caller("Solidaris", ["medicalAdvisor"]), json=body)
    if stored and target != "participants":
        assert response.status_code == 201, response.text
    else:
        # An enterprise number's pattern refuses any text with a control character, NUL or not.
        assert_bad_request(response, "body", name)


@fuzz(TEXT_EXAMPLES)
@given(text=edge.texts_with_nul)
async def test_text_of_a_query(client: httpx.AsyncClient, caller: Caller, text: str) -> None:
    """A text read only, never stored (a page cursor): a NUL is refused there too, before anything reads it."""
    headers = caller("Solidaris", ["medicalAdvisor"])
    response = await send(client, "POST", "/dossiers/query", headers=headers, json={"page": text})
    assert_bad_request(response, "body", "page")


@fuzz(TEXT_EXAMPLES)
@given(
    drawn=st.one_of(
        edge.header_bytes_with_controls.map(lambda key: (False, key)),
        edge.printable_header_values.map(lambda key: (True, key.encode())),
    )
)
async def test_idempotency_key(
    client: httpx.AsyncClient, caller: Caller, person: SimulatedPerson, drawn: tuple[bool, bytes]
) -> None:
    valid, key = drawn
    headers: dict[str, Any] = {**caller("Solidaris", ["medicalAdvisor"]), "Idempotency-Key": key}
    body = {"ssin": person.ssin, "start": "registrationForm"}
    response = await send(client, "POST", "/dossiers", headers=headers, json=body)
    if valid:
        assert response.status_code in (200, 201), response.text
    else:
        assert_bad_request(response, "header", "Idempotency-Key")


# -- tokens -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", sorted(edge.MALFORMED_CLAIMS))
@fuzz(TOKEN_EXAMPLES)
@given(data=st.data())
async def test_malformed_claims_of_a_signed_token(
    client: httpx.AsyncClient, tokens: TokenFactory, claim: str, data: st.DataObject
) -> None:
    value = data.draw(edge.MALFORMED_CLAIMS[claim], label=claim)
    if claim == "roles":
        token = tokens.token("CM", value, alg="ES256")
    else:
        token = tokens.token("CM", ["medicalAdvisor"], alg="ES256", **{claim: value})
    response = await send(client, "GET", "/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["type"] == INVALID_TOKEN


# -- the count ----------------------------------------------------------------------------------------------------

FUZZ_TESTS = 4 + 5 + 4 + 8


def test_zz_generated_requests(request: pytest.FixtureRequest) -> None:
    """Runs last (pytest keeps the file's order): when every test above ran, they sent what they were set for, and
    when the contract test ran too (it runs first), the run reached the 10,000 generated requests of issue 15."""
    items = request.session.items
    here = [item for item in items if item.path == request.path and item is not request.node]
    if len(here) < FUZZ_TESTS:
        pytest.skip("only part of this module was selected")
    assert generated_requests.SERVER_ERRORS[MODULE] == 0
    assert generated_requests.SENT[MODULE] >= EXPECTED_REQUESTS, generated_requests.summary()
    options = request.config.option
    whole_contract = any(item.path.name == "test_api_contract.py" for item in items) and not (
        options.keyword or options.markexpr or options.deselect
    )
    if whole_contract:
        assert sum(generated_requests.SENT.values()) >= generated_requests.TARGET, generated_requests.summary()
        assert sum(generated_requests.SERVER_ERRORS.values()) == 0, generated_requests.summary()

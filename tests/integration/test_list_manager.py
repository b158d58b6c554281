"""The list manager of §48 (deliberation 26/060): a token whose only working role is ``listManager`` reads its
regional service's decision list (JSON and CSV) and hours list, and nothing else. Every operation that names a person
refuses it through the person guard (403 ``missingPermission`` when its service is linked to the person, 404 when
not; one record, ``roleNotAllowed`` or ``noLink``); every list that is not one of its own refuses it at the door,
before any person is looked at (no record). A token that also holds ``referenceAdvisor`` keeps everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.integration.test_one_path_to_a_person import (
    CALLERS,
    LISTS,
    NOT_ABOUT_ONE_PERSON,
    ROWS,
    World,
    _report_hours,
    records_of,
)
from tests.integration.test_requests_and_decisions import WEEK
from tests.token_factory import TokenFactory

TODAY = datetime.now(UTC).date().isoformat()
# An audit query's days around today, so that a run that crosses midnight (UTC) still reads what it just recorded.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
MONTH = TODAY[:7]
REGIONAL_SERVICES = ("VDAB", "Forem", "Actiris", "ADG")

NOT_NAMING_ONE_PERSON: dict[str, tuple[str, str, int]] = {
    "listDecisions": ("GET", f"/decisions?week={WEEK}", 200),
    "listHours": ("GET", f"/hoursLists?month={MONTH}", 200),
    "listFollowUps": ("GET", "/followUps?from=2026-09-01", 200),
    "getMe": ("GET", "/me", 200),
    "queryDossiers": ("POST", "/dossiers/query", 403),
    "readEvents": ("GET", "/events?after=0", 403),
    "queryRequests": ("POST", "/requests/query", 403),
    "queryRegistrationForms": ("POST", "/registrationForms/query", 403),
    "getStatistics": ("GET", f"/statistics?from={MONTH}&to={MONTH}", 403),  # INAMI's
    "queryAuditEvents": ("POST", "/auditEvents/query", 403),  # auditors'
}
"""Each operation that names nobody, as a list manager calls it, and what it gets (``checkHealth`` is public)."""


@pytest.fixture(scope="module")
def bearer_tokens(tokens: TokenFactory) -> dict[str, str]:
    made = {name: tokens.token(org, [role], **claims) for name, (org, role, claims) in CALLERS.items()}
    made["advisorAndLists"] = tokens.token("VDAB", ["referenceAdvisor", "listManager"])
    return made


@pytest.fixture
def callers(client: httpx.AsyncClient, bearer_tokens: dict[str, str]) -> dict[str, Caller]:
    return {name: Caller(client, token) for name, token in bearer_tokens.items()}


@pytest.fixture
async def world(callers: dict[str, Caller], person: SimulatedPerson) -> World:
    return await World(person.ssin, callers).need("dossier")


@pytest.fixture
def unlinked_list_manager(client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson) -> Caller:
    """The list manager of a regional service the person is not registered with."""
    registered = {number for number, _ in person.registrations}
    name = next(n for n in REGIONAL_SERVICES if tokens.organisation(n).enterprise_number not in registered)
    return Caller(client, tokens.token(name, ["listManager"]))


def test_every_operation_is_decided_for_the_list_manager() -> None:
    """A new operation must say what a list manager gets from it (here, or a row of the person-scoped table)."""
    assert set(NOT_NAMING_ONE_PERSON) == (LISTS | NOT_ABOUT_ONE_PERSON) - {"checkHealth"}


@pytest.mark.parametrize("operation", sorted(ROWS))
async def test_a_linked_list_manager_is_refused_every_operation_naming_a_person(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    response = await row.call(callers["vdabLists"], world)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:problem-type:belgif:missingPermission"
    assert world.ssin not in response.text
    assert await records_of(connection, response) == [(world.ssin, operation, "deny", "roleNotAllowed", 403, False)]


@pytest.mark.parametrize("operation", sorted(ROWS))
async def test_an_unlinked_list_manager_learns_nothing(
    operation: str, world: World, unlinked_list_manager: Caller, connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    response = await row.call(unlinked_list_manager, world)
    assert response.status_code == row.unlinked_status, response.text  # 404 (a batch: 403, its items unknown)
    assert world.ssin not in response.text
    assert await records_of(connection, response) == [
        (world.ssin, operation, "deny", "noLink", row.unlinked_status, False)
    ]


@pytest.mark.parametrize("operation", sorted(NOT_NAMING_ONE_PERSON))
async def test_a_list_manager_reads_its_lists_and_is_refused_the_others_at_the_door(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    request_id = await world.approved_training()
    assert (await _report_hours(callers["vdab"], world)).status_code == 200
    method, path, status = NOT_NAMING_ONE_PERSON[operation]
    lists = callers["vdabLists"]
    body = {"from": YESTERDAY, "to": TOMORROW} if operation == "queryAuditEvents" else {}
    response = await (lists.get(path) if method == "GET" else lists.post(path, body))
    assert response.status_code == status, response.text
    if status == 403:
        assert world.ssin not in response.text
        assert await records_of(connection, response) == []  # refused before any person was looked at
    elif operation in ("listDecisions", "listHours"):
        assert request_id in response.text
        assert [r[2:] for r in await records_of(connection, response)] == [
            ("permit", "regionalRegistration", 200, True)
        ]


async def test_the_csv_decision_list_is_the_list_managers_too(world: World, callers: dict[str, Caller]) -> None:
    request_id = await world.approved_training()
    response = await callers["vdabLists"].get(f"/decisions?week={WEEK}", Accept="text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert request_id in response.text


async def test_a_reference_advisor_who_is_also_list_manager_keeps_everything(
    world: World, callers: dict[str, Caller]
) -> None:
    both = callers["advisorAndLists"]
    request_id = await world.approved_training()
    assert (await both.get(f"/dossiers/{world.ids['dossier']}")).status_code == 200
    assert (await both.post("/dossiers", {"ssin": world.ssin})).status_code == 200
    assert (await both.get(f"/requests/{request_id}")).status_code == 200
    for path in ("/registrationForms/query", "/requests/query", "/dossiers/query"):
        assert (await both.post(path, {})).status_code == 200, path
    assert (await both.get("/events?after=0")).status_code == 200
    assert (await _report_hours(both, world)).status_code == 200
    assert request_id in (await both.get(f"/hoursLists?month={MONTH}")).text
    assert request_id in (await both.get(f"/decisions?week={WEEK}")).text

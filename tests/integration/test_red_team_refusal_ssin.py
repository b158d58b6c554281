"""Red team of the refusals that name an SSIN the caller already knows (rp_api.authz.person_guard._name_refusals):
after a person's SSIN was replaced and their dossier followed them to the new one, an organisation not linked under
the new SSIN knocks on every door it still has (ids it holds, batches, lists, the feed, an auditor's token, a source
failing, a chain of replacements). None of its answers nor of its audit records may name the new SSIN; each call
records the person once; nothing answers 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import SimulatedPerson
from tests.integration import test_red_team_trajectory as trajectory
from tests.integration.test_dossiers_and_forms import Caller
from tests.integration.test_identity_over_time import records_of
from tests.integration.test_red_team_trajectory import (
    LISTS,
    STARTED_ON,
    Forget,
    hours_of,
    inami_finds_the_refusal,
    line,
    listed,
    moved_away,
    vdab_log,
)
from tests.token_factory import TokenFactory

c = trajectory.c
two = trajectory.two


async def test_no_door_of_an_unlinked_organisation_names_the_new_ssin_and_each_call_records_the_person_once(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    request, dossier, (old, new) = await moved_away(c, two[0], tokens, simulator, app, forget_links, connection)
    doors: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        **{name: (lambda name=name: listed(c, name)) for name in LISTS if LISTS[name][0] in ("vdab", "vdabLists")},
        "the request": lambda: c["vdab"].get(f"/requests/{request}"),
        "its follow-up": lambda: c["vdab"].get(f"/requests/{request}/followUps"),
        "a step": lambda: c["vdab"].post(
            f"/requests/{request}/followUps", {"event": "interrupted", "occurredOn": STARTED_ON, "reason": "other"}
        ),
        "an hours report (batch)": lambda: hours_of(c["vdab"], line(request, 20)),
        "an hours report of two lines": lambda: hours_of(c["vdab"], line(request, 3), line(request, 4, training="t2")),
        "the dossier": lambda: c["vdab"].get(f"/dossiers/{dossier}"),
        "its conversations": lambda: c["vdab"].get(f"/dossiers/{dossier}/conversations"),
        "its consents": lambda: c["vdab"].get(f"/dossiers/{dossier}/consents"),
        "the feed": lambda: c["vdab"].get("/events?after=0&limit=500"),
        "the request, with an auditor's token": lambda: c["vdabAuditor"].get(f"/requests/{request}"),
        "the dossier, with an auditor's token": lambda: c["vdabAuditor"].get(f"/dossiers/{dossier}"),
    }
    for what, door in doors.items():
        response = await door()
        assert response.status_code < 500, (what, response.status_code, response.text)
        assert new not in response.text, what
        records = await records_of(connection, response)
        persons = [r[0] for r in records if r[0] in (old, new)]
        assert new not in persons, (what, records)
        assert len(persons) <= 1, (what, "the person recorded more than once in one call", records)
        if response.status_code in (403, 404) and what not in ("its conversations", "its consents"):
            assert persons == [old], (what, "a refusal not recorded", records)
    assert new not in (await vdab_log(c)).text


async def test_a_source_failing_for_the_person_refuses_under_the_ssin_the_organisation_knows(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    request, _, (_, new) = await moved_away(c, two[0], tokens, simulator, app, forget_links, connection)
    await forget_links(app)
    for source in ("jobSeeker", "nationalRegister", "memberData"):
        simulator.faults[source] = "error"  # type: ignore[assignment]
    for response in (
        await c["vdab"].get(f"/requests/{request}"),
        await hours_of(c["vdab"], line(request, 20)),
        await listed(c, "request work list"),
    ):
        assert response.status_code in (404, 502, 503), response.text
        assert new not in response.text
        records = await records_of(connection, response)
        assert new not in [r[0] for r in records], records
    simulator.faults.clear()
    assert new not in (await vdab_log(c)).text


@pytest.mark.parametrize("hops", [2, 3])
async def test_after_a_chain_of_replacements_the_refusal_names_the_ssin_the_organisation_saw_never_one_between(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
    hops: int,
) -> None:
    """A → B (→ C) → D: VDAB saw the person under A only; the dossier followed them to the last SSIN. VDAB's refusals
    name A; none of B, C, D reaches its answers or its audit log. INAMI's auditor, asking by the last SSIN, finds
    VDAB's refusal."""
    request, dossier, ssins = await moved_away(c, two[0], tokens, simulator, app, forget_links, connection, hops=hops)
    unknown = ssins[1:]
    for response in (
        await c["vdab"].get(f"/requests/{request}"),
        await c["vdab"].get(f"/dossiers/{dossier}"),
        await hours_of(c["vdab"], line(request, 20)),
        await listed(c, "hours list"),
    ):
        assert response.status_code in (200, 404), response.text
        assert not [s for s in unknown if s in response.text]
        assert {r[0] for r in await records_of(connection, response)} <= {ssins[0]}
    log = (await vdab_log(c)).text
    assert not [s for s in unknown if s in log]
    await inami_finds_the_refusal(c, tokens, by=ssins[-1], under=ssins[0])


async def test_naming_the_new_ssin_is_recorded_under_it_and_naming_the_old_one_under_the_old_one(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """A caller that names an SSIN is recorded under the one it named (it knows it): never swapped for another."""
    _, _, (old, new) = await moved_away(c, two[0], tokens, simulator, app, forget_links, connection)
    for named in (old, new):
        looked = await c["vdab"].post("/dossiers", {"ssin": named})
        assert looked.status_code == 404, looked.text
        assert [r[0] for r in await records_of(connection, looked)] == [named]
        assert {old, new} - {named} <= {s for s in (old, new) if s not in looked.text}

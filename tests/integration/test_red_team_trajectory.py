"""Red team of issue 18 (the trajectory after the decision, the person's identity over time), from outside: another
organisation's token, a replayed request, a list line, a CSV row, a feed item, a cursor the caller did not get, an
SSIN that changed, a source that fails halfway, concurrent calls. Each test passes when the service defends itself.

What is attacked: the side doors of an SSIN replacement (a successor SSIN, or the fact of a replacement, told to an
organisation not linked under the new SSIN), merged dossiers (reached through the absorbed id, data lost or
cross-wired, a half-done merge committed), amendments (someone else's, after a decision, fields not amendable, a
dodge of the insurer's validation reset, a replay with another body), extensions, hours and follow-up (by a party
that does not run the trajectory, on a request not approved, after the link is lost), the lists (beyond a list
manager's, lines of a person no longer linked, health data, cursors of another list or organisation) and inputs
meant to make a 500."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from rp_api.app import create_app
from rp_api.settings import Settings
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, PHYSICIAN_CONTENT, Caller
from tests.integration.test_identity_over_time import (
    forget_own_links,
    hops,
    make_older,
    records_of,
    solidaris_and_vdab,
    stored,
)
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision
from tests.token_factory import TokenFactory

Forget = Callable[[FastAPI], Awaitable[None]]
MERGE_PATCH = "application/merge-patch+json"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
NOT_FOUND = "urn:problem-type:belgif:resourceNotFound"
MONTH = datetime.now(UTC).strftime("%Y-%m")
STARTED_ON = "2026-09-01"
"""A step date within the period :func:`decision` approves (2026-09-01 … 2026-12-18), never in the future."""
MEDICAL = "Chronic lumbar pain, L4-L5 hernia"
HEALTH_TEXTS = ("2024-03-01", "No lifting over 5 kg", MEDICAL)
"""What only the health data of the trajectories below says (the form's incapacity start date and functional
capacities, the request's medical information)."""
HEALTH_KEYS = {
    "incapacityStartDate",
    "functionalCapacities",
    "medicalInformation",
    "medicalAdvice",
    "physicianQuestion",
}
SECOND_TRAINING = {**TRAINING, "provider": "VDAB Opleidingscentrum", "title": "Warehouse safety", "cost": "900.00"}
AUDIT_DAYS = {
    "from": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
    "to": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
}

ROLES = {
    "vdab": ("VDAB", "referenceAdvisor"),
    "vdabLists": ("VDAB", "listManager"),
    "vdabAuditor": ("VDAB", "auditor"),
    "forem": ("Forem", "referenceAdvisor"),
    "foremLists": ("Forem", "listManager"),
    "insurer": ("Solidaris", "returnToWorkCoordinator"),
    "insurerPhysician": ("Solidaris", "medicalAdvisor"),
    "insurerLists": ("Solidaris", "administrative"),
    "otherInsurer": ("CM", "returnToWorkCoordinator"),
    "expert": ("INAMI", "socialExpert"),
    "inspector": ("INAMI", "medicalInspector"),
    "inamiAuditor": ("INAMI", "auditor"),
}


def callers_on(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {name: Caller(client, tokens.token(org, [role])) for name, (org, role) in ROLES.items()}


@pytest.fixture
def c(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return callers_on(client, tokens)


@pytest.fixture
def two(population: Population, tokens: TokenFactory) -> tuple[SimulatedPerson, SimulatedPerson]:
    """Two living persons of Solidaris and VDAB (none replaced, neither registered with Forem), whose names differ."""
    forem = enterprise(tokens, "Forem")
    found = [p for p in solidaris_and_vdab(population, tokens, 60) if all(r != forem for r, _ in p.registrations)]
    first = found[0]
    second = next(p for p in found[1:] if (p.given_name, p.family_name) != (first.given_name, first.family_name))
    return first, second


def enterprise(tokens: TokenFactory, name: str) -> str:
    return tokens.organisation(name).enterprise_number


# --- building trajectories, as the parties would --------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    dossier: str
    form: str | None
    request: str
    etag: str


async def dossier_of(c: dict[str, Caller], ssin: str) -> str:
    opened = await c["insurer"].post("/dossiers", {"ssin": ssin, "start": "registrationForm"})
    assert opened.status_code in (200, 201), opened.text
    return str(opened.json()["id"])


async def submitted_form(c: dict[str, Caller], dossier: str) -> str:
    """A form with health data (the médecin-conseil writes it), submitted by the coordinator."""
    created = await c["insurerPhysician"].post(f"/dossiers/{dossier}/registrationForms", PHYSICIAN_CONTENT)
    assert created.status_code == 201, created.text
    form = str(created.json()["id"])
    submitted = await c["insurer"].post(f"/registrationForms/{form}/submit", **{"If-Match": created.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text
    return form


async def vdab_training(
    c: dict[str, Caller],
    ssin: str,
    *,
    trainings: list[dict[str, Any]] | None = None,
    validate: bool = True,
    medical: bool = False,
    approve: bool = True,
) -> Trajectory:
    """VDAB's training on the insurer's form; validated by the insurer (``validate``), with the médecin-conseil's
    medical information (``medical``), approved by INAMI (``approve``)."""
    dossier = await dossier_of(c, ssin)
    form = await submitted_form(c, dossier)
    body = {"type": "training", "registrationFormId": form, "trainingProject": "Logistics"}
    created = await c["vdab"].post(f"/dossiers/{dossier}/requests", {**body, "trainings": trainings or [TRAINING]})
    assert created.status_code == 201, created.text
    request, etag = str(created.json()["id"]), created.headers["ETag"]
    if validate:
        validated = await c["insurer"].post(
            f"/requests/{request}/insurerValidation", {"validated": True, "motivation": "Fits"}, **{"If-Match": etag}
        )
        assert validated.status_code == 200, validated.text
        etag = validated.headers["ETag"]
    if medical:
        added = await c["insurerPhysician"].post(
            f"/requests/{request}/medicalInformation", {"text": MEDICAL}, **{"If-Match": etag}
        )
        assert added.status_code == 200, added.text
        etag = added.headers["ETag"]
    if approve:
        await approve_all(c, request)
    return Trajectory(dossier, form, request, etag)


async def insurer_training(c: dict[str, Caller], ssin: str) -> Trajectory:
    """A training the insurer's médecin-conseil asked for without a form (at INAMI at once), approved."""
    dossier = await dossier_of(c, ssin)
    created = await c["insurerPhysician"].post(
        f"/dossiers/{dossier}/requests", {"type": "training", "trainingProject": "Own", "trainings": [TRAINING]}
    )
    assert created.status_code == 201, created.text
    request = str(created.json()["id"])
    await approve_all(c, request)
    return Trajectory(dossier, None, request, created.headers["ETag"])


async def approve_all(c: dict[str, Caller], *requests: str) -> None:
    round_ = await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(r) for r in requests]})
    assert round_.status_code == 201, round_.text


async def run(runner: Caller, request: str, hours: int = 12) -> None:
    """The runner reports this month's hours of t1 and records that the training started."""
    reported = await hours_of(runner, line(request, hours))
    assert reported.status_code == 200, reported.text
    started = await runner.post(f"/requests/{request}/followUps", {"event": "started", "occurredOn": STARTED_ON})
    assert started.status_code == 201, started.text


def line(request: str, hours: Any, *, training: str = "t1", month: str = MONTH) -> dict[str, Any]:
    return {"requestId": request, "trainingId": training, "month": month, "hours": hours}


async def hours_of(caller: Caller, *lines: dict[str, Any], **headers: str) -> httpx.Response:
    return await caller.post("/hoursReports", {"items": list(lines)}, **headers)


async def amend(caller: Caller, request: str, body: Any, etag: str | None = None, **headers: str) -> httpx.Response:
    """PATCH a request with a JSON merge patch (a str is sent as it is)."""
    sent = {**caller.headers, "Content-Type": MERGE_PATCH, **headers}
    if etag is not None:
        sent["If-Match"] = etag
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return await caller.client.patch(f"/rp/v1/requests/{request}", content=content, headers=sent)


async def count(connection: AsyncConnection, query: str, **params: Any) -> int:
    return int(await connection.scalar(text(query), params) or 0)


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    """A list's lines, flat (a JSON line's ``person`` members beside its own), as text: a CSV's rows or a JSON page's
    items."""
    if response.headers["content-type"].startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(response.text)))
    rows = []
    for item in response.json()["items"]:
        row = {key: value for key, value in item.items() if not isinstance(value, dict | list)}
        row |= item.get("person") or {}
        rows.append({key: "" if value is None else str(value) for key, value in row.items()})
    return rows


def about(rows: list[dict[str, str]], *resources: str) -> list[dict[str, str]]:
    """The lines of these requests or forms."""
    return [row for row in rows if (row.get("requestId") or row.get("id")) in resources]


LISTS: dict[str, tuple[str, str, str, bool]] = {
    "decision list": ("vdabLists", "GET", f"/decisions?week={WEEK}", False),
    "decision list CSV": ("vdabLists", "GET", f"/decisions?week={WEEK}", True),
    "hours list": ("vdabLists", "GET", f"/hoursLists?month={MONTH}", False),
    "hours list CSV": ("vdabLists", "GET", f"/hoursLists?month={MONTH}", True),
    "follow-up list": ("vdabLists", "GET", "/followUps?from=2026-08-01", False),
    "follow-up list CSV": ("vdabLists", "GET", "/followUps?from=2026-08-01", True),
    "INAMI's decision list": ("expert", "GET", f"/decisions?week={WEEK}", False),
    "INAMI's follow-up list": ("expert", "GET", "/followUps?from=2026-08-01", False),
    "request work list": ("vdab", "POST", "/requests/query", False),
    "form work list": ("vdab", "POST", "/registrationForms/query", False),
}
"""Every list that names the person of a decided trajectory: (caller, method, path, CSV)."""


async def listed(c: dict[str, Caller], name: str) -> httpx.Response:
    who, method, path, as_csv = LISTS[name]
    headers = {"Accept": "text/csv"} if as_csv else {}
    if method == "POST":
        return await c[who].post(path, {"pageSize": 100})
    return await c[who].get(f"{path}&pageSize=500", **headers)


# --- identity over time: lists show the current SSIN on the first listing -------------------------------------------


@pytest.mark.parametrize("first", list(LISTS))
async def test_every_list_shows_the_current_ssin_on_the_first_listing_after_a_replacement(
    first: str,
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    population: Population,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    person = two[0]
    trajectory = await vdab_training(c, person.ssin)
    await run(c["vdab"], trajectory.request)
    new = simulator.replace_ssin(person.ssin)
    await forget_links(app)

    response = await listed(c, first)

    assert response.status_code == 200, response.text
    lines = about(rows_of(response), trajectory.request, str(trajectory.form))
    assert lines, response.text
    for row in lines:
        assert row["ssin"] == new, (first, row)
        assert row["dossierId"] == trajectory.dossier
        if row.get("givenName"):
            assert (row["givenName"], row["familyName"]) == (
                population.persons[new].given_name,
                population.persons[new].family_name,
            )
    assert person.ssin not in response.text  # nothing names the replaced SSIN any more
    assert await stored(connection, person.ssin, new) == [(trajectory.dossier, new)]


@pytest.mark.parametrize("first", list(LISTS))
async def test_after_a_merge_every_list_shows_the_survivor_and_the_current_persons_name_on_the_first_listing(
    first: str,
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    population: Population,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """The two records turn out to be one person's, known under the second's SSIN (with its name): the lines of the
    first's trajectory name that SSIN, that name, and the one dossier that remains."""
    absorbed_person, kept_person = two
    trajectory = await vdab_training(c, absorbed_person.ssin)
    await run(c["vdab"], trajectory.request)
    kept_dossier = await dossier_of(c, kept_person.ssin)
    await make_older(connection, kept_dossier)  # the kept person's dossier is the older: it survives
    simulator.replace_ssin(absorbed_person.ssin, kept_person.ssin)
    await forget_links(app)

    response = await listed(c, first)

    assert response.status_code == 200, response.text
    assert await stored(connection, absorbed_person.ssin, kept_person.ssin) == [(kept_dossier, kept_person.ssin)]
    lines = about(rows_of(response), trajectory.request, str(trajectory.form))
    assert lines, response.text
    for row in lines:
        assert row["ssin"] == kept_person.ssin, (first, row)
        assert row["dossierId"] == kept_dossier, (first, row)  # not the id of the dossier this very call absorbed
        if "givenName" in row:
            assert (row["givenName"], row["familyName"]) == (kept_person.given_name, kept_person.family_name), row
    assert absorbed_person.ssin not in response.text


# --- identity over time: side doors --------------------------------------------------------------------------------


async def test_an_organisation_not_linked_under_the_new_ssin_learns_nothing_from_lists_writes_or_its_audit_log(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """The person's SSIN is replaced and, under the new one, they are registered with Forem only: VDAB, which runs
    their training, no longer sees them. No answer, list line, CSV row, error detail or audit record of VDAB's tells
    the new SSIN or that a replacement happened, and nothing it does moves the dossier."""
    person = two[0]
    trajectory = await vdab_training(c, person.ssin)
    await run(c["vdab"], trajectory.request)
    old = person.ssin
    new = simulator.replace_ssin(old)
    simulator.move_registrations(new, [enterprise(tokens, "Forem")])
    await forget_links(app)

    request = trajectory.request
    calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        **{name: (lambda name=name: listed(c, name)) for name in LISTS if LISTS[name][0] in ("vdab", "vdabLists")},
        "read the request": lambda: c["vdab"].get(f"/requests/{request}"),
        "read the follow-up": lambda: c["vdab"].get(f"/requests/{request}/followUps"),
        "report hours": lambda: hours_of(c["vdab"], line(request, 20)),
        "record a step": lambda: c["vdab"].post(
            f"/requests/{request}/followUps", {"event": "interrupted", "occurredOn": STARTED_ON, "reason": "other"}
        ),
        "extend": lambda: c["vdab"].post(f"/requests/{request}/extensions", {"trainings": [SECOND_TRAINING]}),
        "amend": lambda: amend(c["vdab"], request, {"trainingProject": "x"}, trajectory.etag),
        "look the old SSIN up": lambda: c["vdab"].post("/dossiers", {"ssin": old}),
        "read the dossier": lambda: c["vdab"].get(f"/dossiers/{trajectory.dossier}"),
        "read the form": lambda: c["vdab"].get(f"/registrationForms/{trajectory.form}"),
    }
    for what, call in calls.items():
        response = await call()
        assert response.status_code in (200, 404), (what, response.text)
        assert new not in response.text, what
        if response.status_code == 200:
            assert about(rows_of(response), request, str(trajectory.form)) == [], what
        else:
            assert response.json()["type"] == NOT_FOUND, what
        records = await records_of(connection, response)
        assert {(r[0], r[3], r[4]) for r in records} <= {(old, "deny", "noLink")}, (what, records)
    assert await stored(connection, old, new) == [(trajectory.dossier, old)]  # a denial moves nothing
    assert await hops(connection, old, new) == set()
    assert await count(connection, "SELECT count(*) FROM follow_up WHERE event <> 'started'") == 0
    assert await count(connection, "SELECT count(*) FROM request WHERE extends_request_id = :r", r=request) == 0

    # VDAB's own auditor reads every record of its users: none names the new SSIN.
    own = await vdab_log(c)
    assert new not in own.text
    assert {item["personSsin"] for item in own.json()["items"]} >= {old}

    # Forem, linked under the new SSIN, reaches the person; the dossier follows only then.
    found = await c["forem"].post("/dossiers", {"ssin": new})
    assert (found.status_code, found.json()["id"]) == (200, trajectory.dossier)
    assert await stored(connection, old, new) == [(trajectory.dossier, new)]
    # and VDAB, still not linked, still learns nothing (the dossier now stored under the new SSIN)
    for name in ("decision list", "hours list", "follow-up list"):
        response = await listed(c, name)
        assert response.status_code == 200
        assert new not in response.text
        assert about(rows_of(response), request) == []
    assert (await c["vdab"].get(f"/requests/{request}")).status_code == 404


async def moved_away(
    c: dict[str, Caller],
    person: SimulatedPerson,
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
    *,
    hops: int = 1,
) -> tuple[str, str, list[str]]:
    """VDAB runs the person's training; their SSIN is replaced ``hops`` times (A → B → …), under the last one they
    are registered with Forem only, and Forem's lookup makes the dossier follow them. Returns the request, the
    dossier and the SSINs, oldest first."""
    trajectory = await vdab_training(c, person.ssin)
    await run(c["vdab"], trajectory.request)
    ssins = [person.ssin]
    for _ in range(hops):
        ssins.append(simulator.replace_ssin(ssins[-1]))
    simulator.move_registrations(ssins[-1], [enterprise(tokens, "Forem")])
    await forget_links(app)
    assert (await c["forem"].post("/dossiers", {"ssin": ssins[-1]})).status_code == 200
    assert await stored(connection, *ssins) == [(trajectory.dossier, ssins[-1])]
    return trajectory.request, trajectory.dossier, ssins


async def vdab_log(c: dict[str, Caller]) -> httpx.Response:
    """Every record of VDAB's users, as VDAB's own auditor reads them."""
    own = await c["vdabAuditor"].post("/auditEvents/query", {**AUDIT_DAYS, "pageSize": 1000})
    assert own.status_code == 200, own.text
    return own


async def inami_finds_the_refusal(c: dict[str, Caller], tokens: TokenFactory, *, by: str, under: str) -> None:
    """INAMI's audit query of the person, by the SSIN ``by``, finds VDAB's refusal recorded under ``under`` (one
    person, every SSIN)."""
    inami = await c["inamiAuditor"].post("/auditEvents/query", {**AUDIT_DAYS, "ssin": by, "pageSize": 1000})
    assert inami.status_code == 200, inami.text
    assert any(
        i["organisation"] == enterprise(tokens, "VDAB") and i["outcome"] == "deny" and i["personSsin"] == under
        for i in inami.json()["items"]
    )


async def test_after_the_dossier_followed_the_person_an_unlinked_organisations_audit_log_names_no_new_ssin(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    request, _, (old, new) = await moved_away(c, two[0], tokens, simulator, app, forget_links, connection)

    # VDAB does what it does every day: reads its hours list, and the request it runs (an id it holds).
    assert (await listed(c, "hours list")).status_code == 200
    assert (await c["vdab"].get(f"/requests/{request}")).status_code == 404

    own = await vdab_log(c)
    leaked = [(i["operation"], i["resourceId"]) for i in own.json()["items"] if i["personSsin"] == new]
    assert leaked == [], f"VDAB's auditor reads the new SSIN of a person VDAB is not linked to: {leaked}"
    # The refusals are recorded, under the SSIN VDAB saw the person under...
    refused = {
        (i["operation"], i["outcome"], i["reason"])
        for i in own.json()["items"]
        if i["personSsin"] == old and i["resourceId"] == str(request)
    }
    assert ("getRequest", "deny", "noLink") in refused, refused
    # ...and INAMI's audit query of the person, by the new SSIN, finds them (one person, every SSIN).
    await inami_finds_the_refusal(c, tokens, by=new, under=old)


async def test_an_absorbed_dossier_id_leads_nowhere_for_an_organisation_not_linked_and_changes_nothing(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    first, second = two
    older = await dossier_of(c, first.ssin)
    await submitted_form(c, older)
    vdab = enterprise(tokens, "VDAB")
    talk = await c["insurer"].post(f"/dossiers/{older}/conversations", {"subject": "A", "participants": [vdab]})
    assert talk.status_code == 201, talk.text
    newer = await dossier_of(c, second.ssin)
    await make_older(connection, older)
    simulator.replace_ssin(second.ssin, first.ssin)
    await forget_links(app)

    cm = c["otherInsurer"]  # linked to neither SSIN
    before = await count(connection, "SELECT count(*) FROM registration_form") + await count(
        connection, "SELECT count(*) FROM request"
    )
    probes = {
        "the dossier": lambda d: cm.get(f"/dossiers/{d}"),
        "its conversations": lambda d: cm.get(f"/dossiers/{d}/conversations"),
        "its consents": lambda d: cm.get(f"/dossiers/{d}/consents"),
        "a form in it": lambda d: cm.post(f"/dossiers/{d}/registrationForms", CONTENT),
        "a request in it": lambda d: cm.post(f"/dossiers/{d}/requests", {"type": "coaching"}),
        "a conversation in it": lambda d: cm.post(
            f"/dossiers/{d}/conversations", {"subject": "x", "participants": [vdab]}
        ),
    }
    for phase in ("before the merge", "after the merge"):
        for what, probe in probes.items():
            for dossier in (older, newer):
                response = await probe(dossier)
                assert response.status_code == 404, (phase, what, response.text)
                for secret in (first.ssin, second.ssin, older if dossier == newer else newer):
                    assert secret not in response.text, (phase, what)
        if phase == "before the merge":
            # CM's denials merged nothing
            assert sorted(await stored(connection, first.ssin, second.ssin)) == sorted(
                [(older, first.ssin), (newer, second.ssin)]
            )
            merged = await c["insurer"].get(f"/dossiers/{newer}")  # the insurer, linked: the merge happens
            assert merged.status_code == 200, merged.text
            assert await stored(connection, first.ssin, second.ssin) == [(merged.json()["id"], first.ssin)]
    after = await count(connection, "SELECT count(*) FROM registration_form") + await count(
        connection, "SELECT count(*) FROM request"
    )
    assert after == before


# --- merges: nothing lost, nothing half done ------------------------------------------------------------------------


async def test_a_source_failing_in_the_middle_of_a_merge_leaves_both_dossiers_as_they_were(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    population: Population,
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """The call names the kept SSIN and passes the guard; while the platform merges, the National Register answers
    garbage for the earlier SSIN it asks about (its successor): 502, and nothing of the merge is committed — no
    history, no move, no consent withdrawn, no item moved. Once the register answers, the merge happens whole."""
    absorbed_person, kept_person = two
    consent = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1"}
    made: dict[str, dict[str, str]] = {}
    for who, given in ((absorbed_person, "2026-01-10"), (kept_person, "2026-02-20")):
        trajectory = await vdab_training(c, who.ssin)
        await run(c["vdab"], trajectory.request)
        given_consent = await c["insurer"].post(
            f"/dossiers/{trajectory.dossier}/consents", {**consent, "givenOn": given}
        )
        assert given_consent.status_code == 201, given_consent.text
        made[who.ssin] = {"dossier": trajectory.dossier, "request": trajectory.request}
    await make_older(connection, made[absorbed_person.ssin]["dossier"])
    simulator.replace_ssin(absorbed_person.ssin, kept_person.ssin)
    await forget_links(app)

    async def snapshot() -> list[Any]:
        queries = (
            "SELECT id::text, ssin FROM dossier WHERE ssin = ANY(:s) ORDER BY 1",
            "SELECT id::text, dossier_id::text FROM request WHERE dossier_id = ANY(CAST(:d AS uuid[])) ORDER BY 1",
            "SELECT id::text, dossier_id::text FROM follow_up WHERE dossier_id = ANY(CAST(:d AS uuid[])) ORDER BY 1",
            "SELECT id::text, withdrawn_at IS NULL FROM consent WHERE dossier_id = ANY(CAST(:d AS uuid[])) ORDER BY 1",
            "SELECT old_ssin, new_ssin FROM ssin_replacement WHERE new_ssin = ANY(:s) ORDER BY 1",
            "SELECT absorbed_dossier_id::text FROM dossier_merge ORDER BY 1",
        )
        params = {"s": [absorbed_person.ssin, kept_person.ssin], "d": [m["dossier"] for m in made.values()]}
        return [[tuple(row) for row in await connection.execute(text(q), params)] for q in queries]

    before = await snapshot()
    replaced = population.persons[absorbed_person.ssin]
    population.persons[absorbed_person.ssin] = replace(replaced, replaced_by="12345")  # garbage for that SSIN only
    try:
        for call in (
            lambda: c["insurer"].post("/dossiers", {"ssin": kept_person.ssin}),
            lambda: c["insurer"].get(f"/dossiers/{made[kept_person.ssin]['dossier']}"),
            lambda: c["vdabLists"].get(f"/hoursLists?month={MONTH}"),
            lambda: c["vdab"].post("/requests/query", {}),
        ):
            failed = await call()
            assert failed.status_code == 502, failed.text
            assert failed.json()["type"] == "urn:problem-type:belgif:badGateway"
            assert absorbed_person.ssin not in failed.text
            assert await snapshot() == before  # not half a merge
    finally:
        population.persons[absorbed_person.ssin] = replaced
    await forget_links(app)

    merged = await c["insurer"].post("/dossiers", {"ssin": kept_person.ssin})
    assert merged.status_code == 200, merged.text
    survivor = made[absorbed_person.ssin]["dossier"]
    assert merged.json()["id"] == survivor
    assert {r["id"] for r in merged.json()["requests"]} == {m["request"] for m in made.values()}
    rows = await connection.execute(text("SELECT DISTINCT dossier_id::text FROM follow_up"))
    assert set(rows.scalars()) == {survivor}
    in_force = await count(
        connection, "SELECT count(*) FROM consent WHERE dossier_id = :d AND withdrawn_at IS NULL", d=survivor
    )
    assert in_force == 1


async def test_a_merge_keeps_every_hours_report_step_revision_decision_and_extension_of_both_dossiers(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """The first record's VDAB training (amended once, approved, hours, a step, an extension) and the second's own
    insurer training (approved, hours and a step by the insurer) end up in one dossier, each party's lists and the
    person's dossier showing all of it under the current SSIN, nothing duplicated, nothing lost."""
    absorbed_person, kept_person = two
    dossier = await dossier_of(c, absorbed_person.ssin)
    form = await submitted_form(c, dossier)
    created = await c["vdab"].post(
        f"/dossiers/{dossier}/requests",
        {"type": "training", "registrationFormId": form, "trainings": [TRAINING]},
    )
    vdab_request = str(created.json()["id"])
    amended = await amend(c["vdab"], vdab_request, {"trainingProject": "Amended once"}, created.headers["ETag"])
    assert amended.status_code == 200, amended.text
    validated = await c["insurer"].post(
        f"/requests/{vdab_request}/insurerValidation",
        {"validated": True, "motivation": "Fits"},
        **{"If-Match": amended.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    own = await insurer_training(c, kept_person.ssin)
    await approve_all(c, vdab_request)
    await run(c["vdab"], vdab_request, 10)
    await run(c["insurer"], own.request, 20)
    extension = await c["vdab"].post(f"/requests/{vdab_request}/extensions", {"trainings": [SECOND_TRAINING]})
    assert extension.status_code == 201, extension.text
    extension_id = str(extension.json()["id"])
    counts_before = {
        table: await count(connection, f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
        for table in ("hours_report", "follow_up", "request_revision", "decision", "request", "registration_form")
    }
    simulator.replace_ssin(absorbed_person.ssin, kept_person.ssin)
    await forget_links(app)

    read = await c["expert"].get(f"/dossiers/{own.dossier}")
    assert read.status_code == 200, read.text
    survivor = read.json()["id"]
    assert await stored(connection, absorbed_person.ssin, kept_person.ssin) == [(survivor, kept_person.ssin)]
    assert {r["id"] for r in read.json()["requests"]} == {vdab_request, own.request, extension_id}
    for table, before in counts_before.items():
        assert await count(connection, f"SELECT count(*) FROM {table}") == before, table  # noqa: S608
    extended = await c["vdab"].get(f"/requests/{vdab_request}")
    assert extended.json()["extensions"] == [extension_id]
    assert (await c["vdab"].get(f"/requests/{extension_id}")).json()["extends"] == vdab_request
    for caller in ("vdabLists", "insurer"):  # both are addressees of both requests
        expected = {vdab_request, own.request}
        hours = rows_of(await c[caller].get(f"/hoursLists?month={MONTH}"))
        assert {(r["requestId"], r["ssin"], r["dossierId"]) for r in about(hours, vdab_request, own.request)} == {
            (r, kept_person.ssin, survivor) for r in expected
        }, caller
        steps = rows_of(await c[caller].get("/followUps?from=2026-08-01"))
        assert {(r["requestId"], r["ssin"]) for r in about(steps, vdab_request, own.request)} == {
            (r, kept_person.ssin) for r in expected
        }, caller
    # the runners still run what they ran: a correction of each is version 2
    corrected = await hours_of(c["vdab"], line(vdab_request, 11))
    assert [(i["version"], i["ssin"]) for i in corrected.json()["items"]] == [(2, kept_person.ssin)]
    corrected = await hours_of(c["insurer"], line(own.request, 21))
    assert [(i["version"], i["ssin"]) for i in corrected.json()["items"]] == [(2, kept_person.ssin)]


# --- amendments -----------------------------------------------------------------------------------------------------


async def test_only_the_requester_amends_and_nobody_else_learns_or_changes_anything(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, validate=False, approve=False)
    expected = {
        "otherInsurer": 404,  # not linked
        "forem": 404,  # not linked (the person is not registered there)
        "insurer": 403,  # linked, not the requester
        "insurerPhysician": 403,
        "expert": 403,
        "vdabLists": 403,
        "inamiAuditor": 403,
    }
    for who, status in expected.items():
        response = await amend(c[who], trajectory.request, {"trainingProject": "hijacked"}, trajectory.etag)
        assert response.status_code == status, (who, response.text)
        assert two[0].ssin not in response.text
    read = await c["vdab"].get(f"/requests/{trajectory.request}")
    assert (read.headers["ETag"], read.json()["trainingProject"]) == (trajectory.etag, "Logistics")
    assert await count(connection, "SELECT count(*) FROM request_revision") == 0


NOT_AMENDABLE: dict[str, dict[str, Any]] = {
    "type": {"type": "coaching"},
    "the dossier (person)": {"dossierId": str(uuid.uuid4())},
    "the person's SSIN": {"ssin": "85073003328"},
    "the registration form": {"registrationFormId": str(uuid.uuid4())},
    "the status": {"status": "approved"},
    "the total cost": {"totalCost": "1.00"},
    "the insurer's validation": {"insurerValidation": {"validated": True}},
    "the validation, flat": {"validated": True},
    "medical information": {"medicalInformation": "health data"},
    "medical advice": {"medicalAdvice": "health data"},
    "incapacity start date": {"incapacityStartDate": "2024-01-01"},
    "the requester": {"requester": {"enterpriseNumber": "0200065765"}},
    "the request it extends": {"extends": str(uuid.uuid4())},
    "its id": {"id": str(uuid.uuid4())},
    "its version": {"version": 99},
    "a training's hidden member": {"trainings": [{"id": "t1", **TRAINING, "approvedAmount": "9999.00"}]},
    "a contact's SSIN": {"referenceAdvisor": {"name": "Jan", "ssin": "85073003328"}},
    "a contact's health data": {"insurerContacts": {"advisingPhysician": {"name": "Dr X", "medicalInformation": "y"}}},
}


@pytest.mark.parametrize("what", list(NOT_AMENDABLE))
async def test_a_patch_of_what_is_not_amendable_is_400_and_changes_nothing(
    what: str, c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, medical=True, approve=False)
    response = await amend(c["vdab"], trajectory.request, NOT_AMENDABLE[what], trajectory.etag)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == BAD_REQUEST
    for secret in (*HEALTH_TEXTS, two[0].ssin):
        assert secret not in response.text
    read = await c["insurerPhysician"].get(f"/requests/{trajectory.request}")
    assert read.headers["ETag"] == trajectory.etag
    assert (read.json()["type"], read.json()["status"], read.json()["medicalInformation"]) == (
        "training",
        "atInami",
        MEDICAL,
    )
    assert await count(connection, "SELECT count(*) FROM request_revision") == 0


async def test_a_decided_or_withdrawn_request_is_never_amended(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    approved = await vdab_training(c, two[0].ssin)
    etag = (await c["vdab"].get(f"/requests/{approved.request}")).headers["ETag"]
    for patch in ({"trainingProject": "after the decision"}, {"trainings": [{"id": "t1", **TRAINING, "cost": "1.00"}]}):
        refused = await amend(c["vdab"], approved.request, patch, etag)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == "urn:problem-type:rp:transitionNotAllowed"
    withdrawn = await vdab_training(c, two[1].ssin, validate=False, approve=False)
    gone = await c["vdab"].post(f"/requests/{withdrawn.request}/withdraw", **{"If-Match": withdrawn.etag})
    assert gone.status_code == 200, gone.text
    refused = await amend(c["vdab"], withdrawn.request, {"trainingProject": "x"}, gone.headers["ETag"])
    assert refused.status_code == 409, refused.text
    assert (await c["vdab"].get(f"/requests/{approved.request}")).headers["ETag"] == etag


T1 = {"id": "t1", **TRAINING}
T2 = {"id": "t2", **SECOND_TRAINING}
DODGES: dict[str, list[dict[str, Any]]] = {
    "a cost changed": [T1, {**T2, "cost": "9000.00"}],
    "the trainings reordered": [T2, T1],
    "the same ids with other dates": [{**T1, "startDate": "2027-01-04", "endDate": "2027-06-30"}, T2],
    "the ids swapped": [{**T2, "id": "t1"}, {**T1, "id": "t2"}],
    "a training dropped": [T1],
    "a free training added": [T1, T2, {**TRAINING, "title": "Another", "cost": "0.00"}],
    "a training sent again as new": [T1, SECOND_TRAINING],
    "the planned hours": [{**T1, "plannedHours": 400}, T2],
    "the provider only": [{**T1, "provider": "Another provider"}, T2],
    "a cost moved between trainings": [{**T1, "cost": "1350.00"}, {**T2, "cost": "1000.00"}],  # same total
}


@pytest.mark.parametrize("dodge", list(DODGES))
async def test_no_change_of_the_trainings_keeps_the_insurers_validation(
    dodge: str, c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    """The insurer validated two trainings; any change to them, however disguised, sends the request back to it:
    INAMI neither sees it in its queue nor can decide it."""
    trajectory = await vdab_training(c, two[0].ssin, trainings=[TRAINING, SECOND_TRAINING], approve=False)
    amended = await amend(c["vdab"], trajectory.request, {"trainings": DODGES[dodge]}, trajectory.etag)
    assert amended.status_code == 200, amended.text
    assert amended.json()["status"] == "awaitingInsurerValidation"
    assert "insurerValidation" not in amended.json()
    queue = await c["expert"].post("/requests/query", {"queue": "atInami", "pageSize": 100})
    assert trajectory.request not in {item["id"] for item in queue.json()["items"]}
    round_ = await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(trajectory.request)]})
    assert round_.status_code == 409, round_.text


async def test_the_same_trainings_written_otherwise_are_no_amendment(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, approve=False)
    same = {**T1, "plannedHours": "120.0", "cost": "1450"}
    for patch in ({"trainings": [same]}, {}, {"trainings": [T1], "trainingProject": "Logistics"}):
        answer = await amend(c["vdab"], trajectory.request, patch, trajectory.etag)
        assert answer.status_code == 200, answer.text
        read = await c["vdab"].get(f"/requests/{trajectory.request}")
        assert (read.headers["ETag"], read.json()["status"]) == (trajectory.etag, "atInami")
    assert await count(connection, "SELECT count(*) FROM request_revision") == 0


async def test_an_amendment_replayed_with_the_same_key_never_applies_another_body(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, validate=False, approve=False)
    other = await vdab_training(c, two[1].ssin, validate=False, approve=False)
    key = {"Idempotency-Key": "amend-red-team-1"}
    first = await amend(c["vdab"], trajectory.request, {"trainingProject": "First"}, trajectory.etag, **key)
    assert first.status_code == 200, first.text
    etag = first.headers["ETag"]
    for request, body, if_match in (
        (trajectory.request, {"trainingProject": "Second"}, etag),
        (trajectory.request, {"trainings": [{**T1, "cost": "1.00"}]}, etag),
        (other.request, {"trainingProject": "First"}, other.etag),  # the same key on another request
    ):
        reused = await amend(c["vdab"], request, body, if_match, **key)
        assert reused.status_code == 422, reused.text
    replayed = await amend(c["vdab"], trajectory.request, {"trainingProject": "First"}, trajectory.etag, **key)
    assert replayed.status_code == 200, replayed.text
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    read = await c["vdab"].get(f"/requests/{trajectory.request}")
    assert (read.headers["ETag"], read.json()["trainingProject"]) == (etag, "First")
    assert (await c["vdab"].get(f"/requests/{other.request}")).headers["ETag"] == other.etag
    assert await count(connection, "SELECT count(*) FROM request_revision") == 1
    # A replay by someone who may no longer see the request reads nothing: CM with VDAB's key is another key owner.
    stranger = await amend(c["otherInsurer"], trajectory.request, {"trainingProject": "First"}, etag, **key)
    assert stranger.status_code == 404


# --- extensions -----------------------------------------------------------------------------------------------------


async def test_only_the_runner_extends_an_approved_trajectory(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    approved = await vdab_training(c, two[0].ssin)
    body = {"trainings": [SECOND_TRAINING]}

    def extensions() -> Awaitable[int]:
        return count(connection, "SELECT count(*) FROM request WHERE extends_request_id IS NOT NULL")

    for who, status in (
        ("otherInsurer", 404),
        ("forem", 404),
        ("insurer", 403),
        ("insurerPhysician", 403),
        ("expert", 403),
        ("vdabLists", 403),
        ("inamiAuditor", 403),
    ):
        refused = await c[who].post(f"/requests/{approved.request}/extensions", body)
        assert refused.status_code == status, (who, refused.text)
    medical = await c["vdab"].post(f"/requests/{approved.request}/extensions", {**body, "medicalInformation": "x"})
    assert medical.status_code == 400, medical.text
    assert await extensions() == 0

    # not approved: at INAMI, awaiting the insurer, refused, withdrawn
    at_inami = await vdab_training(c, two[1].ssin, approve=False)
    awaiting = await vdab_training(c, two[1].ssin, validate=False, approve=False)
    for request in (at_inami.request, awaiting.request):
        refused = await c["vdab"].post(f"/requests/{request}/extensions", body)
        assert refused.status_code == 409, refused.text
    refusal = await c["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [decision(at_inami.request, "refused")]}
    )
    assert refusal.status_code == 201, refusal.text
    assert (await c["vdab"].post(f"/requests/{at_inami.request}/extensions", body)).status_code == 409
    withdrawn = await c["vdab"].post(f"/requests/{awaiting.request}/withdraw", **{"If-Match": awaiting.etag})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await c["vdab"].post(f"/requests/{awaiting.request}/extensions", body)).status_code == 409
    assert await extensions() == 0

    # the same Idempotency-Key with another body is refused, the first extension stays the only one
    key = {"Idempotency-Key": "extend-red-team"}
    first = await c["vdab"].post(f"/requests/{approved.request}/extensions", body, **key)
    assert first.status_code == 201, first.text
    other = await c["vdab"].post(f"/requests/{approved.request}/extensions", {"trainings": [TRAINING]}, **key)
    assert other.status_code == 422, other.text
    assert await extensions() == 1

    # VDAB loses the link: it extends nothing any more
    simulator.move_registrations(two[0].ssin, [enterprise(tokens, "Forem")])
    await forget_links(app)
    lost = await c["vdab"].post(f"/requests/{approved.request}/extensions", body)
    assert lost.status_code == 404, lost.text
    replay = await c["vdab"].post(f"/requests/{approved.request}/extensions", body, **key)
    assert replay.status_code == 404, replay.text  # a replay is a read through the guard, not a stored answer
    assert two[0].ssin not in replay.text
    assert await extensions() == 1


# --- hours and follow-up --------------------------------------------------------------------------------------------


async def test_hours_and_steps_only_from_the_runner_of_an_approved_trajectory(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    regional = await vdab_training(c, two[0].ssin)
    own = await insurer_training(c, two[1].ssin)
    refused = {
        (regional.request, "insurer"): 403,
        (regional.request, "insurerPhysician"): 403,
        (regional.request, "expert"): 403,
        (regional.request, "inspector"): 403,
        (regional.request, "vdabLists"): 403,
        (regional.request, "otherInsurer"): 404,
        (regional.request, "forem"): 404,
        (own.request, "vdab"): 403,  # VDAB sees the insurer's own request (the person is registered with it)
        (own.request, "expert"): 403,
        (own.request, "otherInsurer"): 404,
    }
    for (request, who), status in refused.items():
        hours = await hours_of(c[who], line(request, 5))
        assert hours.status_code == status, (request, who, hours.text)
        step = await c[who].post(f"/requests/{request}/followUps", {"event": "started", "occurredOn": STARTED_ON})
        assert step.status_code == status, (request, who, step.text)
        for answer in (hours, step):
            assert two[0].ssin not in answer.text
            assert two[1].ssin not in answer.text
    # an auditor's token is refused before anything
    assert (await hours_of(c["inamiAuditor"], line(own.request, 5))).status_code == 403
    # a batch with one foreign line records none of its lines
    mixed = await hours_of(c["vdab"], line(regional.request, 5), line(own.request, 5))
    assert mixed.status_code == 403, mixed.text
    assert await count(connection, "SELECT count(*) FROM hours_report") == 0
    assert await count(connection, "SELECT count(*) FROM follow_up") == 0


async def test_no_hours_and_no_step_on_a_request_that_is_not_approved(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    awaiting = await vdab_training(c, two[0].ssin, validate=False, approve=False)
    at_inami = await vdab_training(c, two[1].ssin, approve=False)
    withdrawn = await c["vdab"].post(f"/requests/{awaiting.request}/withdraw", **{"If-Match": awaiting.etag})
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await vdab_training(c, two[1].ssin, approve=False)
    decided = await c["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [decision(refused.request, "refused")]}
    )
    assert decided.status_code == 201, decided.text
    for request in (awaiting.request, at_inami.request, refused.request):
        hours = await hours_of(c["vdab"], line(request, 5))
        assert hours.status_code == 409, hours.text
        step = await c["vdab"].post(f"/requests/{request}/followUps", {"event": "started", "occurredOn": STARTED_ON})
        assert step.status_code == 409, step.text
    assert await count(connection, "SELECT count(*) FROM hours_report") == 0
    assert await count(connection, "SELECT count(*) FROM follow_up") == 0


async def test_a_runner_that_lost_its_link_reports_nothing_and_replays_read_nothing(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    trajectory = await vdab_training(c, two[0].ssin)
    hours_key = {"Idempotency-Key": "hours-red-team"}
    step_key = {"Idempotency-Key": "step-red-team"}
    step_body = {"event": "started", "occurredOn": STARTED_ON}
    assert (await hours_of(c["vdab"], line(trajectory.request, 5), **hours_key)).status_code == 200
    step_path = f"/requests/{trajectory.request}/followUps"
    assert (await c["vdab"].post(step_path, step_body, **step_key)).status_code == 201
    # the same keys with other bodies: 422, nothing recorded
    assert (await hours_of(c["vdab"], line(trajectory.request, 6), **hours_key)).status_code == 422
    other_step = {"event": "interrupted", "occurredOn": STARTED_ON, "reason": "other"}
    assert (await c["vdab"].post(step_path, other_step, **step_key)).status_code == 422

    simulator.move_registrations(two[0].ssin, [enterprise(tokens, "Forem")])
    await forget_links(app)
    for response in (
        await hours_of(c["vdab"], line(trajectory.request, 7)),
        await hours_of(c["vdab"], line(trajectory.request, 5), **hours_key),  # a replay
        await c["vdab"].post(step_path, {"event": "ended", "occurredOn": STARTED_ON, "result": "noResult"}),
        await c["vdab"].post(step_path, step_body, **step_key),  # a replay
        await c["vdab"].get(step_path),
    ):
        assert response.status_code == 404, response.text
        assert two[0].ssin not in response.text
    assert await count(connection, "SELECT count(*) FROM hours_report") == 1
    assert await count(connection, "SELECT count(*) FROM follow_up") == 1
    for name in ("hours list", "follow-up list", "decision list"):
        assert about(rows_of(await listed(c, name)), trajectory.request) == [], name


async def test_a_replayed_report_names_the_person_under_their_current_ssin(
    c: dict[str, Caller],
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
) -> None:
    """An idempotent replay is a read like any other: after an SSIN replacement, it names the current SSIN only."""
    trajectory = await vdab_training(c, two[0].ssin)
    key = {"Idempotency-Key": "hours-replayed-after-replacement"}
    first = await hours_of(c["vdab"], line(trajectory.request, 5), **key)
    assert first.status_code == 200, first.text
    new = simulator.replace_ssin(two[0].ssin)
    await forget_links(app)
    replayed = await hours_of(c["vdab"], line(trajectory.request, 5), **key)
    assert replayed.status_code == 200, replayed.text
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert [i["ssin"] for i in replayed.json()["items"]] == [new]
    assert two[0].ssin not in replayed.text


async def test_a_step_of_another_request_is_not_reached_through_mine_nor_an_extension_reported_before_approval(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    mine = await vdab_training(c, two[0].ssin)
    theirs = await insurer_training(c, two[1].ssin)
    await run(c["vdab"], mine.request)
    await run(c["insurer"], theirs.request)
    their_step = (await c["insurer"].get(f"/requests/{theirs.request}/followUps")).json()["items"][0]["id"]
    crossed = await c["vdab"].get(f"/requests/{mine.request}/followUps/{their_step}")
    assert crossed.status_code == 404, crossed.text
    assert two[1].ssin not in crossed.text
    strangers = await c["otherInsurer"].get(f"/requests/{theirs.request}/followUps/{their_step}")
    assert strangers.status_code == 404, strangers.text

    extension = await c["vdab"].post(f"/requests/{mine.request}/extensions", {"trainings": [SECOND_TRAINING]})
    assert extension.status_code == 201, extension.text
    early = await hours_of(c["vdab"], line(str(extension.json()["id"]), 3))
    assert early.status_code == 409, early.text
    step = await c["vdab"].post(
        f"/requests/{extension.json()['id']}/followUps", {"event": "started", "occurredOn": STARTED_ON}
    )
    assert step.status_code == 409, step.text
    rows = await connection.execute(text("SELECT request_id::text FROM hours_report"))
    assert set(rows.scalars()) == {mine.request, theirs.request}


# --- the lists ------------------------------------------------------------------------------------------------------


async def test_the_lists_carry_no_health_data_for_anyone_even_a_physician(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, medical=True)
    await run(c["vdab"], trajectory.request)
    seen = await c["insurerPhysician"].get(f"/requests/{trajectory.request}")
    assert seen.json()["medicalInformation"] == MEDICAL  # there is health data to leak
    for who in ("vdabLists", "insurerPhysician", "inspector", "expert"):
        for path in (f"/decisions?week={WEEK}", f"/hoursLists?month={MONTH}", "/followUps?from=2026-08-01"):
            for accept in ("application/json", "text/csv"):
                response = await c[who].get(path, Accept=accept)
                assert response.status_code == 200, (who, path, response.text)
                assert about(rows_of(response), trajectory.request), (who, path)
                for secret in HEALTH_TEXTS:
                    assert secret not in response.text, (who, path, accept)
                if accept == "application/json":
                    keys = {key for item in response.json()["items"] for key in item}
                    assert not keys & HEALTH_KEYS, (who, path)
                else:
                    assert not set(response.text.splitlines()[0].split(",")) & HEALTH_KEYS


async def test_a_list_manager_reads_its_lists_and_nothing_else(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, medical=True)
    await run(c["vdab"], trajectory.request)
    steps = await c["vdab"].get(f"/requests/{trajectory.request}/followUps")
    step = steps.json()["items"][0]["id"]
    lists = c["vdabLists"]
    beyond = {
        "a request": lambda: lists.get(f"/requests/{trajectory.request}"),
        "a request's follow-up": lambda: lists.get(f"/requests/{trajectory.request}/followUps"),
        "one step": lambda: lists.get(f"/requests/{trajectory.request}/followUps/{step}"),
        "the dossier": lambda: lists.get(f"/dossiers/{trajectory.dossier}"),
        "the form": lambda: lists.get(f"/registrationForms/{trajectory.form}"),
        "a lookup": lambda: lists.post("/dossiers", {"ssin": two[0].ssin}),
        "the dossier list": lambda: lists.post("/dossiers/query", {}),
        "a request work list": lambda: lists.post("/requests/query", {}),
        "a form work list": lambda: lists.post("/registrationForms/query", {}),
        "the feed": lambda: lists.get("/events?after=0"),
        "its conversations": lambda: lists.get(f"/dossiers/{trajectory.dossier}/conversations"),
    }
    for what, call in beyond.items():
        response = await call()
        assert response.status_code in (403, 404), (what, response.text)
        for secret in (*HEALTH_TEXTS, two[0].ssin, "Logistics"):
            assert secret not in response.text, what
    for path in (f"/decisions?week={WEEK}", f"/hoursLists?month={MONTH}", "/followUps?from=2026-08-01"):
        assert (await lists.get(path)).status_code == 200, path
    # and an auditor reads none of them
    for path in (f"/decisions?week={WEEK}", f"/hoursLists?month={MONTH}", "/followUps?from=2026-08-01"):
        assert (await c["inamiAuditor"].get(path)).status_code == 403, path


def forged(*parts: Any) -> str:
    """A cursor made by hand (what an unsealed cursor would look like)."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


async def test_a_cursor_of_another_list_organisation_or_order_or_made_by_hand_is_a_400(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    for person in two:
        trajectory = await vdab_training(c, person.ssin)
        await run(c["vdab"], trajectory.request)
    by_date = "/followUps?from=2026-08-01"
    by_recording = "/followUps?changedSince=2026-01-01T00:00:00Z"

    async def next_of(who: str, path: str) -> str:
        page = await c[who].get(f"{path}&pageSize=1")
        assert page.status_code == 200, page.text
        following = page.json()["next"]
        assert following, path
        return str(following)

    cursors = {
        "decisions": await next_of("vdabLists", f"/decisions?week={WEEK}"),
        "hours": await next_of("vdabLists", f"/hoursLists?month={MONTH}"),
        "byDate": await next_of("vdabLists", by_date),
        "byRecording": await next_of("vdabLists", by_recording),
        "insurer's hours": await next_of("insurer", f"/hoursLists?month={MONTH}"),
        "insurer's byDate": await next_of("insurer", by_date),
        "INAMI's decisions": await next_of("expert", f"/decisions?week={WEEK}"),
        "by hand": forged(MONTH, str(uuid.uuid4())),
        "by hand, a date": forged("2026-09-01", str(uuid.uuid4())),
    }
    targets = {
        "decisions": f"/decisions?week={WEEK}",
        "hours": f"/hoursLists?month={MONTH}",
        "byDate": by_date,
        "byRecording": by_recording,
    }
    for target, path in targets.items():
        for origin, cursor in cursors.items():
            if origin == target:
                continue
            response = await c["vdabLists"].get(f"{path}&page={cursor}")
            assert response.status_code == 400, (target, origin, response.text)
            assert [issue.get("name") for issue in response.json()["issues"]] == ["page"], (target, origin)
        own = await c["vdabLists"].get(f"{path}&page={cursors[target]}")
        assert own.status_code == 200, (target, own.text)


# --- inputs that must never make a 500 ------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return '{"trainingProject": ' + "[" * depth + "]" * depth + "}"


LONE_SURROGATE = '"\\ud800"'
HUGE_INTEGER = "1" + "0" * 5000


def raw_report(request: str, *, training: str = '"t1"', hours: str = "1") -> str:
    """An hours report of one line as JSON text, with the training id and the hours written as given (raw JSON)."""
    return (
        f'{{"items": [{{"requestId": "{request}", "trainingId": {training}, "month": "{MONTH}", "hours": {hours}}}]}}'
    )


async def test_hostile_inputs_are_refused_never_a_500(
    c: dict[str, Caller], two: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    trajectory = await vdab_training(c, two[0].ssin, validate=False, approve=False)
    approved = await vdab_training(c, two[1].ssin)
    request, etag = trajectory.request, trajectory.etag
    patches: dict[str, str] = {
        "deeply nested": nested(100_000),
        "nested objects": '{"referenceAdvisor": ' + '{"name": ' * 60 + '"x"' + "}" * 60 + "}",
        "a lone surrogate": '{"trainingProject": ' + LONE_SURROGATE + "}",
        "a lone surrogate in a contact": '{"referenceAdvisor": {"name": ' + LONE_SURROGATE + "}}",
        "a NUL": '{"trainingProject": "a\\u0000b"}',
        "null in the trainings": '{"trainings": [null]}',
        "a huge cost": json.dumps({"trainings": [{**T1, "cost": "1e999999"}]}),
        "a cost NaN": json.dumps({"trainings": [{**T1, "cost": "NaN"}]}),
        "planned hours Infinity": json.dumps({"trainings": [{**T1, "plannedHours": "Infinity"}]}),
        "a float overflow": '{"trainings": [{"id": "t1", "provider": "S", "title": "T", "startDate": "2026-09-01", '
        '"endDate": "2026-12-18", "plannedHours": 1e400, "cost": "1"}]}',
        "a 5000-digit number": '{"trainings": [{"id": "t1", "provider": "S", "title": "T", "startDate": "2026-09-01",'
        f' "endDate": "2026-12-18", "plannedHours": {HUGE_INTEGER}, "cost": "1"}}]}}',
        "year 1": json.dumps({"trainings": [{**T1, "startDate": "0001-01-01"}]}),
        "year 10000": json.dumps({"trainings": [{**T1, "endDate": "10000-01-01"}]}),
        "a timestamp as a date": json.dumps({"trainings": [{**T1, "startDate": 1_700_000_000}]}),
        "a training id of a thousand": json.dumps({"trainings": [{**T1, "id": "t1000"}]}),
        "a training id with unicode digits": json.dumps({"trainings": [{**T1, "id": "t١"}]}),
        "too long": json.dumps({"trainingProject": "x" * 4001}),
        "an array": "[]",
        "a string key with NUL": '{"a\\u0000": 1}',
    }
    for what, body in patches.items():
        response = await amend(c["vdab"], request, body, etag)
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    too_big = await amend(c["vdab"], request, json.dumps({"trainingProject": "x" * 2_000_000}), etag)
    assert too_big.status_code == 413, too_big.text[:300]
    assert (await c["vdab"].get(f"/requests/{request}")).headers["ETag"] == etag

    for words in ("Logistiek 🚚 — 中文 e\u0301", "RTL \u202e override \u202d", "zero\u200bwidth \ufeff"):
        written = await amend(c["vdab"], request, {"trainingProject": words}, etag)
        assert written.status_code in (200, 400), written.text
        if written.status_code == 200:
            assert written.json()["trainingProject"] == words
            etag = written.headers["ETag"]

    reports: dict[str, str] = {
        "hours NaN": json.dumps({"items": [line(approved.request, "NaN")]}),
        "hours Infinity": json.dumps({"items": [line(approved.request, "Infinity")]}),
        "hours 1e400": raw_report(approved.request, hours="1e400"),
        "hours of 5000 digits": raw_report(approved.request, hours=HUGE_INTEGER),
        "a training id with a NUL": json.dumps({"items": [line(approved.request, 1, training="t\u0000")]}),
        "a training id with a lone surrogate": raw_report(approved.request, training=LONE_SURROGATE),
        "unicode digits in the month": json.dumps({"items": [line(approved.request, 1, month="2०२६-11")]}),
        "month zero": json.dumps({"items": [line(approved.request, 1, month="2026-00")]}),
        "year zero": json.dumps({"items": [line(approved.request, 1, month="0000-01")]}),
        "not a uuid": json.dumps({"items": [{**line(approved.request, 1), "requestId": "x"}]}),
        "null in the items": '{"items": [null]}',
        "too many items": json.dumps({"items": [line(approved.request, 1, month=MONTH)] * 1001}),
        "items an object": '{"items": {"0": 1}}',
    }
    for what, body in reports.items():
        response = await c["vdab"].client.post(
            "/rp/v1/hoursReports", content=body, headers={**c["vdab"].headers, "Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    assert await count(connection, "SELECT count(*) FROM hours_report") == 0

    steps: dict[str, Any] = {
        "a date in year 1": {"event": "started", "occurredOn": "0001-01-01"},
        "a date in year 10000": {"event": "started", "occurredOn": "10000-01-01"},
        "the 30th of February": {"event": "started", "occurredOn": "2026-02-30"},
        "unicode digits in the date": {"event": "started", "occurredOn": "2026-0٩-01"},
        "an event in capitals": {"event": "STARTED", "occurredOn": STARTED_ON},
        "a free-text reason": {"event": "interrupted", "occurredOn": STARTED_ON, "reason": "sick: back pain"},
        "a reason on a start": {"event": "started", "occurredOn": STARTED_ON, "reason": "other"},
        "a member more": {"event": "started", "occurredOn": STARTED_ON, "remarks": "health data"},
        "null": None,
    }
    for what, step in steps.items():
        response = await c["vdab"].client.post(
            f"/rp/v1/requests/{approved.request}/followUps",
            content=json.dumps(step),
            headers={**c["vdab"].headers, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    assert await count(connection, "SELECT count(*) FROM follow_up") == 0

    queries = [
        "/hoursLists?month=2026-11&pageSize=0",
        "/hoursLists?month=2026-11&pageSize=100000000000000000000000",
        "/hoursLists?month=2०२६-11",
        "/hoursLists?from=0001-01&to=0001-12",
        "/hoursLists?from=9998-01&to=9999-12",
        "/hoursLists?from=2026-01&to=2027-12",
        "/hoursLists?month=2026-11&page=%00",
        "/hoursLists?month=2026-11&page=" + "A" * 201,
        "/hoursLists?month=2026-11&page=" + forged("2026-11", "not-a-uuid"),
        "/hoursLists?month=2026-11&page=" + forged("2026-11", str(uuid.uuid4()), "extra"),
        "/followUps?from=0001-01-01",
        "/followUps?from=2026-01-01&to=2025-01-01",
        "/followUps?changedSince=0001-01-01T00:00:00Z",
        "/followUps?changedSince=nonsense",
        "/followUps?changedSince=1700000000",
        "/followUps?from=2026-01-01&changedSince=2026-01-01T00:00:00Z",
        "/followUps",
        "/followUps?from=2026-01-01&page=" + forged("not a date", str(uuid.uuid4())),
        "/followUps?changedSince=2026-01-01T00:00:00Z&page=" + forged("2026-01-01T00:00:00", str(uuid.uuid4())),
    ]
    for query in queries:
        response = await c["vdabLists"].get(query)
        assert 400 <= response.status_code < 500, (query, response.status_code, response.text[:300])
    for query in (
        "/followUps?changedSince=9998-12-31T23:59:59-14:00",
        "/followUps?changedSince=0002-01-01T00:00:00%2B14:00",
        "/followUps?from=0002-01-01&to=9998-12-31",
        "/hoursLists?from=9998-01&to=9998-12",
        "/hoursLists?from=1000-01&to=1000-12",
    ):
        response = await c["vdabLists"].get(query)
        assert response.status_code == 200, (query, response.text[:300])


# --- concurrent calls -----------------------------------------------------------------------------------------------


async def test_concurrent_amendment_and_validation_one_wins_and_the_state_holds_together(
    own_client: httpx.AsyncClient,
    tokens: TokenFactory,
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
) -> None:
    """The insurer validates the trainings it read while VDAB changes them: never a validated request carrying
    trainings the insurer did not see."""
    c = callers_on(own_client, tokens)
    for attempt in range(3):
        trajectory = await vdab_training(c, two[attempt % 2].ssin, validate=False, approve=False)
        changed = {"trainings": [{**T1, "cost": "9999.00"}]}
        amended, validated = await asyncio.gather(
            amend(c["vdab"], trajectory.request, changed, trajectory.etag),
            c["insurer"].post(
                f"/requests/{trajectory.request}/insurerValidation",
                {"validated": True, "motivation": "Fits"},
                **{"If-Match": trajectory.etag},
            ),
        )
        assert sorted([amended.status_code, validated.status_code]) == [200, 412], (amended.text, validated.text)
        now = (await c["insurer"].get(f"/requests/{trajectory.request}")).json()
        if amended.status_code == 200:
            assert (now["status"], now["trainings"][0]["cost"], "insurerValidation" in now) == (
                "awaitingInsurerValidation",
                "9999.00",
                False,
            )
        else:
            assert (now["status"], now["trainings"][0]["cost"]) == ("atInami", "1450.00")


async def test_concurrent_reports_steps_and_a_merge_never_fail_nor_duplicate(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
) -> None:
    """Two corrections of one line, two starts of one trajectory, and the merge of the person's dossiers raced with
    a report and a step on the absorbed one: no 500, one start, versions in sequence, everything in the survivor."""
    c = callers_on(own_client, tokens)
    absorbed_person, kept_person = two
    trajectory = await vdab_training(c, absorbed_person.ssin)
    kept = await insurer_training(c, kept_person.ssin)
    first = await hours_of(c["vdab"], line(trajectory.request, 1))
    assert first.status_code == 200, first.text

    corrections = await asyncio.gather(*(hours_of(c["vdab"], line(trajectory.request, n)) for n in (2, 3, 4)))
    assert [r.status_code for r in corrections] == [200] * 3, [r.text for r in corrections]
    starts = await asyncio.gather(
        *(
            c["vdab"].post(f"/requests/{trajectory.request}/followUps", {"event": "started", "occurredOn": STARTED_ON})
            for _ in range(3)
        )
    )
    assert sorted(r.status_code for r in starts) == [201, 409, 409], [r.text for r in starts]

    simulator.replace_ssin(absorbed_person.ssin, kept_person.ssin)
    await forget_own_links(own_app, own_database)
    raced = await asyncio.gather(
        c["insurer"].get(f"/dossiers/{kept.dossier}"),
        c["insurer"].get(f"/dossiers/{trajectory.dossier}"),
        hours_of(c["vdab"], line(trajectory.request, 5)),
        c["vdab"].post(
            f"/requests/{trajectory.request}/followUps",
            {"event": "interrupted", "occurredOn": STARTED_ON, "reason": "other"},
        ),
        c["vdabLists"].get(f"/hoursLists?month={MONTH}"),
        c["vdab"].post("/requests/query", {}),
    )
    assert all(r.status_code in (200, 201, 409) for r in raced), [(r.status_code, r.text) for r in raced]
    assert absorbed_person.ssin not in "".join(r.text for r in raced if r.status_code < 300)

    engine = create_async_engine(own_database)
    try:
        async with engine.connect() as connection:
            dossiers = await stored(connection, absorbed_person.ssin, kept_person.ssin)
            assert [ssin for _, ssin in dossiers] == [kept_person.ssin], dossiers
            survivor = dossiers[0][0]
            versions = await connection.execute(
                text("SELECT version FROM hours_report WHERE request_id = :r ORDER BY version"),
                {"r": trajectory.request},
            )
            found = list(versions.scalars())
            assert found == list(range(1, len(found) + 1)), found
            assert len(found) >= 4, found
            where = await connection.execute(
                text(
                    "SELECT DISTINCT dossier_id::text FROM request WHERE id = ANY(CAST(:r AS uuid[]))"
                    " UNION SELECT DISTINCT dossier_id::text FROM follow_up WHERE request_id = ANY(CAST(:r AS uuid[]))"
                ),
                {"r": [trajectory.request, kept.request]},
            )
            assert set(where.scalars()) == {survivor}
            started = await connection.scalar(
                text("SELECT count(*) FROM follow_up WHERE request_id = :r AND event = 'started'"),
                {"r": trajectory.request},
            )
            assert started == 1
    finally:
        await engine.dispose()


async def test_the_feed_tells_an_organisation_not_linked_under_the_new_ssin_nothing_of_the_person(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
) -> None:
    """On committed data (the feed reads finished transactions only): after the replacement, under which VDAB is no
    longer linked, VDAB's feed leaves out every event of the person's dossier, and its record names the old SSIN."""
    c = callers_on(own_client, tokens)
    trajectory = await vdab_training(c, two[0].ssin)
    await run(c["vdab"], trajectory.request)
    seen: set[str] = set()
    for _ in range(100):
        page = await c["vdab"].get("/events?after=0&limit=500")
        seen = {item["dossierId"] for item in page.json()["items"]}
        if trajectory.dossier in seen:
            break
        await asyncio.sleep(0.05)
    assert trajectory.dossier in seen
    new = simulator.replace_ssin(two[0].ssin)
    simulator.move_registrations(new, [enterprise(tokens, "Forem")])
    await forget_own_links(own_app, own_database)

    page = await c["vdab"].get("/events?after=0&limit=500")
    assert page.status_code == 200, page.text
    assert trajectory.dossier not in {item["dossierId"] for item in page.json()["items"]}
    assert new not in page.text
    engine = create_async_engine(own_database)
    try:
        async with engine.connect() as connection:
            assert await stored(connection, two[0].ssin, new) == [(trajectory.dossier, two[0].ssin)]
            records = await records_of(connection, page)
            assert {(r[0], r[3]) for r in records if r[0] in (two[0].ssin, new)} == {(two[0].ssin, "deny")}
    finally:
        await engine.dispose()


async def waiting_on_locks(engine: AsyncEngine, count: int) -> None:
    """Until ``count`` sessions of this database wait on a lock (at most 10 s)."""
    for _ in range(200):
        async with engine.connect() as connection:
            found = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        if (found or 0) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited on a lock")


STALE_CALLS: dict[str, Callable[[dict[str, Caller], Trajectory], Awaitable[httpx.Response]]] = {
    "report hours": lambda c, t: hours_of(c["vdab"], line(t.request, 2)),
    "record a step": lambda c, t: c["vdab"].post(
        f"/requests/{t.request}/followUps", {"event": "started", "occurredOn": STARTED_ON}
    ),
    "ask a new request": lambda c, t: c["vdab"].post(
        f"/dossiers/{t.dossier}/requests",
        {"type": "training", "registrationFormId": t.form, "trainings": [SECOND_TRAINING]},
    ),
}
"""Calls of a replica that has not seen the replacement yet, on the absorbed dossier: each locks or writes an item of
it (the request, a new step or request), then touches the dossier."""


@pytest.mark.parametrize("stale_call", list(STALE_CALLS))
async def test_a_merge_raced_by_a_replica_that_has_not_seen_the_replacement_yet_never_makes_a_500(
    stale_call: str,
    own_client: httpx.AsyncClient,
    own_database: URL,
    settings: Settings,
    simulator_app: FastAPI,
    tokens: TokenFactory,
    two: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
) -> None:
    """Two replicas: the first still remembers the absorbed person's links from before the replacement (its cache
    may, for up to 24 h) and works on their request, while the second, which sees the replacement, merges the
    dossiers. A third transaction holds the absorbed dossier for a moment so that the two meet there: neither answer
    is a 500 (a 409 "read it again", or a 503 "try again", would do)."""
    c = callers_on(own_client, tokens)
    absorbed_person, kept_person = two
    trajectory = await vdab_training(c, absorbed_person.ssin)
    assert (await hours_of(c["vdab"], line(trajectory.request, 1))).status_code == 200  # remembered by this replica
    kept_dossier = await dossier_of(c, kept_person.ssin)
    simulator.replace_ssin(absorbed_person.ssin, kept_person.ssin)
    engine = create_async_engine(own_database)
    try:
        async with engine.begin() as own:  # the second replica asks the register about the kept SSIN anew
            await own.execute(text("DELETE FROM person_link_cache WHERE subject = :s"), {"s": kept_person.ssin})
            await own.execute(  # the kept dossier is the older: the one holding the request is absorbed
                text("UPDATE dossier SET created_at = created_at - interval '30 days' WHERE id = :d"),
                {"d": kept_dossier},
            )
        replica_settings = settings.model_copy(
            update={"database_url": own_database.render_as_string(hide_password=False)}
        )
        replica = create_app(replica_settings, upstream_transport=httpx.ASGITransport(app=simulator_app))
        async with (
            replica.router.lifespan_context(replica),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=replica), base_url="http://rp.test") as second,
        ):
            insurer = Caller(second, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
            async with engine.connect() as blocker:
                held = await blocker.begin()
                await blocker.execute(text("SELECT 1 FROM dossier WHERE id = :d FOR UPDATE"), {"d": trajectory.dossier})
                merging = asyncio.create_task(insurer.get(f"/dossiers/{kept_dossier}"))
                await waiting_on_locks(engine, 1)
                stale = asyncio.create_task(STALE_CALLS[stale_call](c, trajectory))
                await waiting_on_locks(engine, 2)
                await held.rollback()
            answers = await asyncio.gather(merging, stale)
    finally:
        await engine.dispose()
    # The two meet on the database (a merge locks the dossier rows then moves their items; the stale call locks or
    # writes an item then touches the dossier): the loser is rolled back and told to try again (503, a deadlock) or to
    # read again (409, a row merged away), never a 500 (rp_api.db.concurrent_conflict).
    statuses = [answer.status_code for answer in answers]
    assert all(status < 500 or status == 503 for status in statuses), [(a.status_code, a.text[:300]) for a in answers]
    assert any(status < 400 for status in statuses)  # one of them went through

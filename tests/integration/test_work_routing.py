"""Work routing, flow by flow of deliberation 26/060 (steps 1-5, routing C, a prevention service's form): every
addressee is told through its change feed, and nobody else — every organisation of the registry reads its whole
feed and the items it holds are compared with the addressees the flow gives, for persons of the demo population
with different insurers, regional services and prevention services (0 leaks, nothing missing).

On committed data (own database): an event becomes readable once every older transaction has ended."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision
from tests.token_factory import TokenFactory

REGISTRY = OrganisationRegistry.load()
INAMI = next(o.enterprise_number for o in REGISTRY if o.type is OrganisationType.INAMI)
READER_ROLE = {
    OrganisationType.INSURER: "returnToWorkCoordinator",
    OrganisationType.REGIONAL_SERVICE: "referenceAdvisor",
    OrganisationType.PREVENTION_SERVICE: "occupationalPhysician",
    OrganisationType.INAMI: "socialExpert",
}


@dataclass
class Told:
    """The model the test holds: for each item, its addressees; for each organisation, the items it was told of
    (an event goes to every addressee, earlier or new, but the organisation that acted)."""

    addressees: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    told: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def event(self, actor: str, item: str, addressees: set[str]) -> None:
        self.addressees[item] |= addressees
        for organisation in self.addressees[item] - {actor}:
            self.told[organisation].add(item)


def insurer_of(person: SimulatedPerson) -> str:
    return next(iter(REGISTRY.directory.insurers[person.oa_number or 0]))


def prevention_of(person: SimulatedPerson, population: Population) -> str | None:
    for employer in person.employers:
        services = population.employers[employer].prevention_services
        if services:
            return services[0]
    return None


def subjects(population: Population) -> list[SimulatedPerson]:
    """Living persons with an insurer and a regional registration: one per (insurer, first regional service), so
    that several insurers and every regional service take part; a few with a prevention service."""
    chosen: dict[tuple[int, str], SimulatedPerson] = {}
    for person in population.persons.values():
        if person.death_date or person.replaced_by or person.oa_number is None or not person.registrations:
            continue
        chosen.setdefault((person.oa_number, person.registrations[0][0]), person)
    picked = sorted(chosen.values(), key=lambda p: p.ssin)
    regional = {p.registrations[0][0] for p in picked[:8]}
    assert len(regional) >= 3, "the demo population should spread over the regional services"
    return picked[:8]


async def flows(client: httpx.AsyncClient, tokens: TokenFactory, population: Population, person: SimulatedPerson,
                model: Told) -> list[str]:  # fmt: skip
    """Steps 1-5, routing C, an insurer's direct request, and (when the person has one) the prevention service's
    form; returns the ids of the requests that reached INAMI (for the weekly round)."""
    insurer = insurer_of(person)
    regional_services = {service for service, _ in person.registrations}
    regional = person.registrations[0][0]
    coordinator = Caller(client, tokens.token(insurer, ["returnToWorkCoordinator"]))
    advisor = Caller(client, tokens.token(regional, ["referenceAdvisor"]))

    dossier = (await coordinator.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]

    async def form(caller: Caller, actor: str, content: dict[str, Any]) -> str:
        created = await caller.post(f"/dossiers/{dossier}/registrationForms", content)
        assert created.status_code == 201, created.text
        form_id: str = created.json()["id"]
        model.event(actor, form_id, {actor})  # a draft: no event, its creator only
        model.told[actor].discard(form_id)
        submitted = await caller.post(f"/registrationForms/{form_id}/submit", **{"If-Match": created.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        return form_id

    # Step 1-2: the insurer's form reaches the regional services where the person is registered.
    form_id = await form(coordinator, insurer, CONTENT)
    model.event(insurer, form_id, {insurer} | regional_services)
    # Step 3-4: the regional service asks a training on it; the insurer validates; it goes to INAMI.
    body = {"type": "training", "registrationFormId": form_id, "trainingProject": "Logistics", "trainings": [TRAINING]}
    training = await advisor.post(f"/dossiers/{dossier}/requests", body)
    assert training.status_code == 201, training.text
    training_id = training.json()["id"]
    model.event(regional, training_id, {regional, insurer} | regional_services)
    validated = await coordinator.post(
        f"/requests/{training_id}/insurerValidation",
        {"validated": True, "motivation": "Fits the path"},
        **{"If-Match": training.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    model.event(insurer, training_id, {INAMI})

    # Routing C: the regional service starts; the insurer decides the target group.
    form_c = await form(advisor, regional, {"expectations": "Coaching towards a job in care"})
    model.event(regional, form_c, {regional, insurer})
    current = await coordinator.get(f"/registrationForms/{form_c}")
    decided = await coordinator.post(
        f"/registrationForms/{form_c}/targetGroupDecision",
        {"inTargetGroup": True, "motivation": "In the target group"},
        **{"If-Match": current.headers["ETag"]},
    )
    assert decided.status_code == 200, decided.text
    model.event(insurer, form_c, regional_services)

    # An insurer's request without a form goes to INAMI at once.
    direct = await coordinator.post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    assert direct.status_code == 201, direct.text
    model.event(insurer, direct.json()["id"], {insurer, INAMI} | regional_services)
    at_inami = [training_id, direct.json()["id"]]

    prevention = prevention_of(person, population)
    if prevention is not None:  # the occupational physician's form, and the request on it
        physician = Caller(client, tokens.token(prevention, ["occupationalPhysician"]))
        consent = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-01-15"}
        assert (await physician.post(f"/dossiers/{dossier}/consents", consent)).status_code == 201  # §63, no event
        prevention_form = await form(physician, prevention, CONTENT)
        model.event(prevention, prevention_form, {prevention, insurer} | regional_services)
        body = {"type": "coaching", "registrationFormId": prevention_form}
        coaching = await advisor.post(f"/dossiers/{dossier}/requests", body)
        assert coaching.status_code == 201, coaching.text
        model.event(regional, coaching.json()["id"], {regional, insurer, prevention, INAMI} | regional_services)
        at_inami.append(coaching.json()["id"])
    return at_inami


async def whole_feed(caller: Caller) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = "0"
    while True:
        page = await caller.get(f"/events?after={after}&limit=100")
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if body["next"] == after:
            return items
        after = body["next"]


async def feeds_of_everyone(client: httpx.AsyncClient, tokens: TokenFactory, expected: int) -> dict[str, set[str]]:
    """Every organisation's feed, read whole; waits (a little) until the events of every committed call show."""
    seen: dict[str, set[str]] = {}
    for _ in range(100):
        for organisation in REGISTRY:
            caller = Caller(client, tokens.token(organisation.enterprise_number, [READER_ROLE[organisation.type]]))
            seen[organisation.enterprise_number] = {e["resourceId"] for e in await whole_feed(caller)}
        if sum(len(items) for items in seen.values()) >= expected:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_each_flow_reaches_its_addressees_and_nobody_else(
    own_client: httpx.AsyncClient, tokens: TokenFactory, population: Population
) -> None:
    model = Told()
    at_inami: list[str] = []
    persons = subjects(population)
    for person in persons:
        at_inami += await flows(own_client, tokens, population, person, model)

    # Step 5: INAMI's social expert decides them in one weekly round; every addressee but INAMI is told.
    expert = Caller(own_client, tokens.token("INAMI", ["socialExpert"]))
    round_ = await expert.post("/decisionRounds", {"week": WEEK, "decisions": [decision(r) for r in at_inami]})
    assert round_.status_code == 201, round_.text
    for request_id in at_inami:
        model.event(INAMI, request_id, set())

    expected = sum(len(items) for items in model.told.values())
    seen = await feeds_of_everyone(own_client, tokens, expected)
    leaks = {(o, item) for o, items in seen.items() for item in items if item not in model.told.get(o, set())}
    missing = {(o, item) for o, items in model.told.items() for item in items if item not in seen.get(o, set())}
    assert (len(leaks), len(missing)) == (0, 0), (leaks, missing)
    # What was counted: every organisation of the registry, every item of every flow.
    assert len(seen) == len(list(REGISTRY))
    assert len(model.addressees) >= 8 * 5  # forms and requests of the eight persons
    told_organisations = {o for o, items in model.told.items() if items}
    assert INAMI in told_organisations
    assert {o.type for o in REGISTRY if o.enterprise_number in told_organisations} == set(OrganisationType)
    assert expected >= 8 * 6


async def test_a_person_who_leaves_the_regional_service_vanishes_from_its_feed(
    own_client: httpx.AsyncClient,
    own_app: FastAPI,
    own_database: URL,
    tokens: TokenFactory,
    population: Population,
    person: SimulatedPerson,
) -> None:
    """The form reached VDAB when it was submitted; once JobSeeker no longer shows the person at VDAB, the item is
    no longer in VDAB's feed, and that denial is in the audit log (one record for the person, noLink)."""
    insurer = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    created = await insurer.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    await insurer.post(f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]})
    for _ in range(100):
        if created.json()["id"] in {e["resourceId"] for e in await whole_feed(vdab)}:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("VDAB was not told of the form")

    population.persons[person.ssin] = dataclasses.replace(person, registrations=())
    engine = create_async_engine(own_database)
    try:
        async with engine.begin() as own:
            await own.execute(text("DELETE FROM person_link_cache"))
        own_app.state.link_resolver.forget()
        page = await vdab.get("/events?after=0")
        assert page.status_code == 200
        assert page.json()["items"] == []
        assert person.ssin not in page.text
        async with engine.connect() as own:
            records = (
                await own.execute(
                    text("SELECT person_ssin, outcome, reason, operation FROM audit_event WHERE trace_id = :t"),
                    {"t": page.headers["BelGov-Trace-Id"]},
                )
            ).all()
        assert [tuple(r) for r in records] == [(person.ssin, "deny", "noLink", "readEvents")]
    finally:
        population.persons[person.ssin] = person
        await engine.dispose()


async def test_closing_the_dossier_is_told_to_the_addressees_of_its_items(
    own_client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    insurer = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    forem = Caller(own_client, tokens.token("Forem", ["referenceAdvisor"]))
    opened = await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    dossier = opened.json()["id"]
    created = await insurer.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    await insurer.post(f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]})
    current = await insurer.get(f"/dossiers/{dossier}")
    closed = await insurer.post(f"/dossiers/{dossier}/close", {}, **{"If-Match": current.headers["ETag"]})
    assert closed.status_code == 200, closed.text
    for _ in range(100):
        kinds = [(e["kind"], e["resourceId"]) for e in await whole_feed(vdab)]
        if ("dossierClosed", dossier) in kinds:
            break
        await asyncio.sleep(0.05)
    assert kinds == [("formVisible", created.json()["id"]), ("dossierClosed", dossier)]
    assert await whole_feed(forem) == []  # not registered with Forem: no addressee
    assert [e["kind"] for e in await whole_feed(insurer)] == []  # it closed it itself

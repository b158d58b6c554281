"""Dossiers and registration forms end to end, per organisation type, with every denial and the bad inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import Population, SimulatedPerson
from tests.token_factory import TokenFactory

INSURER_BY_OA = {100: "CM", 200: "UNMN", 300: "Solidaris", 400: "LM", 500: "OZ", 600: "CAAMI", 900: "HR Rail"}
CONTENT = {
    "expectations": "Guidance towards a training in logistics",
    "workProblems": "Cannot return to night shifts",
    "insurerContacts": {"returnToWorkCoordinator": {"name": "Marie Dubois", "email": "marie@example.be"}},
    "physicianQuestion": {"expectations": "Job coaching"},
}
"""A form's content any of its creators may write (no health data)."""
PHYSICIAN_CONTENT = {
    **CONTENT,
    "incapacityStartDate": "2024-03-01",
    "physicianQuestion": {"expectations": "Job coaching", "functionalCapacities": "No lifting over 5 kg"},
}
"""With the health data only a physician writes (médecin-conseil, occupational physician): a 400 from anyone else."""


class Caller:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.post(
            f"/rp/v1{path}", json=body if body is not None else {}, headers={**self.headers, **headers}
        )

    async def put(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return await self.client.put(f"/rp/v1{path}", json=body, headers={**self.headers, **headers})

    async def get(self, path: str, **headers: str) -> httpx.Response:
        return await self.client.get(f"/rp/v1{path}", headers={**self.headers, **headers})


def walk(value: Any) -> Iterator[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


@pytest.fixture
def insurer(client: httpx.AsyncClient, tokens: TokenFactory) -> Caller:
    return Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))


@pytest.fixture
def physician(client: httpx.AsyncClient, tokens: TokenFactory) -> Caller:
    return Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))


@pytest.fixture
def vdab(client: httpx.AsyncClient, tokens: TokenFactory) -> Caller:
    return Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))


async def test_standard_route_insurer_creates_submits_vdab_reads(
    insurer: Caller, physician: Caller, vdab: Caller, person: SimulatedPerson, connection: AsyncConnection
) -> None:
    opened = await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    assert opened.status_code == 201
    dossier = opened.json()
    assert opened.headers["Location"] == f"/rp/v1/dossiers/{dossier['id']}"
    assert dossier["person"] == {
        "ssin": person.ssin,
        "givenName": person.given_name,
        "familyName": person.family_name,
        "deceased": False,
    }
    assert dossier["insurer"]["oaNumber"] == 300
    assert dossier["regionalServices"][0]["name"] == "VDAB"
    assert "trioDossierExists" not in dossier  # TRIO is the physicians' platform (26/060 §8)
    assert "trioDossierExists" in (await physician.get(f"/dossiers/{dossier['id']}")).json()

    again = await insurer.post("/dossiers", {"ssin": person.ssin})
    assert (again.status_code, again.json()["id"]) == (200, dossier["id"])

    # Health data is written by physicians only: the coordinator's form with it is refused, naming each field.
    refused = await insurer.post(f"/dossiers/{dossier['id']}/registrationForms", PHYSICIAN_CONTENT)
    assert refused.status_code == 400, refused.text
    assert {issue["name"] for issue in refused.json()["issues"]} == {
        "incapacityStartDate",
        "physicianQuestion.functionalCapacities",
    }
    created = await physician.post(f"/dossiers/{dossier['id']}/registrationForms", PHYSICIAN_CONTENT)
    assert created.status_code == 201, created.text
    form = created.json()
    assert form["status"] == "draft"
    assert form["routing"] == "standard"
    assert form["physicianQuestion"]["functionalCapacities"] == "No lifting over 5 kg"
    # The coordinator may replace what it may write; what it may not write and leaves out stays as it is.
    replaced = await insurer.put(
        f"/registrationForms/{form['id']}",
        {**CONTENT, "expectations": "Other"},
        **{"If-Match": created.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.text
    assert "functionalCapacities" not in replaced.json()["physicianQuestion"]  # a coordinator is no physician
    assert replaced.json()["incapacityStartDate"] == "2024-03-01"
    created = replaced

    # A draft is its creator's alone.
    assert (await vdab.get(f"/registrationForms/{form['id']}")).status_code == 404
    assert (await vdab.get(f"/dossiers/{dossier['id']}")).json()["registrationForms"] == []

    submitted = await insurer.post(f"/registrationForms/{form['id']}/submit", **{"If-Match": created.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"

    seen_by_vdab = await vdab.get(f"/registrationForms/{form['id']}")
    assert seen_by_vdab.status_code == 200
    body = seen_by_vdab.json()
    assert body["incapacityAtLeastOneYear"] is True
    assert "incapacityStartDate" not in body
    # VDAB is the addressee of the physician's question: its expectations and functional capacities (§52 vi)
    assert body["physicianQuestion"] == {"expectations": "Job coaching", "functionalCapacities": "No lifting over 5 kg"}
    assert "trioDossierExists" not in (await vdab.get(f"/dossiers/{dossier['id']}")).json()

    seen_by_physician = (await physician.get(f"/registrationForms/{form['id']}")).json()
    assert seen_by_physician["physicianQuestion"]["functionalCapacities"] == "No lifting over 5 kg"

    audited = await connection.scalar(
        text("SELECT count(*) FROM audit_event WHERE person_ssin = :ssin AND outcome = 'permit'"), {"ssin": person.ssin}
    )
    assert audited == 10  # one per call about the person that revealed or changed something
    # The coordinator's health data refused (400), and VDAB's read of the draft: linked to the person, but the draft
    # is not for it: each recorded as what it got
    refused = await connection.execute(
        text(
            "SELECT outcome, reason, status FROM audit_event WHERE person_ssin = :ssin AND outcome = 'deny' "
            "ORDER BY status"
        ),
        {"ssin": person.ssin},
    )
    assert [tuple(row) for row in refused] == [("deny", "invalidInput", 400), ("deny", "notFound", 404)]


async def test_routing_c_waits_for_the_insurer(
    insurer: Caller, vdab: Caller, person: SimulatedPerson, client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    dossier = (await vdab.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    created = await vdab.post(f"/dossiers/{dossier['id']}/registrationForms", {"expectations": "Training as a welder"})
    assert created.status_code == 201
    form = created.json()
    assert form["routing"] == "routingC"
    submitted = await vdab.post(f"/registrationForms/{form['id']}/submit", **{"If-Match": created.headers["ETag"]})
    assert submitted.json()["status"] == "awaitingTargetGroupDecision"

    administrative = Caller(client, tokens.token("Solidaris", ["administrative"]))
    refused = await administrative.post(
        f"/registrationForms/{form['id']}/targetGroupDecision",
        {"inTargetGroup": True, "motivation": "x"},
        **{"If-Match": submitted.headers["ETag"]},
    )
    assert refused.status_code == 403

    decided = await insurer.post(
        f"/registrationForms/{form['id']}/targetGroupDecision",
        {"inTargetGroup": True, "motivation": "Incapacity over one year"},
        **{"If-Match": submitted.headers["ETag"]},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "submitted"
    assert decided.json()["targetGroupDecision"]["inTargetGroup"] is True
    assert (await vdab.get(f"/registrationForms/{form['id']}")).json()["status"] == "submitted"


async def test_occupational_physician_form_and_name(
    client: httpx.AsyncClient, tokens: TokenFactory, population: Population, insurer: Caller
) -> None:
    employed = next(
        p
        for p in population.persons.values()
        if not p.replaced_by
        and not p.death_date
        and any(population.employers[e].prevention_services for e in p.employers)
    )
    service = next(
        population.employers[e].prevention_services[0]
        for e in employed.employers
        if population.employers[e].prevention_services
    )
    doctor = Caller(client, tokens.token(service, ["occupationalPhysician"]))
    dossier = (await doctor.post("/dossiers", {"ssin": employed.ssin, "start": "registrationForm"})).json()
    consent = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-01-15"}
    assert (await doctor.post(f"/dossiers/{dossier['id']}/consents", consent)).status_code == 201  # §63
    created = await doctor.post(
        f"/dossiers/{dossier['id']}/registrationForms",
        {**PHYSICIAN_CONTENT, "occupationalPhysicianName": "Dr. Jan Peeters"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["occupationalPhysicianName"] == "Dr. Jan Peeters"
    assert created.json()["physicianQuestion"]["functionalCapacities"] == "No lifting over 5 kg"

    nurse = Caller(client, tokens.token(service, ["nurse"]))
    assert (await nurse.post(f"/dossiers/{dossier['id']}/registrationForms", CONTENT)).status_code == 403


async def test_only_an_occupational_physician_names_one(insurer: Caller, person: SimulatedPerson) -> None:
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    response = await insurer.post(
        f"/dossiers/{dossier['id']}/registrationForms", {"occupationalPhysicianName": "Dr. X"}
    )
    assert response.status_code == 400
    assert response.json()["issues"][0]["name"] == "occupationalPhysicianName"


async def test_denials(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    insurer: Caller,
    person: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    form = (await insurer.post(f"/dossiers/{dossier['id']}/registrationForms", CONTENT)).json()

    other_insurer = Caller(client, tokens.token("CM", ["medicalAdvisor"]))
    for path in (
        f"/dossiers/{dossier['id']}",
        f"/registrationForms/{form['id']}",
        f"/dossiers/{dossier['id']}/registrationForms",
    ):
        response = await other_insurer.get(path)
        assert response.status_code == 404, path  # 404 before 403: the id cannot be probed
    assert (await other_insurer.post("/dossiers", {"ssin": person.ssin})).status_code == 404
    assert (await other_insurer.get("/dossiers/00000000-0000-0000-0000-000000000000")).status_code == 404

    deceased = population.persons[population.deceased_ssin]
    their_insurer = Caller(client, tokens.token(INSURER_BY_OA[deceased.oa_number or 100], ["medicalAdvisor"]))
    assert (await their_insurer.post("/dossiers", {"ssin": deceased.ssin})).status_code == 404
    inami = Caller(client, tokens.token("INAMI", ["socialExpert"]))
    assert (await inami.post("/dossiers", {"ssin": deceased.ssin})).status_code == 404  # a lookup creates nothing

    # a replaced SSIN is the person under their new one: no dossier, and the answer does not name the new SSIN
    replaced = await inami.post("/dossiers", {"ssin": population.replaced_ssin})
    assert replaced.status_code == 404
    assert str(population.persons[population.replaced_ssin].replaced_by) not in replaced.text

    assert (await inami.post(f"/dossiers/{dossier['id']}/registrationForms", CONTENT)).status_code == 403
    denials = await connection.scalar(text("SELECT count(*) FROM audit_event WHERE outcome = 'deny'"))
    assert denials >= 6


@pytest.mark.parametrize(
    ("body", "issue_type", "name"),
    [
        ({"ssin": "85073003329"}, "invalidStructure", "ssin"),
        ({"ssin": "8507300332"}, "schemaViolation", "ssin"),
        ({"ssin": "85073003328", "nickname": "An"}, "unknownInput", "nickname"),
        ({}, "schemaViolation", "ssin"),
    ],
)
async def test_bad_input_on_open(insurer: Caller, body: dict[str, Any], issue_type: str, name: str) -> None:
    response = await insurer.post("/dossiers", body)
    assert response.status_code == 400
    issue = response.json()["issues"][0]
    assert issue["type"] == f"urn:problem-type:belgif:input-validation:{issue_type}"
    assert issue["name"] == name
    assert "85073003329" not in response.text


async def test_preconditions_conflicts_and_languages(insurer: Caller, person: SimulatedPerson) -> None:
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    created = await insurer.post(f"/dossiers/{dossier['id']}/registrationForms", CONTENT)
    form_id, first = created.json()["id"], created.headers["ETag"]

    assert (await insurer.put(f"/registrationForms/{form_id}", CONTENT)).status_code == 428
    updated = await insurer.put(
        f"/registrationForms/{form_id}", {**CONTENT, "expectations": "Other"}, **{"If-Match": first}
    )
    assert updated.status_code == 200
    assert updated.json()["expectations"] == "Other"
    stale = await insurer.put(f"/registrationForms/{form_id}", CONTENT, **{"If-Match": first})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:problem-type:rp:precondition"

    submitted = await insurer.post(f"/registrationForms/{form_id}/submit", **{"If-Match": updated.headers["ETag"]})
    etag = submitted.headers["ETag"]
    for lang, title in [
        ("fr-BE", "Seul un formulaire d'inscription en brouillon peut être modifié"),
        ("nl-BE", "Alleen een aanmeldingsformulier in ontwerp kan gewijzigd worden"),
        ("de", "Nur ein Anmeldeformular im Entwurf kann geändert werden"),
        ("en", "Only a draft registration form can be changed"),
    ]:
        conflict = await insurer.put(
            f"/registrationForms/{form_id}", CONTENT, **{"If-Match": etag, "Accept-Language": lang}
        )
        assert conflict.status_code == 409
        assert conflict.json()["type"] == "urn:problem-type:rp:formNotDraft"
        assert conflict.json()["title"] == title
    again = await insurer.post(f"/registrationForms/{form_id}/submit", **{"If-Match": etag, "Accept-Language": "fr"})
    assert again.status_code == 409
    assert again.json()["type"] == "urn:problem-type:rp:transitionNotAllowed"
    assert again.json()["title"] == "Cette action n'est pas permise dans l'état actuel"


async def test_idempotency_key(insurer: Caller, person: SimulatedPerson, connection: AsyncConnection) -> None:
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    path = f"/dossiers/{dossier['id']}/registrationForms"
    first = await insurer.post(path, CONTENT, **{"Idempotency-Key": "form-1"})
    retry = await insurer.post(path, CONTENT, **{"Idempotency-Key": "form-1"})
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await connection.scalar(text("SELECT count(*) FROM registration_form")) == 1
    other = await insurer.post(path, {**CONTENT, "expectations": "else"}, **{"Idempotency-Key": "form-1"})
    assert other.status_code == 422
    assert other.json()["type"] == "urn:problem-type:rp:idempotencyKeyReused"


async def test_query_pages_and_rechecks(
    insurer: Caller,
    population: Population,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    insured = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date][
        :5
    ]
    for p in insured:
        assert (await insurer.post("/dossiers", {"ssin": p.ssin, "start": "registrationForm"})).status_code == 201
    before = await connection.scalar(text("SELECT count(*) FROM audit_event"))

    seen: list[str] = []
    page: str | None = None
    pages = 0
    while True:
        response = await insurer.post("/dossiers/query", {"pageSize": 2, **({"page": page} if page else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["ssin"] for item in body["items"]]
        pages += 1
        page = body.get("next")
        if not page:
            break
    assert sorted(seen) == sorted(p.ssin for p in insured)
    assert pages == 3
    after = await connection.scalar(text("SELECT count(*) FROM audit_event WHERE operation = 'queryDossiers'"))
    assert after == 5  # one record per person listed
    assert before >= 5

    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    assert (await vdab.post("/dossiers/query", {})).json()["items"] == []  # VDAB takes part in none


async def test_no_answer_to_a_regional_service_carries_the_incapacity_date(
    insurer: Caller, physician: Caller, vdab: Caller, person: SimulatedPerson
) -> None:
    dossier = (await physician.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    created = await physician.post(f"/dossiers/{dossier['id']}/registrationForms", PHYSICIAN_CONTENT)
    await physician.post(f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]})
    answers = [
        await vdab.post("/dossiers", {"ssin": person.ssin}),
        await vdab.get(f"/dossiers/{dossier['id']}"),
        await vdab.get(f"/dossiers/{dossier['id']}/registrationForms"),
        await vdab.get(f"/registrationForms/{created.json()['id']}"),
        await vdab.post("/dossiers/query", {}),
    ]
    for answer in answers:
        assert answer.status_code == 200
        keys = set(walk(answer.json()))
        assert "incapacityStartDate" not in keys
        assert "2024-03-01" not in answer.text
        # the functional capacities only in the form it reads as the question's addressee (§52 vi), never a list
        assert ("No lifting" in answer.text) is ("physicianQuestion" in keys)


async def test_conflicting_transitions_have_one_winner(
    own_client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    """Submit and cancel race on the same ETag, each on its own connection: exactly one wins, the other is 412."""
    import asyncio

    insurer = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    for _ in range(5):
        created = await insurer.post(f"/dossiers/{dossier['id']}/registrationForms", CONTENT)
        form, etag = created.json()["id"], created.headers["ETag"]
        results = await asyncio.gather(
            insurer.post(f"/registrationForms/{form}/submit", **{"If-Match": etag}),
            insurer.post(f"/registrationForms/{form}/cancel", **{"If-Match": etag}),
        )
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        final = (await insurer.get(f"/registrationForms/{form}")).json()["status"]
        assert final == next(r for r in results if r.status_code == 200).json()["status"]


async def test_dossier_read_survives_a_table_changed_under_its_prepared_statement(
    owner_connection: AsyncConnection,
) -> None:
    """The driver read names no table row type: a migration that changes a table (here a column added after the
    statement was prepared) must not make the cached statement fail (`InvalidCachedStatementError`). As the owner role,
    which migrations run as."""
    connection = owner_connection
    from sqlalchemy.ext.asyncio import AsyncSession

    from rp_api.repositories import dossiers as dossier_repository

    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    dossier, _ = await dossier_repository.open_for(session, "85073003328")
    assert await dossier_repository.with_contents(session, dossier.id) is not None
    for table in ("dossier", "registration_form", "request", "decision"):
        await connection.execute(text(f"ALTER TABLE {table} ADD COLUMN added_later integer"))
    contents = await dossier_repository.with_contents(session, dossier.id)
    assert contents is not None
    assert (contents.dossier.id, contents.dossier.ssin) == (dossier.id, "85073003328")
    assert (contents.forms, contents.requests, contents.decisions) == ([], [], {})

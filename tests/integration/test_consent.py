"""The person's consent (deliberation 26/060 §63) end to end: what needs it is refused until it is in force and again
once withdrawn (the occupational physician's registration form, a prevention service's messages to a regional
service); who may record, withdraw and read it (every kind of caller, 404 before 403); idempotent replays;
``If-Match``; bad inputs; one audit record per call, read back by its trace id."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, INSURER_BY_OA, Caller
from tests.token_factory import TokenFactory

REGISTRY = OrganisationRegistry.load()
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
CONSENT = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": YESTERDAY}
CONSENT_REQUIRED = "urn:problem-type:rp:consentRequired"
TRANSITION_NOT_ALLOWED = "urn:problem-type:rp:transitionNotAllowed"


@dataclass(frozen=True)
class Subject:
    """A person insured with an OA, registered with VDAB, whose employer is affiliated to a prevention service."""

    person: SimulatedPerson
    insurer: str
    prevention: str
    other_prevention: str
    other_insurer: str

    @property
    def ssin(self) -> str:
        return self.person.ssin


def number(label: str) -> str:
    found = REGISTRY.find(label)
    assert found is not None
    return found.enterprise_number


VDAB = number("VDAB")


@pytest.fixture(scope="module")
def subject(population: Population) -> Subject:
    person, services = next(
        (p, {s for e in p.employers for s in population.employers[e].prevention_services})
        for p in population.persons.values()
        if p.oa_number in INSURER_BY_OA
        and not p.death_date
        and not p.replaced_by
        and any(r == VDAB for r, _ in p.registrations)
        and any(population.employers[e].prevention_services for e in p.employers)
    )
    assert person.oa_number is not None
    other_prevention = next(
        o.enterprise_number
        for o in REGISTRY
        if o.type is OrganisationType.PREVENTION_SERVICE and o.enterprise_number not in services
    )
    other_insurer = next(label for oa, label in INSURER_BY_OA.items() if oa != person.oa_number)
    return Subject(person, INSURER_BY_OA[person.oa_number], sorted(services)[0], other_prevention, other_insurer)


def _callers(s: Subject) -> dict[str, tuple[str, str]]:
    return {
        "coord": (s.insurer, "returnToWorkCoordinator"),
        "advisor": (s.insurer, "medicalAdvisor"),
        "team": (s.insurer, "multidisciplinaryTeam"),
        "insurerAdmin": (s.insurer, "administrative"),
        "physician": (s.prevention, "occupationalPhysician"),
        "nurse": (s.prevention, "nurse"),
        "secretariat": (s.prevention, "medicalSecretariat"),
        "preventionAdmin": (s.prevention, "administrative"),
        "vdab": ("VDAB", "referenceAdvisor"),
        "vdabLists": ("VDAB", "listManager"),
        "expert": ("INAMI", "socialExpert"),
        "inspector": ("INAMI", "medicalInspector"),
        "auditor": (s.insurer, "auditor"),
        "otherInsurer": (s.other_insurer, "returnToWorkCoordinator"),
        "otherPrevention": (s.other_prevention, "occupationalPhysician"),
    }


OTHER_USER = "75050575724"  # a valid SSIN other than the token factory's default user


@pytest.fixture(scope="module")
def bearer_tokens(tokens: TokenFactory, subject: Subject) -> dict[str, str]:
    made = {name: tokens.token(org, [role]) for name, (org, role) in _callers(subject).items()}
    return {**made, "coordColleague": tokens.token(subject.insurer, ["returnToWorkCoordinator"], sub=OTHER_USER)}


@pytest.fixture
def c(client: httpx.AsyncClient, bearer_tokens: dict[str, str]) -> dict[str, Caller]:
    return {name: Caller(client, token) for name, token in bearer_tokens.items()}


async def open_dossier(c: dict[str, Caller], s: Subject) -> str:
    """The person's dossier, created by the insurer starting a trajectory."""
    opened = await c["coord"].post("/dossiers", {"ssin": s.ssin, "start": "registrationForm"})
    assert opened.status_code in (200, 201), opened.text
    return str(opened.json()["id"])


async def records(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """The audit records of one call (its trace id): (person, operation, outcome, reason, status)."""
    rows = await connection.execute(
        text(
            "SELECT person_ssin, operation, outcome, reason, status FROM audit_event WHERE trace_id = :trace"
            " ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


async def consents_of(connection: AsyncConnection, dossier: str) -> int:
    query = text("SELECT count(*) FROM consent WHERE dossier_id = :dossier")
    return int(await connection.scalar(query, {"dossier": dossier}) or 0)


def if_match(response: httpx.Response) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


def assert_consent_required(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["type"], problem["status"], problem["scope"]) == (
        CONSENT_REQUIRED,
        409,
        "occupationalPhysicianContact",
    )


async def test_the_physicians_form_waits_for_the_consent_and_stops_again_at_its_withdrawal(
    c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    forms = f"/dossiers/{dossier}/registrationForms"

    refused = await c["physician"].post(forms, CONTENT, **{"Accept-Language": "fr-BE"})
    assert_consent_required(refused)
    assert refused.json()["title"] == "Le consentement de la personne est requis pour cette action"
    assert subject.ssin not in refused.text
    assert await records(connection, refused) == [
        (subject.ssin, "createRegistrationForm", "deny", "workflowState", 409)
    ]
    assert (await c["physician"].post(forms, CONTENT, **{"Accept-Language": "nl"})).json()["title"] == (
        "De toestemming van de persoon is vereist voor deze actie"
    )

    recorded = await c["physician"].post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code == 201, recorded.text
    consent = recorded.json()
    assert recorded.headers["Location"] == f"/rp/v1/consents/{consent['id']}" == consent["self"]
    assert recorded.headers["ETag"] == '"1"'
    assert datetime.fromisoformat(consent.pop("recordedAt")) <= datetime.now(UTC)
    assert consent == {
        "id": consent["id"],
        "dossierId": dossier,
        "scope": "occupationalPhysicianContact",
        "formVersion": "RP-2026.1",
        "givenOn": YESTERDAY,
        "recordedBy": {"enterpriseNumber": subject.prevention, "role": "occupationalPhysician"},
        "inForce": True,
        "withdrawnAt": None,
        "withdrawnBy": None,
        "self": f"/rp/v1/consents/{consent['id']}",
    }
    assert await records(connection, recorded) == [
        (subject.ssin, "recordConsent", "permit", "employerAffiliation", 201)
    ]

    allowed = await c["physician"].post(forms, CONTENT)
    assert allowed.status_code == 201, allowed.text

    withdrawn = await c["physician"].post(f"/consents/{consent['id']}/withdraw", {}, **if_match(recorded))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.headers["ETag"] == '"2"'
    body = withdrawn.json()
    assert (body["inForce"], body["withdrawnBy"]) == (False, subject.prevention)
    assert datetime.fromisoformat(body["withdrawnAt"]) <= datetime.now(UTC)
    assert await records(connection, withdrawn) == [
        (subject.ssin, "withdrawConsent", "permit", "employerAffiliation", 200)
    ]

    assert_consent_required(await c["physician"].post(forms, CONTENT))
    # The insurer's own form never needed it; the physician's form created while the consent was in force stays.
    assert (await c["advisor"].post(forms, CONTENT)).status_code == 201
    assert (await c["physician"].get(f"/registrationForms/{allowed.json()['id']}")).status_code == 200
    # Its draft cannot be submitted now (it would reach the regional services); with a new consent it can.
    draft = allowed.json()["id"]
    assert_consent_required(await c["physician"].post(f"/registrationForms/{draft}/submit", {}, **if_match(allowed)))
    assert (await c["physician"].get(f"/registrationForms/{draft}")).json()["status"] == "draft"
    assert (await c["physician"].post(f"/dossiers/{dossier}/consents", CONSENT)).status_code == 201
    submitted = await c["physician"].post(f"/registrationForms/{draft}/submit", {}, **if_match(allowed))
    assert submitted.status_code == 200, submitted.text


async def test_a_prevention_services_messages_to_a_regional_service_wait_for_the_consent(
    c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    conversations = f"/dossiers/{dossier}/conversations"
    # The insurer opens a conversation with VDAB and the prevention service: the insurer needs no consent.
    opened = await c["coord"].post(
        conversations, {"subject": "Return to work", "participants": [VDAB, subject.prevention]}
    )
    assert opened.status_code == 201, opened.text
    messages = f"/conversations/{opened.json()['id']}/messages"

    refused = await c["physician"].post(messages, {"text": "The person may work half days."})
    assert_consent_required(refused)
    assert await records(connection, refused) == [(subject.ssin, "postMessage", "deny", "workflowState", 409)]
    assert_consent_required(await c["nurse"].post(messages, {"text": "On behalf of the physician"}))
    assert_consent_required(await c["preventionAdmin"].post(messages, {"text": "On behalf of the service"}))
    opening = await c["physician"].post(conversations, {"subject": "Job coaching", "participants": [VDAB]})
    assert_consent_required(opening)
    assert await records(connection, opening) == [(subject.ssin, "createConversation", "deny", "workflowState", 409)]
    assert [m["text"] for m in (await c["physician"].get(messages)).json()["items"]] == []  # nothing was posted

    # Without a regional service in it, the physician's conversation needs no consent.
    private = await c["physician"].post(
        conversations, {"subject": "Return to work", "participants": [number(subject.insurer)]}
    )
    assert private.status_code == 201, private.text
    posted = await c["physician"].post(f"/conversations/{private.json()['id']}/messages", {"text": "Half days?"})
    assert posted.status_code == 201, posted.text
    # The employment partner writing to the physician is not the physician's contact.
    assert (await c["vdab"].post(messages, {"text": "We can offer a coaching path."})).status_code == 201

    # The insurer records the person's consent: the physician writes to VDAB.
    recorded = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code == 201, recorded.text
    assert (await c["physician"].post(messages, {"text": "The person may work half days."})).status_code == 201
    assert (await c["nurse"].post(messages, {"text": "Follow-up next week"})).status_code == 201
    opened_by_physician = await c["physician"].post(conversations, {"subject": "Coaching", "participants": [VDAB]})
    assert opened_by_physician.status_code == 201, opened_by_physician.text

    # The nurse records the person's withdrawal: refused again, reading goes on.
    withdrawn = await c["nurse"].post(f"/consents/{recorded.json()['id']}/withdraw", {}, **if_match(recorded))
    assert withdrawn.status_code == 200, withdrawn.text
    assert_consent_required(await c["physician"].post(messages, {"text": "One more thing"}))
    read = await c["physician"].get(messages)
    assert [m["text"] for m in read.json()["items"]] == [
        "We can offer a coaching path.",
        "The person may work half days.",
        "Follow-up next week",
    ]


# For each caller: (record, read, withdraw) — the status it gets, and the reason its one audit record gives.
WHO_MAY: dict[str, tuple[int, int, int]] = {
    "coord": (201, 200, 200),
    "advisor": (201, 200, 200),
    "team": (201, 200, 200),
    "insurerAdmin": (403, 200, 200),
    "physician": (201, 200, 200),
    "nurse": (403, 200, 200),
    "secretariat": (403, 200, 200),
    "preventionAdmin": (403, 403, 403),
    "vdab": (403, 200, 403),
    "vdabLists": (403, 403, 403),
    "expert": (403, 200, 403),
    "inspector": (403, 200, 403),
    "auditor": (403, 403, 403),
    "otherInsurer": (404, 404, 404),
    "otherPrevention": (404, 404, 404),
}
LINK = {
    "coord": "insurerAffiliation",
    "advisor": "insurerAffiliation",
    "team": "insurerAffiliation",
    "insurerAdmin": "insurerAffiliation",
    "physician": "employerAffiliation",
    "nurse": "employerAffiliation",
    "secretariat": "employerAffiliation",
    "preventionAdmin": "employerAffiliation",
    "vdab": "regionalRegistration",
    "vdabLists": "regionalRegistration",
    "expert": "inamiMission",
    "inspector": "inamiMission",
}


def expected_record(who: str, status: int) -> tuple[str, str]:
    if status < 400:
        return "permit", LINK[who]
    if status == 404:
        return "deny", "noLink"
    return "deny", "auditOnlyRole" if who == "auditor" else "roleNotAllowed"


@pytest.mark.parametrize("who", sorted(WHO_MAY))
async def test_who_may_record_read_and_withdraw(
    who: str, c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    record_status, read_status, withdraw_status = WHO_MAY[who]
    dossier = await open_dossier(c, subject)
    caller = c[who]

    recorded = await caller.post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code == record_status, recorded.text
    assert await records(connection, recorded) == [
        (subject.ssin, "recordConsent", *expected_record(who, record_status), record_status)
    ]
    if record_status == 201:
        assert recorded.json()["recordedBy"]["role"] == _callers(subject)[who][1]
        assert recorded.json()["recordedBy"]["enterpriseNumber"] == number(_callers(subject)[who][0])
        consent, etag = recorded.json()["id"], recorded.headers["ETag"]
    else:
        assert subject.ssin not in recorded.text
        assert await consents_of(connection, dossier) == 0
        by_coord = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT)
        consent, etag = by_coord.json()["id"], by_coord.headers["ETag"]

    listed = await caller.get(f"/dossiers/{dossier}/consents")
    assert listed.status_code == read_status, listed.text
    assert await records(connection, listed) == [
        (subject.ssin, "listConsents", *expected_record(who, read_status), read_status)
    ]
    one = await caller.get(f"/consents/{consent}")
    assert one.status_code == read_status, one.text
    assert await records(connection, one) == [
        (subject.ssin, "getConsent", *expected_record(who, read_status), read_status)
    ]
    if read_status == 200:
        assert [item["id"] for item in listed.json()["items"]] == [consent]
        assert listed.json()["self"] == f"/rp/v1/dossiers/{dossier}/consents"
        assert one.json() == listed.json()["items"][0]
        assert one.headers["ETag"] == etag
    else:
        assert "inForce" not in listed.text
        assert "inForce" not in one.text

    withdrawn = await caller.post(f"/consents/{consent}/withdraw", {}, **{"If-Match": etag})
    assert withdrawn.status_code == withdraw_status, withdrawn.text
    assert await records(connection, withdrawn) == [
        (subject.ssin, "withdrawConsent", *expected_record(who, withdraw_status), withdraw_status)
    ]
    still = (await c["coord"].get(f"/consents/{consent}")).json()
    assert still["inForce"] is (withdraw_status != 200)


async def test_a_replay_makes_no_second_consent_and_reads_it_again(
    c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    key = {"Idempotency-Key": "consent-form-1"}
    first = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT, **key)
    assert first.status_code == 201, first.text
    again = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT, **key)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json() == first.json()
    assert (again.headers["Location"], again.headers["ETag"]) == (first.headers["Location"], first.headers["ETag"])
    assert await consents_of(connection, dossier) == 1
    assert await records(connection, again) == [(subject.ssin, "recordConsent", "permit", "insurerAffiliation", 201)]
    other = await c["coord"].post(f"/dossiers/{dossier}/consents", {**CONSENT, "formVersion": "RP-2027.1"}, **key)
    assert other.status_code == 422, other.text
    assert other.json()["type"] == "urn:problem-type:rp:idempotencyKeyReused"
    # Another user's key of the same name is its own call: refused, one consent of a scope being in force.
    colleague = await c["coordColleague"].post(f"/dossiers/{dossier}/consents", CONSENT, **key)
    assert (colleague.status_code, colleague.json()["type"]) == (409, TRANSITION_NOT_ALLOWED)
    assert "Idempotent-Replayed" not in colleague.headers

    withdraw = f"/consents/{first.json()['id']}/withdraw"
    key = {"Idempotency-Key": "withdrawal-1"}
    done = await c["coord"].post(withdraw, {}, **if_match(first), **key)
    assert done.status_code == 200, done.text
    replayed = await c["coord"].post(withdraw, {}, **if_match(first), **key)
    assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed")) == (200, "true")
    assert replayed.json() == done.json()
    assert replayed.json()["inForce"] is False
    assert await records(connection, replayed) == [
        (subject.ssin, "withdrawConsent", "permit", "insurerAffiliation", 200)
    ]


async def test_withdrawal_needs_the_consents_etag_and_happens_once(
    c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    recorded = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT)
    withdraw = f"/consents/{recorded.json()['id']}/withdraw"

    missing = await c["coord"].post(withdraw, {})
    assert missing.status_code == 428, missing.text
    assert await records(connection, missing) == [(subject.ssin, "withdrawConsent", "deny", "preconditionFailed", 428)]
    stale = await c["coord"].post(withdraw, {}, **{"If-Match": '"7"'})
    assert stale.status_code == 412, stale.text
    assert await records(connection, stale) == [(subject.ssin, "withdrawConsent", "deny", "preconditionFailed", 412)]
    assert (await c["coord"].get(f"/consents/{recorded.json()['id']}")).json()["inForce"] is True

    done = await c["coord"].post(withdraw, {}, **if_match(recorded))
    assert done.status_code == 200, done.text
    twice = await c["coord"].post(withdraw, {}, **if_match(done), **{"Accept-Language": "de"})
    assert (twice.status_code, twice.json()["type"]) == (409, TRANSITION_NOT_ALLOWED)
    assert twice.json()["title"] == "Diese Aktion ist im aktuellen Zustand nicht erlaubt"
    assert await records(connection, twice) == [(subject.ssin, "withdrawConsent", "deny", "workflowState", 409)]

    # In force again only through a new consent; one consent of a scope in force at a time.
    renewed = await c["physician"].post(f"/dossiers/{dossier}/consents", {**CONSENT, "formVersion": "RP-2026.2"})
    assert renewed.status_code == 201, renewed.text
    duplicate = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT)
    assert (duplicate.status_code, duplicate.json()["type"]) == (409, TRANSITION_NOT_ALLOWED)
    assert await records(connection, duplicate) == [(subject.ssin, "recordConsent", "deny", "workflowState", 409)]
    listed = (await c["vdab"].get(f"/dossiers/{dossier}/consents")).json()["items"]
    assert [(item["formVersion"], item["inForce"]) for item in listed] == [("RP-2026.1", False), ("RP-2026.2", True)]


IN_TWO_DAYS = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CONSENT, "scope": "everything"}, "scope"),
        ({**CONSENT, "scope": None}, "scope"),
        ({k: v for k, v in CONSENT.items() if k != "scope"}, "scope"),
        ({**CONSENT, "formVersion": ""}, "formVersion"),
        ({**CONSENT, "formVersion": "x" * 41}, "formVersion"),
        ({**CONSENT, "formVersion": "RP\n2026"}, "formVersion"),
        ({**CONSENT, "formVersion": " RP-2026.1"}, "formVersion"),
        ({**CONSENT, "formVersion": "RP\u00852026"}, "formVersion"),
        ({**CONSENT, "formVersion": 2026}, "formVersion"),
        ({k: v for k, v in CONSENT.items() if k != "formVersion"}, "formVersion"),
        ({**CONSENT, "givenOn": IN_TWO_DAYS}, "givenOn"),
        ({**CONSENT, "givenOn": "2026-13-01"}, "givenOn"),
        ({**CONSENT, "givenOn": 20260101}, "givenOn"),
        ({**CONSENT, "givenOn": "0001-01-01"}, "givenOn"),
        ({k: v for k, v in CONSENT.items() if k != "givenOn"}, "givenOn"),
        ({**CONSENT, "ssin": "85073003328"}, "ssin"),
    ],
)
async def test_bad_input_is_refused_before_the_person_is_looked_up(
    body: dict[str, Any], field: str, c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    response = await c["coord"].post(f"/dossiers/{dossier}/consents", body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "urn:problem-type:belgif:badRequest"
    assert [issue["name"] for issue in problem["issues"]] == [field]
    assert all("value" not in issue for issue in problem["issues"])  # a body value is never echoed
    assert await records(connection, response) == []  # nobody's data was looked at
    assert await consents_of(connection, dossier) == 0


async def test_unknown_ids_and_malformed_paths(c: dict[str, Caller], subject: Subject) -> None:
    dossier = await open_dossier(c, subject)
    recorded = await c["coord"].post(f"/dossiers/{dossier}/consents", CONSENT)
    nobody = uuid.uuid4()
    assert (await c["coord"].get(f"/consents/{nobody}")).status_code == 404
    assert (await c["coord"].post(f"/consents/{nobody}/withdraw", {}, **if_match(recorded))).status_code == 404
    assert (await c["coord"].get(f"/dossiers/{nobody}/consents")).status_code == 404
    assert (await c["coord"].post(f"/dossiers/{nobody}/consents", CONSENT)).status_code == 404
    malformed = await c["coord"].get("/consents/not-a-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["issues"][0]["name"] == "consentId"
    assert (await c["coord"].put(f"/consents/{recorded.json()['id']}", CONSENT)).status_code == 405


async def test_a_consent_changes_the_dossier_and_is_told_to_nobody(
    c: dict[str, Caller], subject: Subject, connection: AsyncConnection
) -> None:
    dossier = await open_dossier(c, subject)
    before = await c["coord"].get(f"/dossiers/{dossier}")
    events = text("SELECT count(*) FROM feed_event WHERE dossier_id = :dossier")
    told = await connection.scalar(events, {"dossier": dossier})

    recorded = await c["physician"].post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code == 201, recorded.text
    after = await c["coord"].get(f"/dossiers/{dossier}")
    assert after.headers["ETag"] != before.headers["ETag"]  # a change of the dossier (its retention clock)
    assert datetime.fromisoformat(after.json()["updatedAt"]) > datetime.fromisoformat(before.json()["updatedAt"])
    participants = await connection.scalars(
        text("SELECT enterprise_number FROM dossier_participant WHERE dossier_id = :dossier"), {"dossier": dossier}
    )
    assert subject.prevention in set(participants)  # it finds the dossier in its dossiers/query

    withdrawn = await c["physician"].post(f"/consents/{recorded.json()['id']}/withdraw", {}, **if_match(recorded))
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await c["coord"].get(f"/dossiers/{dossier}")).headers["ETag"] != after.headers["ETag"]
    assert await connection.scalar(events, {"dossier": dossier}) == told  # not a work item: no feed event


async def test_concurrent_recordings_and_withdrawals_have_one_winner(
    own_client: httpx.AsyncClient, bearer_tokens: dict[str, str], subject: Subject
) -> None:
    """On real connections: two consents of a scope recorded at once — one is, the other is 409; two withdrawals of
    one consent at once, with its ETag — one is, the other is 412."""
    c = {name: Caller(own_client, token) for name, token in bearer_tokens.items()}
    dossier = await open_dossier(c, subject)
    consents = f"/dossiers/{dossier}/consents"
    for _ in range(5):
        recorded = await asyncio.gather(c["coord"].post(consents, CONSENT), c["physician"].post(consents, CONSENT))
        assert sorted(r.status_code for r in recorded) == [201, 409], [r.text for r in recorded]
        winner = next(r for r in recorded if r.status_code == 201)
        listed = (await c["vdab"].get(consents)).json()["items"]
        assert [item["id"] for item in listed if item["inForce"]] == [winner.json()["id"]]

        withdraw = f"/consents/{winner.json()['id']}/withdraw"
        withdrawn = await asyncio.gather(
            c["coord"].post(withdraw, {}, **if_match(winner)), c["nurse"].post(withdraw, {}, **if_match(winner))
        )
        assert sorted(r.status_code for r in withdrawn) == [200, 412], [r.text for r in withdrawn]
        assert (await c["vdab"].get(f"/consents/{winner.json()['id']}")).json()["inForce"] is False


async def test_who_recorded_a_consent_is_told_only_to_the_insurer_inami_and_the_recorder(
    c: dict[str, Caller], subject: Subject
) -> None:
    """A regional service reads whether a consent is in force, not which prevention service recorded it (that would
    tell it of the person's employers, which the visibility table withholds from it)."""
    dossier = await open_dossier(c, subject)
    recorded = await c["physician"].post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code == 201, recorded.text
    withdrawn = await c["physician"].post(f"/consents/{recorded.json()['id']}/withdraw", {}, **if_match(recorded))
    assert withdrawn.status_code == 200, withdrawn.text
    for who, told in (("vdab", False), ("coord", True), ("expert", True), ("nurse", True)):
        listed = await c[who].get(f"/dossiers/{dossier}/consents")
        assert listed.status_code == 200, (who, listed.text)
        [consent] = listed.json()["items"]
        assert consent["inForce"] is False
        assert (consent["recordedBy"] is not None, consent["withdrawnBy"] is not None) == (told, told), who
        assert (subject.prevention in listed.text) is told, who

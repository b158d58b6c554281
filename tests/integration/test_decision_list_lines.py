"""Decision-list lines (issue 17): each line names the person (National Register), the request (type, training
project, trainings, total cost) and the decision (amount, period, outcome, INAMI's motivation) in JSON and in CSV,
the same lines with the same columns; ``changedSince`` is a third way to choose the lines, and pages; no line ever
carries health data, whoever reads it (physicians included)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from rp_api.clients.base import UpstreamUnavailable
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import PHYSICIAN_CONTENT, Caller, walk
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, submitted_form
from tests.token_factory import TokenFactory

BAD_REQUEST = "urn:problem-type:belgif:badRequest"
SECOND_TRAINING = {
    "provider": "VDAB Opleidingscentrum",
    "title": "Warehouse safety",
    "startDate": "2026-10-05",
    "endDate": "2026-11-27",
    "plannedHours": 40,
    "cost": "900.00",
}
MEDICAL_INFORMATION = "Chronic lumbar hernia, L5"
MEDICAL_ADVICE = "Favourable: no lifting over 5 kg"
OLD_COLUMNS = [
    "decisionId", "requestId", "dossierId", "ssin", "type", "week", "outcome",
    "approvedAmount", "periodStart", "periodEnd", "decidedAt",
]  # fmt: skip
"""The CSV's columns before issue 17, in their order: they stay first."""
NEW_COLUMNS = ["givenName", "familyName", "trainingProject", "providers", "trainingTitles", "totalCost", "motivation"]
NEW_COLUMNS += ["extends"]  # issue 18: the decision on an extension names the request it extends
LINE_FIELDS = {*OLD_COLUMNS, "givenName", "familyName", "trainingProject", "trainings", "totalCost", "motivation"}
LINE_FIELDS |= {"extends"}
"""Every field of a JSON line, and nothing else."""
HEALTH_KEYS = {"medicalInformation", "medicalAdvice", "incapacityStartDate", "functionalCapacities"}


@pytest.fixture
def c(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "vdabLists": Caller(client, tokens.token("VDAB", ["listManager"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "inspector": Caller(client, tokens.token("INAMI", ["medicalInspector"])),
    }


def compact(training: dict[str, Any]) -> dict[str, Any]:
    return {key: training[key] for key in ("provider", "title", "startDate", "endDate")}


def flat(line: dict[str, Any]) -> dict[str, str]:
    """A JSON line as its CSV row should read."""
    row = {column: "" if line[column] is None else str(line[column]) for column in LINE_FIELDS - {"trainings"}}
    row["providers"] = "; ".join(training["provider"] for training in line["trainings"])
    row["trainingTitles"] = "; ".join(training["title"] for training in line["trainings"])
    return row


async def every_page(caller: Caller, query: str, **headers: str) -> list[httpx.Response]:
    """Every page of the list, following ``next`` (JSON) or the ``Link`` header (CSV)."""
    pages: list[httpx.Response] = []
    cursor: str | None = None
    for _ in range(50):
        response = await caller.get(f"/decisions?{query}" + (f"&page={cursor}" if cursor else ""), **headers)
        assert response.status_code == 200, response.text
        pages.append(response)
        if "csv" in headers.get("Accept", ""):
            link = response.headers.get("link")
            cursor = link[1 : link.index(">")] if link else None
        else:
            cursor = response.json()["next"]
        if cursor is None:
            return pages
    raise AssertionError("the list does not end")


async def decided_requests(c: dict[str, Caller], person: SimulatedPerson) -> dict[str, Any]:
    """A training request of VDAB (two trainings, validated by the insurer) approved, and a coaching request of the
    insurer's physician with medical information and the inspector's medical advice, refused; one round."""
    dossier, form = await submitted_form(c, person)
    training = await c["vdab"].post(
        f"/dossiers/{dossier}/requests",
        {
            "type": "training",
            "registrationFormId": form,
            "trainingProject": "Towards logistics",
            "trainings": [TRAINING, SECOND_TRAINING],
        },
    )
    assert training.status_code == 201, training.text
    validated = await c["insurer"].post(
        f"/requests/{training.json()['id']}/insurerValidation",
        {"validated": True, "motivation": "Fits the plan"},
        **{"If-Match": training.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    coaching = await c["insurerPhysician"].post(
        f"/dossiers/{dossier}/requests", {"type": "coaching", "medicalInformation": MEDICAL_INFORMATION}
    )
    assert coaching.status_code == 201, coaching.text
    advice = await c["inspector"].post(
        f"/requests/{coaching.json()['id']}/medicalAdvice",
        {"text": MEDICAL_ADVICE, "conclusion": "compatible"},
        **{"If-Match": coaching.headers["ETag"]},
    )
    assert advice.status_code == 200, advice.text
    round_ = await c["expert"].post(
        "/decisionRounds",
        {
            "week": WEEK,
            "decisions": [
                {
                    "requestId": training.json()["id"],
                    "outcome": "approved",
                    "approvedAmount": "2000.00",
                    "periodStart": "2026-09-01",
                    "periodEnd": "2026-12-18",
                    "motivation": "Meets the conditions of article 109bis",
                },
                {"requestId": coaching.json()["id"], "outcome": "refused", "motivation": "Outside the target group"},
            ],
        },
    )
    assert round_.status_code == 201, round_.text
    return {"dossier": dossier, "training": training.json()["id"], "coaching": coaching.json()["id"]}


async def test_json_and_csv_lines_name_the_person_the_request_and_the_decision(
    c: dict[str, Caller], person: SimulatedPerson
) -> None:
    made = await decided_requests(c, person)
    common = {
        "dossierId": made["dossier"],
        "ssin": person.ssin,
        "week": WEEK,
        "givenName": person.given_name,
        "familyName": person.family_name,
    }
    expected = {
        made["training"]: common
        | {
            "requestId": made["training"],
            "type": "training",
            "outcome": "approved",
            "approvedAmount": "2000.00",
            "periodStart": "2026-09-01",
            "periodEnd": "2026-12-18",
            "trainingProject": "Towards logistics",
            "trainings": [compact(TRAINING), compact(SECOND_TRAINING)],
            "totalCost": "2350.00",
            "motivation": "Meets the conditions of article 109bis",
        },
        made["coaching"]: common
        | {
            "requestId": made["coaching"],
            "type": "coaching",
            "outcome": "refused",
            "approvedAmount": None,
            "periodStart": None,
            "periodEnd": None,
            "trainingProject": None,
            "trainings": [],
            "totalCost": "0.00",
            "motivation": "Outside the target group",
        },
    }
    for who in ("vdabLists", "insurer"):  # VDAB's list manager (the person's regional service), the insurer
        response = await c[who].get(f"/decisions?week={WEEK}")
        assert response.status_code == 200, response.text
        lines = {line["requestId"]: line for line in response.json()["items"]}
        assert set(lines) == set(expected), who
        for request_id, line in lines.items():
            assert set(line) == LINE_FIELDS, (who, sorted(set(line) ^ LINE_FIELDS))
            assert {key: line[key] for key in expected[request_id]} == expected[request_id], who
            assert datetime.fromisoformat(line["decidedAt"]).tzinfo is not None

        as_csv = await c[who].get(f"/decisions?week={WEEK}", Accept="text/csv")
        assert as_csv.status_code == 200, as_csv.text
        assert as_csv.headers["content-type"].startswith("text/csv")
        reader = csv.DictReader(io.StringIO(as_csv.text))
        assert reader.fieldnames == OLD_COLUMNS + NEW_COLUMNS
        rows = list(reader)
        # line for line, in the same order, every column the JSON line's field (trainings flattened)
        assert rows == [flat(line) for line in response.json()["items"]]
        training_row = next(row for row in rows if row["requestId"] == made["training"])
        assert training_row["providers"] == "Syntra; VDAB Opleidingscentrum"
        assert training_row["trainingTitles"] == "Forklift operator; Warehouse safety"
        assert training_row["givenName"] == person.given_name


async def test_no_line_carries_health_data_whoever_reads_it(c: dict[str, Caller], person: SimulatedPerson) -> None:
    made = await decided_requests(c, person)
    physician_view = (await c["inspector"].get(f"/requests/{made['coaching']}")).json()
    assert physician_view["medicalInformation"] == MEDICAL_INFORMATION  # the request does carry health data
    assert physician_view["medicalAdvice"] == MEDICAL_ADVICE
    health_texts = (
        MEDICAL_INFORMATION,
        MEDICAL_ADVICE,
        PHYSICIAN_CONTENT["incapacityStartDate"],
        PHYSICIAN_CONTENT["physicianQuestion"]["functionalCapacities"],  # type: ignore[index]
    )
    for who in ("insurerPhysician", "inspector", "expert", "insurer", "vdabLists"):
        as_json = await c[who].get(f"/decisions?week={WEEK}")
        as_csv = await c[who].get(f"/decisions?week={WEEK}", Accept="text/csv")
        assert as_json.status_code == as_csv.status_code == 200, (who, as_json.text, as_csv.text)
        assert made["coaching"] in {line["requestId"] for line in as_json.json()["items"]}, who
        assert HEALTH_KEYS.isdisjoint(walk(as_json.json())), who
        assert HEALTH_KEYS.isdisjoint(next(csv.reader(io.StringIO(as_csv.text)))), who
        for text in health_texts:
            assert str(text) not in as_json.text, (who, text)
            assert str(text) not in as_csv.text, (who, text)


async def test_changed_since_chooses_the_decisions_taken_from_that_moment_and_pages(
    c: dict[str, Caller], person: SimulatedPerson
) -> None:
    dossier, form = await submitted_form(c, person)
    ids = []
    for _ in range(3):
        created = await c["vdab"].post(
            f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form}
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    earlier, later = ids[:1], ids[1:]
    for batch in (earlier, later):  # two rounds, one after the other
        body = {"week": WEEK, "decisions": [{"requestId": i, "outcome": "refused", "motivation": "no"} for i in batch]}
        assert (await c["expert"].post("/decisionRounds", body)).status_code == 201
    everything = (await c["vdabLists"].get(f"/decisions?week={WEEK}")).json()["items"]
    decided = {line["requestId"]: datetime.fromisoformat(line["decidedAt"]) for line in everything}
    assert set(decided) == set(ids)
    assert decided[earlier[0]] < decided[later[0]] == decided[later[1]]
    boundary = decided[later[0]]
    in_order = [line["requestId"] for line in everything if line["requestId"] in later]  # (decidedAt, id) order

    spellings = {
        "UTC": boundary.isoformat(),
        "another offset": boundary.astimezone(timezone(timedelta(hours=2))).isoformat(),
        "no offset (UTC)": boundary.replace(tzinfo=None).isoformat(),
    }
    for spelling, moment in spellings.items():
        query = f"changedSince={quote(moment)}"
        one_page = await c["vdabLists"].get(f"/decisions?{query}")
        assert one_page.status_code == 200, one_page.text
        assert [line["requestId"] for line in one_page.json()["items"]] == in_order, spelling  # >=: the boundary in
        assert one_page.json()["next"] is None

    query = f"changedSince={quote(spellings['UTC'])}&pageSize=1"
    pages = await every_page(c["vdabLists"], query)
    assert [len(page.json()["items"]) for page in pages] == [1, 1]
    assert [line["requestId"] for page in pages for line in page.json()["items"]] == in_order
    csv_pages = await every_page(c["vdabLists"], query, Accept="text/csv")
    csv_rows = [row for page in csv_pages for row in csv.DictReader(io.StringIO(page.text))]
    json_lines = [line for page in pages for line in page.json()["items"]]
    assert csv_rows == [flat(line) for line in json_lines]

    just_after = quote((boundary + timedelta(microseconds=1)).isoformat())
    assert (await c["vdabLists"].get(f"/decisions?changedSince={just_after}")).json()["items"] == []
    since_first = await c["vdabLists"].get(f"/decisions?changedSince={quote(decided[earlier[0]].isoformat())}")
    assert since_first.json()["items"] == everything


@pytest.mark.parametrize(
    ("query", "names"),
    [
        (f"week={WEEK}&changedSince=2026-11-01T00:00:00Z", {"week", "changedSince"}),
        ("from=2026-11-01&changedSince=2026-11-01T00:00:00Z", {"from", "changedSince"}),
        ("to=2026-11-30&changedSince=2026-11-01T00:00:00Z", {"to", "changedSince"}),
        (f"week={WEEK}&from=2026-11-01&to=2026-11-30", {"week", "from", "to"}),
        ("", {None}),
        ("pageSize=10", {None}),
        ("changedSince=yesterday", {"changedSince"}),
        ("changedSince=1732000000", {"changedSince"}),
        ("changedSince=10000-01-01T00:00:00Z", {"changedSince"}),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
async def test_lines_are_chosen_in_exactly_one_way(
    c: dict[str, Caller], query: str, names: set[str | None], accept: str
) -> None:
    response = await c["vdabLists"].get(f"/decisions?{query}", Accept=accept)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == BAD_REQUEST
    assert {issue.get("name") for issue in problem["issues"]} == names
    assert all(issue.get("in") == "query" for issue in problem["issues"])


async def test_a_name_the_national_register_cannot_give_leaves_the_line_without_name(
    c: dict[str, Caller], person: SimulatedPerson, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await decided_requests(c, person)

    async def unavailable(ssin: str, *, trace_id: str | None, **_: object) -> None:
        raise UpstreamUnavailable("nationalRegister", "timeout")

    monkeypatch.setattr(app.state.link_resolver, "person", unavailable)
    response = await c["vdabLists"].get(f"/decisions?week={WEEK}")
    assert response.status_code == 200, response.text
    lines = {line["requestId"]: line for line in response.json()["items"]}
    assert set(lines) == {made["training"], made["coaching"]}  # every line still there, access was decided
    assert {(line["givenName"], line["familyName"]) for line in lines.values()} == {(None, None)}
    assert lines[made["training"]]["motivation"] == "Meets the conditions of article 109bis"
    rows = list(
        csv.DictReader(io.StringIO((await c["vdabLists"].get(f"/decisions?week={WEEK}", Accept="text/csv")).text))
    )
    assert {(row["givenName"], row["familyName"]) for row in rows} == {("", "")}
    assert {row["requestId"] for row in rows} == set(lines)


async def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    c: dict[str, Caller], person: SimulatedPerson
) -> None:
    """Free text (INAMI's motivation, the training project) that starts like a formula is written with a leading
    apostrophe in the CSV (CSV injection); the JSON keeps it as it was written."""
    dossier, form = await submitted_form(c, person)
    body = {"type": "coaching", "registrationFormId": form, "trainingProject": "+32 training"}
    created = await c["vdab"].post(f"/dossiers/{dossier}/requests", body)
    assert created.status_code == 201, created.text
    formula = '=HYPERLINK("http://attacker.example","x")'
    round_ = {
        "week": WEEK,
        "decisions": [{"requestId": created.json()["id"], "outcome": "refused", "motivation": formula}],
    }
    assert (await c["expert"].post("/decisionRounds", round_)).status_code == 201
    as_json = (await c["vdabLists"].get(f"/decisions?week={WEEK}")).json()["items"]
    as_csv = await c["vdabLists"].get(f"/decisions?week={WEEK}", Accept="text/csv")
    [row] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert (as_json[0]["motivation"], as_json[0]["trainingProject"]) == (formula, "+32 training")
    assert (row["motivation"], row["trainingProject"]) == ("'" + formula, "'+32 training")

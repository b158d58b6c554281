"""A dossier read through eHealth's blinded pseudonymisation (deliberation 26/060 §8): an insurer still sees whether
TRIO has a dossier for the person, the pseudonymisation service never receives the SSIN (only blinded points), and
an answer that is no point of the curve leaves ``trioDossierExists`` null with the source named, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from rp_api.simulator import app as simulator_module
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import INSURER_BY_OA, Caller
from tests.token_factory import TokenFactory


def insured(population: Population, *, trio_dossier: bool) -> SimulatedPerson:
    return next(
        p
        for p in population.persons.values()
        if p.oa_number in INSURER_BY_OA
        and p.trio_dossier is trio_dossier
        and not p.death_date
        and not p.replaced_by
        and p.ssin not in {population.deceased_ssin, population.replaced_ssin}
    )


def their_insurer(client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson) -> Caller:
    return Caller(client, tokens.token(INSURER_BY_OA[person.oa_number or 0], ["medicalAdvisor"]))


async def test_an_insurer_sees_trio_dossiers_and_the_ssin_never_reaches_the_pseudonymisation(
    client: httpx.AsyncClient, simulator: SimulatorState, population: Population, tokens: TokenFactory
) -> None:
    simulator.received.clear()
    with_dossier = insured(population, trio_dossier=True)
    without = insured(population, trio_dossier=False)
    for person, expected in ((with_dossier, True), (without, False)):
        opened = await their_insurer(client, tokens, person).post(
            "/dossiers", {"ssin": person.ssin, "start": "registrationForm"}
        )
        assert opened.status_code == 201, opened.text
        dossier = opened.json()
        assert (dossier["trioDossierExists"], dossier["unavailableSources"]) == (expected, [])

    sent = [json.loads(call.body) for call in simulator.received["pseudonymisation"]]
    assert len(sent) == 2
    assert [call.path for call in simulator.received["pseudonymisation"]] == [
        "/ehealth/pseudo/v1/domains/trio/pseudonymize"
    ] * 2
    for body in sent:
        assert set(body) == {"crv", "x", "y"}
        for person in (with_dossier, without):
            assert person.ssin not in json.dumps(body)
            assert person.ssin.encode() not in base64.b64decode(body["x"])  # the unblinded point's x would hold it
    asked = [json.loads(call.body)["pseudonym"] for call in simulator.received["trio"]]
    assert asked == [population.pseudonym(with_dossier.ssin, "trio"), population.pseudonym(without.ssin, "trio")]


def off_the_curve(population: Population, domain: str, body: Any) -> tuple[int, Any]:
    one = base64.b64encode((1).to_bytes(66, "big")).decode()
    return 200, {"domain": domain, "crv": "P-521", "x": one, "y": one}


def the_blinded_point_back(population: Population, domain: str, body: Any) -> tuple[int, Any]:
    return 200, {"domain": domain, **body}


@pytest.mark.parametrize("answer", [off_the_curve, the_blinded_point_back], ids=["offTheCurve", "noKeyApplied"])
async def test_an_answer_that_is_no_pseudonym_leaves_trio_unknown(
    client: httpx.AsyncClient,
    simulator: SimulatorState,
    population: Population,
    tokens: TokenFactory,
    monkeypatch: pytest.MonkeyPatch,
    answer: Any,
) -> None:
    monkeypatch.setattr(simulator_module, "evaluate_blinded", answer)
    person = insured(population, trio_dossier=True)
    opened = await their_insurer(client, tokens, person).post(
        "/dossiers", {"ssin": person.ssin, "start": "registrationForm"}
    )
    assert opened.status_code == 201, opened.text
    dossier = opened.json()
    assert (dossier["trioDossierExists"], dossier["unavailableSources"]) == (None, ["pseudonymisation"])
    assert dossier["insurer"]["oaNumber"] == person.oa_number  # the rest of the dossier is there
    assert simulator.calls["trio"] == 0  # TRIO is never asked about a pseudonym that is not one

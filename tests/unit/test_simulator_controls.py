"""The simulator's controls change the population at run time as the authentic sources would, and a reset undoes
every change."""

from __future__ import annotations

import httpx
import pytest

from rp_api.identifiers import normalise_ssin
from rp_api.settings import SimulatorSettings
from rp_api.simulator.app import create_simulator_app
from rp_api.simulator.population import Population, SimulatedPerson, build_population


def _someone(population: Population, *, skip: int = 0) -> SimulatedPerson:
    living = [
        p
        for p in population.persons.values()
        if not p.replaced_by and not p.death_date and p.oa_number and p.registrations and p.employers
    ]
    return living[skip]


def test_a_replacement_carries_the_person_on_under_a_new_valid_ssin() -> None:
    population = build_population()
    person = _someone(population)

    new = population.replace_ssin(person.ssin)

    assert normalise_ssin(new) == new != person.ssin
    assert population.persons[person.ssin].replaced_by == new
    successor = population.persons[new]
    assert successor.previous_ssins == (person.ssin,)
    assert (successor.oa_number, successor.registrations, successor.employers) == (
        person.oa_number,
        person.registrations,
        person.employers,
    )
    assert successor.birth_date == person.birth_date


def test_a_chain_keeps_the_whole_history_and_only_a_current_ssin_can_be_replaced() -> None:
    population = build_population()
    a = _someone(population).ssin
    b = population.replace_ssin(a)
    c = population.replace_ssin(b)

    assert population.persons[a].replaced_by == b
    assert population.persons[b].replaced_by == c
    assert population.persons[c].previous_ssins == (a, b)
    with pytest.raises(KeyError):
        population.replace_ssin(a)  # no longer current
    with pytest.raises(ValueError, match="itself"):
        population.replace_ssin(c, c)


def test_replacing_by_a_known_person_makes_the_two_records_one() -> None:
    population = build_population()
    old, kept = _someone(population), _someone(population, skip=1)

    assert population.replace_ssin(old.ssin, kept.ssin) == kept.ssin

    assert population.persons[old.ssin].replaced_by == kept.ssin
    merged = population.persons[kept.ssin]
    assert merged.previous_ssins == (old.ssin,)
    assert merged.oa_number == kept.oa_number  # the surviving record keeps its own links


def test_moves_and_an_ended_employment_change_only_what_they_say() -> None:
    population = build_population()
    person = _someone(population)
    other_oa = next(n for n in (100, 200, 300) if n != person.oa_number)
    employer = person.employers[0]

    population.move_insurer(person.ssin, other_oa)
    population.move_registrations(person.ssin, [person.registrations[0][0]])
    population.end_employment(person.ssin, employer)

    now = population.persons[person.ssin]
    assert now.oa_number == other_oa
    assert now.affiliated_since is not None
    assert now.registrations == person.registrations[:1]  # the kept registration keeps its date
    assert employer not in now.employers
    with pytest.raises(KeyError):
        population.end_employment(person.ssin, employer)
    population.move_insurer(person.ssin, None)
    assert population.persons[person.ssin].affiliated_since is None


def test_restore_undoes_every_change() -> None:
    population = build_population()
    before = dict(population.persons)
    person = _someone(population)
    new = population.replace_ssin(person.ssin)
    population.move_insurer(_someone(population, skip=1).ssin, None)

    population.restore()

    assert population.persons == before
    assert new not in population.persons


async def test_the_controls_over_http() -> None:
    population = build_population()
    app = create_simulator_app(SimulatorSettings(), population)
    person = _someone(population)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as http:
        replaced = await http.post(f"/_control/persons/{person.ssin}/replacement", json={})
        new = replaced.json()["ssin"]
        answer = await http.post("/cbss/nr/v1/persons/query", json={"ssin": new})
        old = await http.post("/cbss/nr/v1/persons/query", json={"ssin": person.ssin})
        again = await http.post(f"/_control/persons/{person.ssin}/replacement", json={})
        moved = await http.put(f"/_control/persons/{new}/insurer", json={"oaNumber": None})
        unknown = await http.put(
            f"/_control/persons/{population.unknown_ssin}/registrations", json={"regionalServices": []}
        )
        bad = await http.put(f"/_control/persons/{new}/insurer", json={"oa": 100})
        latency = await http.put("/_control/services/dimona", json={"latencyMs": 5})
        reset = await http.post("/_control/reset")
        gone = await http.post("/cbss/nr/v1/persons/query", json={"ssin": new})

    assert replaced.status_code == 200
    assert answer.json()["previousSsins"] == [person.ssin]
    assert old.json()["replacedBy"] == new
    assert again.status_code == 404
    assert moved.status_code == 200
    assert population.persons.get(new) is None  # reset undid it all
    assert unknown.status_code == 404
    assert bad.status_code == 422
    assert latency.json()["latencyMs"]["dimona"] == 5
    assert reset.json()["latencyMs"] == {"default": 0}
    assert gone.status_code == 404

"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from rp_api.simulator.population import Population, SimulatedPerson
from tests.token_factory import TokenFactory


@pytest.fixture
def person(population: Population, tokens: TokenFactory) -> SimulatedPerson:
    """A living person insured with Solidaris (300) and registered with VDAB."""
    vdab = tokens.organisation("VDAB").enterprise_number
    return next(
        p
        for p in population.persons.values()
        if p.oa_number == 300 and any(r == vdab for r, _ in p.registrations) and not p.replaced_by and not p.death_date
    )

"""``rp-api demo`` seeds dossiers with forms in several states, once."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.db import create_sessionmaker
from rp_api.demo import DEMO_FORMS, seed_demo_data, walkthrough_person
from rp_api.simulator.population import Population


async def test_seed_is_idempotent_and_covers_the_states(own_database: URL, population: Population) -> None:
    registry = OrganisationRegistry.load()
    engine = create_async_engine(own_database)
    sessionmaker = create_sessionmaker(engine)
    assert await seed_demo_data(sessionmaker, population, registry) == len(DEMO_FORMS)
    assert await seed_demo_data(sessionmaker, population, registry) == 0
    async with engine.connect() as connection:
        states = set((await connection.execute(text("SELECT status FROM registration_form"))).scalars())
        walkthrough = walkthrough_person(population, registry).ssin
        seeded_for_walkthrough = await connection.scalar(
            text("SELECT count(*) FROM dossier WHERE ssin = :ssin"), {"ssin": walkthrough}
        )
    await engine.dispose()
    assert states == {str(status) for _, status, _ in DEMO_FORMS}
    assert seeded_for_walkthrough == 0  # the newcomer's walkthrough starts from an empty dossier

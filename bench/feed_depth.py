"""Change-feed pages at depth: a page of 100 read 100,000 events into an organisation's feed against its first page.

    .venv/bin/python bench/feed_depth.py [--depth 100000] [--rounds 15] [--explain]

Starts the embedded PostgreSQL (temporary directory), migrates, and seeds with SQL (``generate_series``) the feed of
one regional service (VDAB): ``--depth`` + 100 events, one per transaction id as the service writes them (the
cluster's transaction ids are first moved on so that each event has an id of a transaction committed before the
reads), on the dossiers of 100 persons of the simulated population (size ``--population``) whom the simulator
registers with VDAB, so that every line is granted. Another regional service gets as many events on the same
transactions (the index holds more than one organisation). Persons' links come from the simulator (in process,
no latency) through the real link resolver, and are warm (this process's memory level, after a first read).

Each measure is the median time of a page of 100 read through the real service code (``services.events.page``:
the feed query, the dossiers' persons, every line's person re-checked with the caller's current links, one audit
record per person, appended in the same transaction, committed):
- first page: ``after=0``;
- deep page: the page after the ``--depth``-th event.
The feed query alone is timed too (first and deep), and ``--explain`` prints the deep query's plan
(``EXPLAIN (ANALYZE, BUFFERS)``). Target: deep ≤ 1.5 × first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from list_pages import Reader, database, machine, medians, organisation, principal, write_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rp_api.authz.links import LinkResolver
from rp_api.clients import Upstreams
from rp_api.cursors import encode
from rp_api.domain.actors import Role
from rp_api.repositories import feed
from rp_api.services import events
from rp_api.settings import SimulatorSettings, UpstreamSettings
from rp_api.simulator.app import create_simulator_app
from rp_api.simulator.population import build_population

PAGE = 100
PERSONS = 100
TARGET = 1.5
SIMULATOR = "http://simulator.bench"

DOSSIERS = """
INSERT INTO dossier (id, ssin, status, version, created_at, updated_at)
SELECT gen_random_uuid(), ssin, 'active', 1, now(), now() FROM unnest(CAST(:ssins AS text[])) AS ssin
"""
MOVE_ON = """
DO $$
BEGIN
    FOR i IN 1..{count} LOOP
        PERFORM pg_current_xact_id();
        COMMIT;
    END LOOP;
END $$
"""
"""Spends ``count`` transaction ids, one committed transaction each (the events are given those ids)."""
EVENTS = """
INSERT INTO feed_event (xid, organisation, kind, medical, dossier_id, resource_id, occurred_at)
SELECT CAST(CAST(CAST(:first AS bigint) + i AS text) AS xid8), organisation, 'requestChanged', false,
       dossiers.ids[1 + i % cardinality(dossiers.ids)], gen_random_uuid(), now()
FROM generate_series(0, :events - 1) AS i,
     unnest(CAST(:organisations AS text[])) AS organisation,
     (SELECT array_agg(id ORDER BY ssin) AS ids FROM dossier) AS dossiers
ORDER BY i, organisation
"""
"""Event i of each organisation: transaction ``first + i``, the dossier of person ``i mod 100`` (a page of 100
consecutive events names 100 persons)."""


async def run(depth: int, rounds: int, population_size: int, explain: bool) -> dict[str, Any]:
    async with database() as engine:
        vdab, forem = organisation("VDAB"), organisation("Le Forem")
        population = build_population(population_size)
        persons = [
            p
            for p in population.persons.values()
            if any(service == vdab.enterprise_number for service, _ in p.registrations)
            and not p.death_date
            and not p.replaced_by
        ][:PERSONS]
        if len(persons) < PERSONS:
            raise SystemExit(f"the population of {population_size} has {len(persons)} persons registered with VDAB")
        count = depth + PAGE

        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("SET synchronous_commit = off"))
            first = int(await autocommit.scalar(text("SELECT pg_current_xact_id()::text")) or 0) + 1
            await autocommit.execute(text(MOVE_ON.format(count=int(count))))
        async with engine.begin() as connection:
            await connection.execute(text(DOSSIERS), {"ssins": [p.ssin for p in persons]})
            await connection.execute(
                text(EVENTS),
                {"first": first, "events": count, "organisations": [vdab.enterprise_number, forem.enterprise_number]},
            )
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE feed_event"))
            await autocommit.execute(text("VACUUM ANALYZE dossier"))
            await autocommit.execute(text("CHECKPOINT"))
            deep_row = (
                await autocommit.execute(
                    text(
                        "SELECT xid::text AS xid, seq FROM feed_event WHERE organisation = :org"
                        " ORDER BY xid, seq OFFSET :offset LIMIT 1"
                    ),
                    {"org": vdab.enterprise_number, "offset": depth - 1},
                )
            ).one()
        deep_position = (int(deep_row.xid), int(deep_row.seq))
        deep_cursor = encode(*deep_position)

        simulator = create_simulator_app(SimulatorSettings(population_size=population_size), population)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator)) as http:
            resolver = LinkResolver(
                Upstreams.build(http, UpstreamSettings().with_base(SIMULATOR)),
                async_sessionmaker(engine),
                ttl_s=86_400,
            )
            reader = Reader(engine, principal(vdab, Role.REFERENCE_ADVISOR), resolver)

            async def page(after: str) -> float:
                started = time.perf_counter()
                read = await reader(
                    lambda session, guard: events.page(
                        session, guard, after, limit=PAGE, self_link=f"/rp/v1/events?after={after}"
                    )
                )
                assert len(read.items) == PAGE, len(read.items)  # every line granted
                return time.perf_counter() - started

            async def query(position: tuple[int, int]) -> float:
                async with AsyncSession(engine) as session, session.begin():
                    started = time.perf_counter()
                    found = await feed.after(session, vdab.enterprise_number, position, limit=PAGE, medical=False)
                    elapsed = time.perf_counter() - started
                assert len(found) == PAGE
                return elapsed

            # two warm-ups each: the persons' links come into memory, the plans are cached
            seconds = await medians(
                {
                    "first page": lambda: page(events.START),
                    "deep page": lambda: page(deep_cursor),
                    "first page, query only": lambda: query((0, 0)),
                    "deep page, query only": lambda: query(deep_position),
                },
                rounds,
                warm_ups=2,
            )

        plan: list[str] = []
        if explain:
            async with AsyncSession(engine) as session, session.begin():
                result = await session.execute(
                    text("EXPLAIN (ANALYZE, BUFFERS) " + feed._AFTER),
                    {
                        "organisation": vdab.enterprise_number,
                        "xid": str(deep_position[0]),
                        "seq": deep_position[1],
                        "medical": False,
                        "limit": PAGE,
                    },
                )
                plan = [row[0] for row in result]
        async with engine.connect() as connection:
            total = await connection.scalar(text("SELECT count(*) FROM feed_event"))
    return {
        "seconds": seconds,
        "events": int(total or 0),
        "plan": plan,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=100_000, help="events before the deep page (default 100,000)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--population", type=int, default=600, help="simulated persons (≥ 100 registered with VDAB)")
    parser.add_argument("--explain", action="store_true", help="print the deep query's plan")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "feed_depth.json")
    args = parser.parse_args()
    if args.depth < PAGE:
        parser.error(f"--depth is at least {PAGE}")
    results = asyncio.run(run(args.depth, args.rounds, args.population, args.explain))
    seconds = results["seconds"]
    ratio = seconds["deep page"] / seconds["first page"]
    query_ratio = seconds["deep page, query only"] / seconds["first page, query only"]
    print(f"{machine()}, {results['events']} feed events (2 organisations), pages of {PAGE} at depth {args.depth}")
    for name, value in seconds.items():
        print(f"{name:<24} {value * 1000:8.2f} ms")
    print(f"depth cost: {ratio:.2f} × (target ≤ {TARGET})   query alone: {query_ratio:.2f} ×")
    if results["plan"]:
        print("\n".join(["deep query plan:", *results["plan"]]))
    write_json(
        args.output,
        {
            "ms": {name: round(value * 1000, 3) for name, value in seconds.items()},
            "depth": args.depth,
            "events": results["events"],
            "depthRatio": ratio,
            "queryDepthRatio": query_ratio,
            "plan": results["plan"],
        },
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

"""Cold access decisions against their critical path, with 50 ms of simulated latency per source.

    .venv/bin/python bench/cold_decision.py [--persons 30] [--latency-ms 50]

Starts the embedded PostgreSQL (temporary data directory) and the source simulator over loopback HTTP. The
baseline, measured in the same run, is one bare round trip to the simulator. A cold decision (nothing cached)
resolves the person's links through the real clients and cache, then decides; its critical path is one round trip
for insurers and regional services and two for prevention services (Dimona, then SEED-Connect). Target: median
cold decision ≤ 1.3 × critical path. Then 50 concurrent cold decisions for one person must make exactly one call
per source.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import embedded, migrate
from rp_api.authz.links import LinkResolver
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.clients import Upstreams
from rp_api.db import create_sessionmaker
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.policy import Action, Caller, decide
from rp_api.settings import SimulatorSettings, UpstreamSettings, as_asyncpg_url
from rp_api.simulator.app import create_simulator_app
from rp_api.simulator.population import build_population

TARGET = 1.3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run(persons: int, latency_ms: int) -> dict[str, object]:
    server = embedded.start_embedded(Path(tempfile.mkdtemp(prefix="rp-bench-")) / "pgdata")
    url = as_asyncpg_url(server.url)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_async_engine(url, pool_size=60, max_overflow=0)

    population = build_population()
    port = free_port()
    simulator_app = create_simulator_app(SimulatorSettings(latency_ms=latency_ms), population)
    state = simulator_app.state.simulator
    simulator = uvicorn.Server(uvicorn.Config(simulator_app, port=port, log_level="warning", access_log=False))
    serving = asyncio.ensure_future(simulator.serve())
    while not simulator.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)

    registry = OrganisationRegistry.load()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits) as http:
        upstreams = Upstreams.build(http, UpstreamSettings(timeout_s=5).with_base(f"http://127.0.0.1:{port}"))
        resolver = LinkResolver(upstreams, create_sessionmaker(engine), ttl_s=86_400)

        # Baseline: one bare round trip to a source (same latency, same loopback, same HTTP client).
        base_url = f"http://127.0.0.1:{port}/cbss/nr/v1/persons/query"
        some = next(iter(population.persons))
        for _ in range(3):
            await http.post(base_url, json={"ssin": some})
        trips = []
        for _ in range(20):
            started = time.perf_counter()
            await http.post(base_url, json={"ssin": some})
            trips.append(time.perf_counter() - started)
        round_trip = statistics.median(trips)

        def caller(organisation_type: OrganisationType) -> Caller:
            organisation = next(o for o in registry if o.type is organisation_type and o.oa_number != 600)
            return Caller(
                organisation.type,
                organisation.enterprise_number,
                organisation.oa_number,
                frozenset({Role.ADMINISTRATIVE}),
            )

        cold = [p for p in population.persons.values() if p.employers and not p.replaced_by]

        async def empty_cache() -> None:
            resolver.forget()  # both levels: this process's memory and PostgreSQL
            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM person_link_cache"))

        results: dict[str, object] = {"roundTripMs": round(round_trip * 1000, 2)}
        offset = 0
        for organisation_type, round_trips in (
            (OrganisationType.INSURER, 1),
            (OrganisationType.REGIONAL_SERVICE, 1),
            (OrganisationType.PREVENTION_SERVICE, 2),
        ):
            who = caller(organisation_type)
            timings = []
            for person in cold[offset : offset + persons]:
                await empty_cache()  # employers are shared by persons: a cold decision finds nothing cached
                started = time.perf_counter()
                links = await resolver.resolve(person.ssin, organisation_type, trace_id=None)
                decide(who, Action.CONSULT_DOSSIER, links)
                timings.append(time.perf_counter() - started)
            offset += persons
            median = statistics.median(timings)
            results[str(organisation_type)] = {
                "roundTrips": round_trips,
                "medianMs": round(median * 1000, 2),
                "p95Ms": round(sorted(timings)[int(len(timings) * 0.95) - 1] * 1000, 2),
                "ratio": round(median / (round_trips * round_trip), 3),
            }

        # Single flight: 50 concurrent cold decisions for one person with two employers.
        target = next(p for p in cold[offset:] if len(p.employers) == 2)
        await empty_cache()
        state.calls.clear()
        await asyncio.gather(
            *(resolver.resolve(target.ssin, OrganisationType.PREVENTION_SERVICE, trace_id=None) for _ in range(50))
        )
        results["concurrent50"] = dict(state.calls)

    simulator.should_exit = True
    await serving
    await engine.dispose()
    server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=30)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "cold_decision.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.persons, args.latency_ms))

    print(f"machine: {platform.machine()}, CPython {platform.python_version()}, latency {args.latency_ms} ms")
    print(f"baseline: one bare round trip {results['roundTripMs']} ms")
    print(f"{'caller':<18} {'trips':>5} {'median ms':>10} {'p95 ms':>8} {'× path':>7}  target")
    missed = False
    for name in ("insurer", "regionalService", "preventionService"):
        row = results[name]
        assert isinstance(row, dict)
        ok = row["ratio"] <= TARGET
        missed |= not ok
        print(
            f"{name:<18} {row['roundTrips']:>5} {row['medianMs']:>10} {row['p95Ms']:>8} {row['ratio']:>7}"
            f"  ≤ {TARGET} {'ok' if ok else 'MISSED'}"
        )
    calls = results["concurrent50"]
    print(f"50 concurrent cold decisions for one person (2 employers): calls per source {calls}")
    assert isinstance(calls, dict)
    single = calls.get("nationalRegister") == 1 and calls.get("dimona") == 1 and calls.get("seedConnect") == 2
    missed |= not single
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

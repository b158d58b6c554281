"""Performance as the data grows: the scenarios users hit, at two sizes in one run, ratios of the large to the small.

    .venv/bin/python bench/data_growth.py [--sizes 10000,1000000] [--rounds 7] [--rebuild] [--root DIR]
                                          [--large-table 100000] [--no-explain]

For each size (dossiers; 20 audit records and one feed event each) the database of ``bench/seed_scale.py`` (built,
or reused when it matches: see there), on one embedded PostgreSQL server; the simulated sources (its population,
no latency); and, per size, API RP as ``rp-api serve --workers 1`` on that database (runtime role, keyed audit log,
24 h link cache, production logging). The scenarios, each read through HTTP by one sequential client, the sizes
in turn within each round (the order alternating from round to round), so that the machine's drift hits both:
- warm dossier GET (a CM coordinator, rotating over 50 dossiers of persons insured by CM);
- a work-list page (``POST /requests/query``, 100 lines, VDAB's reference advisor, its oldest changes);
- a feed page at depth (``GET /events``, 100 events, VDAB's feed after half of it);
- a decision-list page (``GET /decisions?week=…``, 100 lines, VDAB's list manager) and the same page as CSV
  (``Accept: text/csv``), the week's first lines;
- an auditor's query of one person's accesses over a year (INAMI's auditor, ``POST /auditEvents/query``, rotating
  over 50 persons drawn anew each run, about 10 records each);
Every page's lines are persons the sources link to the caller (each one re-checked and recorded, as always).
Then the audit append cost, in this process as the runtime role (``repositories.audit.append``: one record, and
a page's 100), the sizes in turn, the indexes of this month's partition held in shared buffers first (see
:func:`prewarm_appends`); and the resident memory of each API process (``VmRSS``).

Last, unless ``--no-explain``: the plans. Each API is started again with ``auto_explain`` on its runtime role
(``log_analyze``, ``log_buffers``, nested statements: the SQL the services issue, whichever way they issue it,
and the statements of ``rp_audit_append``), each scenario is run once, and every statement's plan is read back
from the server's JSON log and printed; a sequential scan of a relation of ``--large-table`` rows or more fails
the run.

Targets (exit 1 when one is missed), the largest size against the smallest: GET, work-list, feed and decision-list
pages (JSON and CSV) p50 ≤ 1.2 ×, the yearly audit query p50 ≤ 1.5 ×, the audit append within 10 % (≤ 1.1 ×),
the API's resident memory ≤ 1.5 ×, no sequential scan of a large table. Results: a table on stdout, JSON in
``--output``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import seed_scale  # noqa: E402
from http_load import Service, api_env, free_port, services, start  # noqa: E402

from rp_api import cursors  # noqa: E402
from rp_api.audit_keys import load_keyring  # noqa: E402
from rp_api.authz.dev_issuer import DevIssuer  # noqa: E402
from rp_api.authz.organisations import OrganisationRegistry  # noqa: E402
from rp_api.demo import demo_user_ssin  # noqa: E402
from rp_api.domain.actors import Role  # noqa: E402
from rp_api.domain.audit import AuditRecord  # noqa: E402

TARGETS = {
    "dossier GET": 1.2,
    "work-list page": 1.2,
    "feed page at depth": 1.2,
    "decision-list page": 1.2,
    "decision-list CSV": 1.2,
    "auditor's yearly query": 1.5,
}
APPEND_TARGET = 1.1
MEMORY_TARGET = 1.5
PER_ROUND = {
    "dossier GET": 60,
    "work-list page": 8,
    "feed page at depth": 8,
    "decision-list page": 8,
    "decision-list CSV": 8,
    "auditor's yearly query": 20,
}
"""Calls per round of each scenario, per size (a list page appends 100 audit records: a run adds some 25,000 to
each database, which is why the small one is built again at the next run)."""
TOKEN_LIFETIME_S = 6 * 3600
WARM_UPS = 10
"""Rounds of appends not counted."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None
    accept: str = "application/json"


@dataclass(frozen=True)
class Scenario:
    name: str
    calls: list[Call]
    lines: int | None
    """The lines every answer has (None: not checked)."""
    count: Callable[[httpx.Response], int]


def _items(response: httpx.Response) -> int:
    return len(response.json()["items"])


def _csv_lines(response: httpx.Response) -> int:
    return len(response.text.strip().splitlines()) - 1


RUN_SEED = int(time.time())
"""Which persons this run's auditor asks about: new ones every run, since each query is recorded in the person's
own log (the large database is reused from run to run: asking about the same persons would make their year
longer and longer)."""


def auditees(db: seed_scale.ScaleDatabase) -> list[str]:
    """Fifty persons outside the reference ones (about ten records each a year), drawn for this run."""
    first = db.page + len(db.gets)
    rng = random.Random(RUN_SEED + db.dossiers)
    return [seed_scale.filler_ssin(rng.randrange(first, db.dossiers)) for _ in range(50)]


def scenarios(db: seed_scale.ScaleDatabase, tokens: dict[str, str], today: date) -> list[Scenario]:
    year = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat(), "pageSize": 100}
    decisions = f"/rp/v1/decisions?week={db.week}&pageSize={db.page}"
    after = cursors.encode(*db.feed_after)
    return [
        Scenario(
            "dossier GET",
            [Call("GET", f"/rp/v1/dossiers/{dossier}", tokens["coordinator"]) for dossier in db.gets],
            None,
            lambda response: 1,
        ),
        Scenario(
            "work-list page",
            [Call("POST", "/rp/v1/requests/query", tokens["advisor"], {"pageSize": db.page})],
            db.page,
            _items,
        ),
        Scenario(
            "feed page at depth",
            [Call("GET", f"/rp/v1/events?after={after}&limit={db.feed_page}", tokens["advisor"])],
            db.feed_page,
            _items,
        ),
        Scenario("decision-list page", [Call("GET", decisions, tokens["list manager"])], db.page, _items),
        Scenario(
            "decision-list CSV",
            [Call("GET", decisions, tokens["list manager"], accept="text/csv")],
            db.page,
            _csv_lines,
        ),
        Scenario(
            "auditor's yearly query",
            [
                Call("POST", "/rp/v1/auditEvents/query", tokens["auditor"], {"ssin": ssin, **year})
                for ssin in auditees(db)
            ],
            None,
            _items,
        ),
    ]


def call(http: httpx.Client, one: Call) -> httpx.Response:
    headers = {"Authorization": f"Bearer {one.token}", "Accept": one.accept}
    if one.body is None:
        return http.request(one.method, one.path, headers=headers)
    headers["Content-Type"] = "application/json"
    return http.request(one.method, one.path, headers=headers, content=orjson.dumps(one.body))


def run_calls(http: httpx.Client, scenario: Scenario, start_at: int, count: int) -> tuple[list[float], int]:
    """``count`` calls of the scenario, its calls in turn from ``start_at``; each one's seconds, and the fewest lines
    an answer had."""
    seconds, fewest = [], sys.maxsize
    for n in range(count):
        one = scenario.calls[(start_at + n) % len(scenario.calls)]
        began = time.perf_counter()
        response = call(http, one)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise SystemExit(f"data_growth: {scenario.name}: {one.method} {one.path} answered {response.status_code}")
        seconds.append(elapsed)
        fewest = min(fewest, scenario.count(response))
    return seconds, fewest


def tokens_for(root: Path) -> dict[str, str]:
    registry = OrganisationRegistry.load()
    issuer = DevIssuer.in_data_dir(root / "data")

    def mint(name: str, role: Role) -> str:
        organisation = registry.find(name)
        assert organisation is not None
        return issuer.mint(
            organisation, [role], user_ssin=demo_user_ssin(organisation, role), lifetime_s=TOKEN_LIFETIME_S
        )

    return {
        "coordinator": mint("CM", Role.RETURN_TO_WORK_COORDINATOR),
        "advisor": mint("VDAB", Role.REFERENCE_ADVISOR),
        "list manager": mint("VDAB", Role.LIST_MANAGER),
        "auditor": mint("INAMI", Role.AUDITOR),
    }


def rss_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now and at its peak (``/proc/<pid>/status``), KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


@contextlib.contextmanager
def apis(
    started: list[Service], work: Path, dbs: dict[int, seed_scale.ScaleDatabase], root: Path, simulator: str, tag: str
) -> Iterator[dict[int, Service]]:
    """An API process per size (``rp-api serve --workers 1``), stopped when the block ends."""
    python_bin = Path(sys.executable).parent
    found = {}
    for size, db in dbs.items():
        port = free_port()
        env = api_env(db.runtime_url(), root / "data", port, simulator, 86_400)
        env["RP_AUDIT_CHECKPOINT_FILE"] = str(seed_scale.checkpoints_file(root, db.name))
        found[size] = start(
            started,
            work,
            f"api-{tag}-{size}",
            [str(python_bin / "rp-api"), "serve", "--workers", "1"],
            env,
            port,
            "/health",
        )
    try:
        yield found
    finally:
        for service in found.values():
            service.process.terminate()
        for service in found.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=20)
            started.remove(service)


def measure(
    clients: dict[int, httpx.Client], plans: dict[int, list[Scenario]], rounds: int, per_round: dict[str, int]
) -> dict[str, dict[int, list[float]]]:
    """Every scenario, the sizes in turn (alternating which comes first), ``rounds`` times."""
    sizes = sorted(clients)
    samples: dict[str, dict[int, list[float]]] = {s.name: {size: [] for size in sizes} for s in plans[sizes[0]]}
    for round_number in range(rounds):
        order = sizes if round_number % 2 == 0 else list(reversed(sizes))
        for index, name in enumerate(samples):
            for size in order:
                scenario = plans[size][index]
                seconds, _ = run_calls(clients[size], scenario, round_number * per_round[name], per_round[name])
                samples[name][size] += seconds
        print(f"  round {round_number + 1}/{rounds} done", file=sys.stderr, flush=True)
    return samples


def warm(clients: dict[int, httpx.Client], plans: dict[int, list[Scenario]]) -> dict[str, dict[int, int]]:
    """Each scenario's calls once at each size (the links of every person come into memory), then checked: each
    answer has the lines expected."""
    lines: dict[str, dict[int, int]] = {}
    for size, client in clients.items():
        for scenario in plans[size]:
            run_calls(client, scenario, 0, len(scenario.calls))
            _, fewest = run_calls(client, scenario, 0, len(scenario.calls))
            if scenario.lines is not None and fewest != scenario.lines:
                raise SystemExit(f"data_growth: {scenario.name} at {size}: {fewest} lines, {scenario.lines} expected")
            lines.setdefault(scenario.name, {})[size] = fewest
    return lines


# --- the audit append ---------------------------------------------------------------------------------------------


async def prewarm_appends(server_url: str, dbs: dict[int, seed_scale.ScaleDatabase]) -> dict[int, int]:
    """The indexes of this month's audit partition in shared buffers (``pg_prewarm``, installed in schema
    ``bench``), as they are in a service that appends to them all day: a database just built, or a server just
    started, would otherwise read their pages from the operating system's cache at the first appends, and those
    of the large database are many (its person index: a leaf page for nearly every record). Pages read, per size."""
    found = {}
    for size, db in dbs.items():
        connection = await seed_scale._connect(server_url, db.name)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA bench")
            partition = f"audit_event_{datetime.now(UTC):%Y_%m}"
            found[size] = int(
                await connection.fetchval(
                    "SELECT coalesce(sum(bench.pg_prewarm(i.indexrelid)), 0) FROM pg_index i "
                    "WHERE i.indrelid = to_regclass($1)",
                    f"public.{partition}",
                )
            )
        finally:
            await connection.close()
    return found


def append_costs(server_url: str, dbs: dict[int, seed_scale.ScaleDatabase], root: Path, rounds: int) -> dict[str, Any]:
    """Median µs of ``repositories.audit.append`` (the statement, in the caller's transaction, then committed) of
    one record and of a page's 100, as the runtime role, the sizes in turn, in the steady state of a service that
    appends all day.

    That state: the month's audit indexes in shared buffers (:func:`prewarm_appends`), and their pages already
    written to the WAL since the last checkpoint. The first change of a page after a checkpoint writes the whole
    page to the WAL (a full-page image), and the records name persons at random: right after a checkpoint nearly
    every record of the large database lands on a person-index page not yet changed (some 4,400 leaf pages in a
    month of 830,000 records; 40 in the small one's), and costs an image (measured: 59 images and 500 kB of WAL
    for 101 records, against 1.6 and 86 kB). A service appending all day pays each page's image once per
    checkpoint interval, not once per record. So: a CHECKPOINT, then warm-up rounds appending three records per
    leaf page of the largest month's person index (at every size alike), then the measured rounds; the full-page
    images written during those are counted and reported."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from rp_api.repositories import audit as audit_repository
    from rp_api.settings import as_asyncpg_url

    keyring = load_keyring(seed_scale.bench_settings(root))
    registry = OrganisationRegistry.load()
    vdab = registry.find("VDAB")
    assert vdab is not None
    rng = random.Random(26060)
    partition = f"audit_event_{datetime.now(UTC):%Y_%m}"

    def records(db: seed_scale.ScaleDatabase, count: int) -> list[AuditRecord]:
        """A page's worth of records naming persons at random, as a list page's would (the person index of the
        month takes them all over its pages), none of those the auditor's queries ask about."""
        asked, ssins = set(auditees(db)), []
        while len(ssins) < count:
            person = rng.randrange(db.dossiers)
            if seed_scale.filler_ssin(person) not in asked:
                ssins.append((person, seed_scale.filler_ssin(person)))
        return [
            AuditRecord(
                trace_id="bench-append",
                user_ssin=demo_user_ssin(vdab, Role.REFERENCE_ADVISOR),
                organisation=vdab.enterprise_number,
                organisation_type=str(vdab.type),
                roles=("referenceAdvisor",),
                operation="queryRequests",
                resource_type="request",
                resource_id=seed_scale.uuid_of("r", person),
                person_ssin=ssin,
                outcome="permit",
                reason="regionalRegistration",
                legal_basis="CSI/CSSS 26/060",
                status=200,
            )
            for person, ssin in ssins
        ]

    async def server(statement: str, *args: Any) -> Any:
        connection = await seed_scale._connect(server_url, dbs[max(dbs)].name)
        try:
            return await connection.fetchval(statement, *args)
        finally:
            await connection.close()

    async def run() -> dict[str, Any]:
        engines = {size: create_async_engine(as_asyncpg_url(db.runtime_url())) for size, db in dbs.items()}
        samples: dict[str, dict[int, list[float]]] = {"1 record": {}, "100 records": {}}
        leaves = int(
            await server(
                "SELECT coalesce(max(pg_relation_size(i.indexrelid)), 0) / 8192 FROM pg_index i "
                "WHERE i.indrelid = to_regclass($1)",
                f"public.{partition}",
            )
        )
        warm_ups = max(WARM_UPS, 3 * leaves // 100)
        await server("CHECKPOINT")
        images = 0
        try:
            for round_number in range(warm_ups + rounds):
                if round_number == warm_ups:
                    images = int(await server("SELECT wal_fpi FROM pg_stat_wal"))
                order = sorted(dbs) if round_number % 2 == 0 else sorted(dbs, reverse=True)
                for label, count in (("1 record", 1), ("100 records", 100)):
                    for size in order:
                        async with AsyncSession(engines[size]) as session, session.begin():
                            batch = records(dbs[size], count)
                            began = time.perf_counter()
                            await audit_repository.append(session, batch, keyring=keyring)
                            elapsed = time.perf_counter() - began
                        if round_number >= warm_ups:
                            samples[label].setdefault(size, []).append(elapsed)
            images = int(await server("SELECT wal_fpi FROM pg_stat_wal")) - images
        finally:
            for engine in engines.values():
                await engine.dispose()
        return {
            "medianUs": {
                label: {size: round(statistics.median(values) * 1e6, 1) for size, values in by_size.items()}
                for label, by_size in samples.items()
            },
            "warmUpRounds": warm_ups,
            "measuredRounds": rounds,
            "fullPageImagesPerMeasuredRound": round(images / max(rounds, 1), 2),
        }

    return asyncio.run(run())


# --- the plans ----------------------------------------------------------------------------------------------------

AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_format": "json",
}


async def _explained(server_url: str, dbs: dict[int, seed_scale.ScaleDatabase], on: bool) -> None:
    runtime = seed_scale.migrate.Roles().runtime
    for db in dbs.values():
        connection = await seed_scale._connect(server_url, db.name)
        try:
            for name, value in AUTO_EXPLAIN.items():
                statement = f"ALTER ROLE {runtime} IN DATABASE {db.name} "
                statement += f"SET {name} = '{value}'" if on else f"RESET {name}"
                await connection.execute(statement)
        finally:
            await connection.close()


@dataclass
class Statement:
    scenario: str
    size: int
    query: str
    plan: dict[str, Any]


def read_plans(log_dir: Path, since: float, windows: list[tuple[str, int, str, float, float]]) -> list[Statement]:
    """The plans ``auto_explain`` logged after ``since`` (epoch seconds) in the JSON server log, each given to the
    scenario whose time window (scenario, size, database, start, end) holds it."""
    found = []
    for path in sorted(log_dir.glob("*.json")):
        if path.stat().st_mtime < since:
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            message = entry.get("message", "")
            if not message.startswith("duration:") or "plan:" not in message:
                continue
            at = datetime.strptime(entry["timestamp"][:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
            for scenario, size, database, began, ended in windows:
                if entry.get("dbname") == database and began <= at <= ended:
                    explained = json.loads(message.split("plan:", 1)[1])
                    found.append(Statement(scenario, size, explained.get("Query Text", ""), explained["Plan"]))
                    break
    return found


def render(node: dict[str, Any], depth: int = 0) -> Iterator[str]:
    """A plan node and its children, one line each, as EXPLAIN's text form abridges them."""
    name = node.get("Node Type", "?")
    if node.get("Relation Name"):
        name += f" on {node['Relation Name']}"
    if node.get("Index Name"):
        name += f" using {node['Index Name']}"
    figures = f"rows={node.get('Actual Rows', '?')} loops={node.get('Actual Loops', '?')}"
    if "Actual Total Time" in node:
        figures += f" time={node['Actual Total Time']:.3f}"
    buffers = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
    figures += f" buffers={buffers}"
    condition = node.get("Index Cond") or node.get("Filter") or node.get("Recheck Cond") or ""
    condition = condition if len(condition) <= 160 else condition[:157] + "..."
    yield f"{'  ' * depth}-> {name} ({figures}){f'  {condition}' if condition else ''}"
    for child in node.get("Plans", []):
        yield from render(child, depth + 1)


def sequential_scans(node: dict[str, Any]) -> Iterator[str]:
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name"):
        yield node["Relation Name"]
    for child in node.get("Plans", []):
        yield from sequential_scans(child)


async def relation_rows(server_url: str, database: str) -> dict[str, float]:
    connection = await seed_scale._connect(server_url, database)
    try:
        rows = await connection.fetch(
            "SELECT relname, reltuples FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"
        )
        return {row["relname"]: float(row["reltuples"]) for row in rows}
    finally:
        await connection.close()


def explain_pass(
    started: list[Service],
    work: Path,
    running: Any,
    dbs: dict[int, seed_scale.ScaleDatabase],
    root: Path,
    simulator: str,
    tokens: dict[str, str],
    today: date,
) -> list[Statement]:
    """Each scenario once more at each size on an API whose runtime role has ``auto_explain`` on; the plans."""
    asyncio.run(_explained(running.url, dbs, on=True))
    windows: list[tuple[str, int, str, float, float]] = []
    since = time.time() - 1
    try:
        with apis(started, work, dbs, root, simulator, "explain") as explained:
            for size, service in explained.items():
                with httpx.Client(base_url=service.base, timeout=60) as http:
                    for scenario in scenarios(dbs[size], tokens, today):
                        run_calls(http, scenario, 0, 1)  # its links into this process's memory
                        time.sleep(0.3)
                        began = time.time()
                        run_calls(http, scenario, 0, 1)
                        time.sleep(0.3)
                        windows.append((scenario.name, size, dbs[size].name, began - 0.05, time.time()))
    finally:
        asyncio.run(_explained(running.url, dbs, on=False))
    time.sleep(1.5)  # the logging collector writes behind
    return read_plans(seed_scale.pg_log_dir(root), since, windows)


# --- the run ------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    root: Path = args.root
    running = seed_scale.server(root)
    dbs = {
        size: seed_scale.build(running, size, root=root, rebuild=args.rebuild, workers=args.workers)
        for size in args.sizes
    }
    work = root / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    work.mkdir(parents=True)
    tokens = tokens_for(root)
    today = datetime.now(UTC).date()
    report: dict[str, Any] = {"databases": {size: db.stored() | {"reused": db.reused} for size, db in dbs.items()}}
    python_bin = Path(sys.executable).parent
    with services(work) as started:
        port = free_port()
        simulator = start(
            started,
            work,
            "simulator",
            [str(python_bin / "rp-api"), "simulator"],
            {"RP_SIMULATOR__PORT": str(port), "RP_SIMULATOR__POPULATION_SIZE": str(seed_scale.POPULATION)},
            port,
            "/_control/services",
        )
        plans = {size: scenarios(db, tokens, today) for size, db in dbs.items()}
        asyncio.run(_explained(running.url, dbs, on=False))  # a run that was killed during its explain pass
        with apis(started, work, dbs, root, simulator.base, "measured") as served:
            clients = {size: httpx.Client(base_url=s.base, timeout=60) for size, s in served.items()}
            try:
                report["prewarmed"] = asyncio.run(prewarm_appends(running.url, dbs))
                report["lines"] = warm(clients, plans)
                load_before = os.getloadavg()
                per_round = {name: max(1, round(count * args.calls)) for name, count in PER_ROUND.items()}
                samples = measure(clients, plans, args.rounds, per_round)
                report["append"] = append_costs(running.url, dbs, root, args.append_rounds)
                load_after = os.getloadavg()
                report["memory"] = {size: rss_kib(service.process.pid) for size, service in served.items()}
            finally:
                for client in clients.values():
                    client.close()
        report["scenarios"] = {
            name: {
                size: {
                    "p50Ms": round(statistics.median(values) * 1000, 2),
                    "p90Ms": round(statistics.quantiles(values, n=10)[-1] * 1000, 2) if len(values) > 1 else None,
                    "calls": len(values),
                }
                for size, values in by_size.items()
            }
            for name, by_size in samples.items()
        }
        report["load"] = {"before": load_before, "after": load_after}
        if args.explain:
            statements = explain_pass(started, work, running, dbs, root, simulator.base, tokens, today)
            rows = {size: asyncio.run(relation_rows(running.url, db.name)) for size, db in dbs.items()}
            report["plans"] = [
                {
                    "scenario": s.scenario,
                    "size": s.size,
                    "query": " ".join(s.query.split())[:400],
                    "plan": list(render(s.plan)),
                    "largeSequentialScans": [
                        relation
                        for relation in sequential_scans(s.plan)
                        if rows[s.size].get(relation, 0) >= args.large_table
                    ],
                }
                for s in statements
            ]
    report["work"] = str(work)
    return report


def summarise(report: dict[str, Any], sizes: list[int]) -> tuple[list[str], dict[str, bool]]:
    small, large = sizes[0], sizes[-1]
    lines = [
        f"| scenario | p50 ms at {small:,} | p50 ms at {large:,} | ratio | p90 ms at {small:,} "
        f"| p90 ms at {large:,} | target |"
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    targets: dict[str, bool] = {}
    for name, by_size in report["scenarios"].items():
        a, b = by_size[small], by_size[large]
        ratio = b["p50Ms"] / a["p50Ms"]
        target = TARGETS[name]
        if large != small:
            targets[f"{name} p50 ≤ {target} ×"] = ratio <= target
        lines.append(
            f"| {name} | {a['p50Ms']:.2f} | {b['p50Ms']:.2f} | {ratio:.2f} × | {a['p90Ms']} | {b['p90Ms']} "
            f"| ≤ {target} × |"
        )
    for label, by_size in report["append"]["medianUs"].items():
        ratio = by_size[large] / by_size[small]
        if large != small:
            targets[f"audit append ({label}) ≤ {APPEND_TARGET} ×"] = ratio <= APPEND_TARGET
        lines.append(
            f"| audit append, {label} (µs) | {by_size[small]:.0f} µs | {by_size[large]:.0f} µs | {ratio:.2f} × | | "
            f"| ≤ {APPEND_TARGET} × |"
        )
    memory = report["memory"]
    ratio = memory[large]["VmRSS"] / memory[small]["VmRSS"]
    if large != small:
        targets[f"API resident memory ≤ {MEMORY_TARGET} ×"] = ratio <= MEMORY_TARGET
    lines.append(
        f"| API process VmRSS (MiB) | {memory[small]['VmRSS'] / 1024:.0f} | {memory[large]['VmRSS'] / 1024:.0f} "
        f"| {ratio:.2f} × | | | ≤ {MEMORY_TARGET} × |"
    )
    append = report["append"]
    lines.append(
        f"\naudit append: {append['warmUpRounds']} warm-up rounds after a CHECKPOINT, {append['measuredRounds']} "
        f"measured; {append['fullPageImagesPerMeasuredRound']} full-page images a measured round (both sizes)"
    )
    if "plans" in report:
        scans = sorted({(p["size"], r) for p in report["plans"] for r in p["largeSequentialScans"]})
        targets["no sequential scan of a large table"] = not scans
        for size, relation in scans:
            lines.append(f"SEQUENTIAL SCAN of {relation} at {size:,} dossiers")
    return lines, targets


def print_plans(report: dict[str, Any], sizes: list[int]) -> None:
    for size in sizes:
        print(f"\nplans at {size:,} dossiers (auto_explain, one call of each scenario):")
        current = None
        for plan in report["plans"]:
            if plan["size"] != size:
                continue
            if plan["scenario"] != current:
                current = plan["scenario"]
                print(f"\n## {current}")
            print(f"- {plan['query'][:200]}")
            for line in plan["plan"]:
                print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted({int(part) for part in text.split(",")}),
        default=[10_000, 1_000_000],
        help="dossiers, comma-separated (default 10000,1000000); ratios are the largest against the smallest",
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=float, default=1.0, help="a factor on the calls of each round")
    parser.add_argument("--append-rounds", type=int, default=100)
    parser.add_argument("--root", type=Path, default=seed_scale.DEFAULT_ROOT, help="the scale server's directory")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--workers", type=int, default=2, help="processes computing the audit chains")
    parser.add_argument("--large-table", type=int, default=100_000, help="rows from which a table is large")
    parser.add_argument("--explain", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "data_growth.json")
    args = parser.parse_args()
    if min(args.sizes) < 200:
        parser.error("--sizes: at least 200 dossiers")
    report = run(args)
    sizes = args.sizes
    report["machine"] = {
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report["settings"] = {k: str(v) for k, v in vars(args).items() if k != "output"}
    if "plans" in report:
        print_plans(report, sizes)
    lines, targets = summarise(report, sizes)
    report["targets"] = targets
    machine, load = report["machine"], report["load"]
    print(f"\nmachine: {machine['arch']}, {machine['cpus']} cores, CPython {machine['python']}")
    print(f"load average (1, 5, 15 min) before: {load['before']}, after: {load['after']}")
    for db in report["databases"].values():
        how = "reused" if db["reused"] else "built"
        print(
            f"{db['name']}: {db['dossiers']:,} dossiers, {db['audit_records']:,} audit records, "
            f"{db['feed_events']:,} feed events ({how}; built in {db['seconds']:.0f} s)"
        )
    print("\n".join(lines))
    print("\n".join(f"{'met   ' if met else 'MISSED'} {name}" for name, met in targets.items()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

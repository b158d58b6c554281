"""API RP over HTTP against a bare baseline app, driven by the same compiled load generator (wrk).

    .venv/bin/python bench/http_load.py [--duration 10] [--connections 16] [--rows 100000] [--no-micro]
                                        [--workers one|all|both]

Installs wrk from Debian's packages when it is missing (apt-get), starts the embedded PostgreSQL (temporary
directory), two source simulators (no latency; 50 ms), API RP twice with `rp-api serve` (uvicorn, one worker,
production logging): once with the normal 24 h link cache, once with a cache that never holds (every call cold),
and the bare baseline app (`bench/baseline_app.py`: same stack, one primary-key SELECT per request). Each
scenario gets a warm-up run (a fifth of the measured one, 2 s at least), then a measured run of ``--duration``
seconds, wrk with one thread and ``--connections`` connections (one for the cold GET, a latency measure); any
non-2xx answer or socket error fails the run.

All cores (``--workers all``, or ``both``, the default: one worker first, then all cores): API RP with the warm
cache (``rp-api serve --workers N``) and the baseline (``uvicorn --workers N``), N the cores this process may use
(its CPU affinity within its cgroup's quota, what ``rp-api serve`` takes by default), the one-worker processes
stopped first; the baseline, the warm dossier GET and the decision-list pages measured again, wrk as above.

Scenarios: baseline; dossier GET with a warm link cache (insurer coordinator, rotating over ``--persons``
dossiers); dossier GET with a cold cache and 50 ms per source (one worker only); decision-list page of 100 (its
100 audit records included), first page and a page at depth ``--rows``. Targets (exit 1 when one is missed):
- warm dossier GET ≥ 0.5 × the baseline's requests per second, p99 ≤ 3 × the baseline's p99 (one worker each);
- with all cores: warm dossier GET ≥ 0.6 × the baseline's requests per second, p99 ≤ 3 × the baseline's p99, each
  measured on a run whose connections are spread over the workers (tried up to six times; see ``measure``);
- cold dossier GET, median ≤ 1.3 × its critical path: three bare round trips to a source measured in the same run
  (the access decision needs the National Register and MemberData, asked together; then the dossier's
  enrichment, whose longest chains are pseudonym → TRIO and Dimona → SEED-Connect);
- decision list at depth ≤ 1.5 × the first page (median);
- and, unless ``--no-micro``, the targets of the three micro-benchmarks, run as they are (token verification,
  cold decision, decision list with and without audit).
Each table also gives the CPU time the server process (with its workers) and PostgreSQL (its postmaster and
backends) spent per request of a measured run, read from ``/proc``: what a request costs, whatever else the machine
runs; with all cores, the ratio of those costs tells the requests per second a host whose cores are all busy
allows. Results: a table on stdout, JSON in ``--output``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api import cursors, embedded, migrate
from rp_api.audit_keys import load_keyring
from rp_api.authz.dev_issuer import DevIssuer
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.cli import available_cores
from rp_api.demo import demo_user_ssin
from rp_api.domain.actors import Role
from rp_api.settings import Environment, Settings, UpstreamSettings, as_asyncpg_url
from rp_api.simulator.population import build_population

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from baseline_app import CREATE, FILL  # noqa: E402
from decision_list import DECISIONS, SEED  # noqa: E402

COLD_TRIPS = 3
LATENCY_MS = 50
WEEK = "2026-W47"
ALL_CORES_RATE = 0.6
"""With all cores, the warm dossier GET's requests per second against the baseline's, at least."""

SPREAD_ATTEMPTS = 6
STAGGER_S = 0.3
"""Measured runs tried, with several workers, for one whose connections are spread over the workers."""

LUA = """
local paths = {%(paths)s}
local i = 0
wrk.headers["Authorization"] = "%(authorization)s"
wrk.headers["Accept"] = "application/json"
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests": %%d, "durationUs": %%d, "socketErrors": %%d, "non2xx": %%d, "p50Us": %%d, "p99Us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed when missing (as root, or through sudo)."""
    found = shutil.which("wrk")
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, capture_output=True, check=False, env=env).returncode != 0:
        subprocess.run([*prefix, "apt-get", "update", "-q"], capture_output=True, check=True, env=env)
        subprocess.run(install, capture_output=True, check=True, env=env)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("http_load: wrk could not be installed")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    name: str
    base: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def services(work: Path) -> Iterator[list[Service]]:
    """Processes started within the block, stopped (SIGTERM, then SIGKILL) when it ends."""
    started: list[Service] = []
    try:
        yield started
    finally:
        for service in started:
            service.process.terminate()
        for service in started:
            try:
                service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.process.kill()


def start(
    started: list[Service], work: Path, name: str, command: list[str], env: dict[str, str], port: int, ready: str
) -> Service:
    log = (work / f"{name}.log").open("wb")
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
    service = Service(name, f"http://127.0.0.1:{port}", process)
    started.append(service)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"http_load: {name} exited; see {work / (name + '.log')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(service.base + ready, timeout=2).status_code < 500:
                return service
        time.sleep(0.2)
    raise SystemExit(f"http_load: {name} did not start in 60 s")


def wrk(
    binary: str,
    work: Path,
    base: str,
    paths: list[str],
    token: str,
    *,
    duration: int,
    connections: int,
    spread_of: Callable[[], list[int]] | None = None,
    parts: int = 1,
) -> dict[str, Any]:
    """One wrk run; ``parts``: as that many wrk processes, each with its share of the connections, each started
    :data:`STAGGER_S` after the one before (a burst of new connections all goes to the worker awake first; the next
    burst finds it busy); ``spread_of``: called a second into the run (how the connections are spread over the
    workers). Requests per second are summed over the processes, the median weighted by their requests, the p99 the
    highest."""
    script = work / "scenario.lua"
    listed = ", ".join(json.dumps(p) for p in paths)
    script.write_text(LUA % {"paths": listed, "authorization": f"Bearer {token}" if token else ""})
    running = []
    for part in range(parts):
        share = connections // parts + (part < connections % parts)
        if part:
            time.sleep(STAGGER_S)
        command = [binary, "-t1", f"-c{share}", f"-d{duration}s", "--timeout", "10s", "-s", str(script), base]
        running.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    spread = None
    if spread_of is not None:  # once wrk's connections are open
        time.sleep(min(1.0, duration / 2))
        spread = spread_of()
    results: list[dict[str, Any]] = []
    for process in running:
        stdout, stderr = process.communicate()
        if process.returncode:
            raise SystemExit(f"http_load: wrk failed ({process.returncode}): {stderr.strip()}")
        result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
        if result["non2xx"] or result["socketErrors"]:
            raise SystemExit(f"http_load: {base}{paths[0]} answered {result}")
        results.append(result)
    requests = sum(result["requests"] for result in results)
    figures = {
        "requestsPerSecond": round(sum(r["requests"] / (r["durationUs"] / 1e6) for r in results), 1),
        "p50Ms": round(sum(r["p50Us"] * r["requests"] for r in results) / max(requests, 1) / 1000, 2),
        "p99Ms": round(max(r["p99Us"] for r in results) / 1000, 2),
        "requests": requests,
    }
    if spread is not None:
        figures["connectionsPerWorker"] = spread
    return figures


def _processes() -> dict[int, tuple[int, float]]:
    """Every process now: its parent, and the user and system CPU seconds it spent (``/proc/<pid>/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def connections_per_worker(supervisor: int, port: int) -> list[int]:
    """How many established connections to ``port`` each worker process of ``supervisor`` holds, most first (from
    ``/proc``: the workers' socket descriptors against the kernel's TCP tables)."""
    established: set[str] = set()
    listening: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    {"01": established, "0A": listening}.get(fields[3], set()).add(fields[9])
    counts = []
    for child in [pid for pid, (parent, _) in _processes().items() if parent == supervisor]:
        sockets = set()
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{child}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        sockets.add(target[8:-1])
        if sockets & listening:  # a worker (the supervisor's other children hold no listening socket)
            counts.append(len(sockets & established))
    return sorted(counts, reverse=True)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and of every process below it (a supervisor's workers), now."""
    processes = _processes()
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (of, _) in processes.items() if of == parent and child not in family]
        family.update(children)
        frontier += children
    return sum(processes[member][1] for member in family if member in processes)


def measure(
    binary: str,
    work: Path,
    base: str,
    paths: list[str],
    token: str,
    args: argparse.Namespace,
    connections: int,
    pid: int | None = None,
    database_pid: int | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """A warm-up run (at least 2 s: a deep list page's first calls resolve 100 persons the sources were never asked
    about), then the measured one; with ``pid``, the CPU time that process (and its workers) spent per request of
    the measured run (what the machine's other load does not change much); with ``database_pid`` (PostgreSQL's
    postmaster), the CPU time its processes spent per request (both servers share the machine's cores).

    With several ``workers``, the load is as many wrk processes, started one after the other (see :func:`wrk`), and
    the measured run counts only when the connections are spread over the workers (each holds at least half its
    share): the workers accept from one socket, and the first awake takes a whole burst of new connections (seen
    for both servers here with one wrk process: 16 and 0), which measures one worker. It is run again, up to
    :data:`SPREAD_ATTEMPTS` times; the figures say whether they are spread (``spread``) and how."""
    parts = workers if connections >= 2 * workers else 1
    wrk(binary, work, base, paths, token, duration=max(2, args.duration // 5), connections=connections, parts=parts)
    spread_of = None
    if workers > 1 and pid is not None:
        port = int(base.rsplit(":", 1)[1])
        spread_of = lambda: connections_per_worker(pid, port)  # noqa: E731
    for _ in range(SPREAD_ATTEMPTS):
        before = {key: cpu_seconds(p) for key, p in (("server", pid), ("database", database_pid)) if p is not None}
        figures = wrk(
            binary,
            work,
            base,
            paths,
            token,
            duration=args.duration,
            connections=connections,
            spread_of=spread_of,
            parts=parts,
        )
        spread = figures.get("connectionsPerWorker")
        figures["spread"] = spread is None or (len(spread) == workers and min(spread) >= connections // (2 * workers))
        if figures["spread"]:
            break
    for key, p in (("server", pid), ("database", database_pid)):
        if p is not None and figures["requests"]:
            spent = cpu_seconds(p) - before[key]
            figures[f"{key}CpuMsPerRequest"] = round(spent * 1000 / figures["requests"], 3)
    return {**figures, "connections": connections}


def bare_round_trip(base: str, ssin: str) -> float:
    """Median of 20 sequential bare queries to one simulated source (seconds)."""
    with httpx.Client() as http:
        url = f"{base}/cbss/nr/v1/persons/query"
        for _ in range(3):
            http.post(url, json={"ssin": ssin})
        trips = []
        for _ in range(20):
            started = time.perf_counter()
            http.post(url, json={"ssin": ssin})
            trips.append(time.perf_counter() - started)
    return statistics.median(trips)


def micro_benchmarks(work: Path) -> dict[str, Any]:
    """The three earlier benchmarks, each with its own baseline and targets, run as they are."""
    found: dict[str, Any] = {}
    for script in ("token_verification", "cold_decision", "decision_list"):
        output = work / f"{script}.json"
        completed = subprocess.run(
            [sys.executable, str(BENCH / f"{script}.py"), "--output", str(output)], capture_output=True, text=True
        )
        found[script] = {"targetsMet": completed.returncode == 0, "results": json.loads(output.read_text())}
        print(completed.stdout, end="", flush=True)
    return found


def api_env(database_url: str, data_dir: Path, port: int, simulator: str, ttl_s: int) -> dict[str, str]:
    upstream = UpstreamSettings().with_base(simulator).model_dump()
    env = {f"RP_UPSTREAM__{key.upper()}": str(value) for key, value in upstream.items() if key.endswith("_url")}
    return {
        **env,
        "RP_ENV": "dev",
        "RP_DEV_TOKEN_ISSUER": "true",
        "RP_DATA_DIR": str(data_dir),  # the audit keys are generated there (RP_ENV=dev)
        "RP_DATABASE_URL": database_url,
        "RP_HOST": "127.0.0.1",
        "RP_PORT": str(port),
        "RP_LINK_CACHE_TTL_S": str(ttl_s),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    binary = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="rp-http-bench-"))
    server = embedded.start_embedded(work / "pgdata")
    database = int((work / "pgdata" / "postmaster.pid").read_text().split()[0])
    url = as_asyncpg_url(server.url)
    migrate.upgrade(url)  # as the server's superuser, which creates the two roles; API RP serves as the runtime one
    runtime_url = url.set(username=migrate.Roles().runtime).render_as_string(hide_password=False)
    registry = OrganisationRegistry.load()
    vdab, cm = registry.find("VDAB"), registry.find("CM")
    assert vdab is not None
    assert cm is not None
    deep_row = asyncio.run(prepare_database(url, args.rows, vdab.enterprise_number))
    # List cursors are sealed with a key derived from the server's audit key: the bench makes that key (in the data
    # directory the server will use, as the server would) and seals the deep page's cursor with it.
    keyring = load_keyring(Settings(env=Environment.DEV, data_dir=work / "data"))
    cursors.configure(keyring.current)
    deep_page_cursor = cursors.seal(*deep_row, scope=cursors.scope("listDecisions", vdab.enterprise_number))

    population = build_population()
    insured = [p for p in population.persons.values() if p.oa_number == 100 and not p.replaced_by and not p.death_date]
    persons = insured[: args.persons]
    issuer = DevIssuer.in_data_dir(work / "data")
    coordinator = issuer.mint(
        cm, [Role.RETURN_TO_WORK_COORDINATOR], user_ssin=demo_user_ssin(cm, Role.RETURN_TO_WORK_COORDINATOR)
    )
    list_manager = issuer.mint(vdab, [Role.LIST_MANAGER], user_ssin=demo_user_ssin(vdab, Role.LIST_MANAGER))

    python_bin = Path(sys.executable).parent
    results: dict[str, Any] = {}
    all_cores: dict[str, Any] = {}
    cores = available_cores()
    first_page = f"/rp/v1/decisions?week={WEEK}&pageSize=100"
    deep_page = f"{first_page}&page={deep_page_cursor}"
    item_paths = [f"/items/{i}" for i in range(1, 1001)]
    with services(work) as started:
        sim_ports = free_port(), free_port()
        simulators = [
            start(
                started,
                work,
                f"simulator-{latency}ms",
                [str(python_bin / "rp-api"), "simulator"],
                {"RP_SIMULATOR__PORT": str(port), "RP_SIMULATOR__LATENCY_MS": str(latency)},
                port,
                "/_control/services",
            )
            for port, latency in zip(sim_ports, (0, LATENCY_MS), strict=True)
        ]

        def api(name: str, workers: int, simulator: str, ttl_s: int) -> Service:
            port = free_port()
            serve = [str(python_bin / "rp-api"), "serve", "--workers", str(workers)]
            return start(
                started, work, name, serve, api_env(runtime_url, work / "data", port, simulator, ttl_s), port, "/health"
            )

        def baseline_app(name: str, workers: int) -> Service:
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH), "baseline_app:app"]
            command += ["--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
            env = {"BASELINE_DATABASE_URL": url.render_as_string(hide_password=False)}
            return start(started, work, name, command, env, port, "/items/1")

        def stop(*stopped: Service) -> None:
            """Stopped before the next processes start: the machine's cores and the server's connections are
            theirs."""
            for service in stopped:
                service.process.terminate()
            for service in stopped:
                service.process.wait(timeout=30)
                started.remove(service)

        dossier_paths: list[str] = []

        def measure_all(
            scenarios: dict[str, tuple[str, list[str], str]], into: dict[str, Any], cold: str = "", workers: int = 1
        ) -> None:
            pids = {service.base: service.process.pid for service in started}
            for name, (base, paths, token) in scenarios.items():
                # The cold GET is a latency measure (its target is against the critical path): one connection.
                connections = 1 if base == cold else args.connections
                into[name] = measure(
                    binary, work, base, paths, token, args, connections, pids.get(base), database, workers
                )
                print(f"  measured: {name}", file=sys.stderr, flush=True)

        if args.workers in ("one", "both"):
            warm = api("api-warm", 1, simulators[0].base, 86_400)
            cold = api("api-cold", 1, simulators[1].base, 0)
            baseline = baseline_app("baseline", 1)
            dossiers = open_dossiers(warm.base, coordinator, [p.ssin for p in persons])
            dossier_paths = [f"/rp/v1/dossiers/{d}" for d in dossiers]
            measure_all(
                {
                    "baseline": (baseline.base, item_paths, ""),
                    "dossier GET, warm cache": (warm.base, dossier_paths, coordinator),
                    "dossier GET, cold cache, 50 ms sources": (cold.base, dossier_paths, coordinator),
                    "decision list, first page of 100": (warm.base, [first_page], list_manager),
                    f"decision list, page at depth {args.rows}": (warm.base, [deep_page], list_manager),
                },
                results,
                cold=cold.base,
            )
            stop(warm, cold, baseline)
        if args.workers in ("all", "both"):
            warm = api(f"api-warm-{cores}-workers", cores, simulators[0].base, 86_400)
            baseline = baseline_app(f"baseline-{cores}-workers", cores)
            if not dossier_paths:
                dossiers = open_dossiers(warm.base, coordinator, [p.ssin for p in persons])
                dossier_paths = [f"/rp/v1/dossiers/{d}" for d in dossiers]
            measure_all(
                {
                    f"baseline, {cores} workers": (baseline.base, item_paths, ""),
                    f"dossier GET, warm cache, {cores} workers": (warm.base, dossier_paths, coordinator),
                    f"decision list, first page of 100, {cores} workers": (warm.base, [first_page], list_manager),
                    f"decision list, page at depth {args.rows}, {cores} workers": (
                        warm.base,
                        [deep_page],
                        list_manager,
                    ),
                },
                all_cores,
                workers=cores,
            )
            stop(warm, baseline)
        round_trip = bare_round_trip(simulators[1].base, persons[0].ssin)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    return {
        "scenarios": results,
        "allCores": {"workers": cores, "scenarios": all_cores},
        "roundTripMs": round(round_trip * 1000, 2),
        "work": str(work),
        "wrk": version.split("\n")[0].strip(),
    }


async def prepare_database(url: URL, rows: int, regional: str) -> tuple[Any, Any]:
    """The baseline's table; ``rows`` decisions for the regional service (as in decision_list.py), then a
    checkpoint: the seed leaves ~500 MB of WAL and shared buffers full of dirty pages, whose write-back otherwise
    lands in the measured runs and stalls every commit (the API's audit appends; the read-only baseline never
    waits on a flush). Returns the key (decided_at, id) of the row the page at depth ``rows`` follows."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(CREATE))
        await connection.execute(text(FILL), {"rows": 10_000})
        await connection.execute(text(SEED), {"rows": rows, "org": regional})
        round_id = await connection.scalar(
            text(
                "INSERT INTO decision_round (id, week, recorded_by) VALUES (gen_random_uuid(), :week, '0') RETURNING id"
            ),
            {"week": WEEK},
        )
        await connection.execute(text(DECISIONS), {"round": round_id})
        await connection.execute(text("ANALYZE"))
        deep = (
            await connection.execute(
                text("SELECT decided_at, id FROM decision ORDER BY decided_at, id OFFSET :offset LIMIT 1"),
                {"offset": max(rows - 101, 0)},
            )
        ).one()
    async with engine.connect() as connection:
        try:
            await connection.execute(text("CHECKPOINT"))
        except DBAPIError:  # an external server where the bench's role may not: measured as it is
            print("http_load: CHECKPOINT refused; the seed's write-back may show in the figures", flush=True)
    await engine.dispose()
    return deep.decided_at, deep.id


def open_dossiers(base: str, token: str, ssins: list[str]) -> list[str]:
    """One dossier per person, opened through the API (which also warms the link cache), then read once."""
    found = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for ssin in ssins:
            opened = http.post("/rp/v1/dossiers", json={"ssin": ssin, "start": "registrationForm"})
            opened.raise_for_status()
            found.append(opened.json()["id"])
            http.get(f"/rp/v1/dossiers/{found[-1]}").raise_for_status()
    return found


def _rows(scenarios: dict[str, Any], base: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | req/s vs baseline | p99 vs baseline | server CPU ms/request "
        "| PostgreSQL CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, figures in scenarios.items():
        lines.append(
            f"| {name} | {figures['requestsPerSecond']:.0f} | {figures['p50Ms']:.2f} | {figures['p99Ms']:.2f} "
            f"| {figures['requestsPerSecond'] / base['requestsPerSecond']:.2f} × "
            f"| {figures['p99Ms'] / base['p99Ms']:.2f} × | {figures.get('serverCpuMsPerRequest', '')} "
            f"| {figures.get('databaseCpuMsPerRequest', '')} |"
        )
    return lines


def _cpu_share(warm: dict[str, Any], base: dict[str, Any]) -> str:
    """When every process shares the machine's cores, requests per second follow the CPU a request costs in all of
    them: the ratio that CPU time allows, server and PostgreSQL together, and the server's alone (a host whose
    database has cores of its own)."""
    try:
        both = (base["serverCpuMsPerRequest"] + base["databaseCpuMsPerRequest"]) / (
            warm["serverCpuMsPerRequest"] + warm["databaseCpuMsPerRequest"]
        )
        server = base["serverCpuMsPerRequest"] / warm["serverCpuMsPerRequest"]
    except (KeyError, ZeroDivisionError):
        return ""
    return (
        f"CPU per request, baseline / warm GET: server and PostgreSQL {both:.2f} ×, server alone {server:.2f} × "
        "(the requests-per-second ratio that CPU time allows when the cores are all busy)"
    )


def table(report: dict[str, Any]) -> tuple[str, dict[str, bool]]:
    """The tables of the phases that ran (one worker; all cores) and their targets."""
    lines: list[str] = []
    targets: dict[str, bool] = {}
    scenarios = report["scenarios"]
    if scenarios:
        base = scenarios["baseline"]
        warm = scenarios["dossier GET, warm cache"]
        cold = scenarios["dossier GET, cold cache, 50 ms sources"]
        first, deep = (v for k, v in scenarios.items() if k.startswith("decision list"))
        critical_path = COLD_TRIPS * report["roundTripMs"]
        targets.update(
            {
                "warm GET ≥ 0.5 × baseline req/s": warm["requestsPerSecond"] >= 0.5 * base["requestsPerSecond"],
                "warm GET p99 ≤ 3 × baseline p99": warm["p99Ms"] <= 3 * base["p99Ms"],
                f"cold GET p50 ≤ 1.3 × critical path ({COLD_TRIPS} × {report['roundTripMs']} ms)": cold["p50Ms"]
                <= 1.3 * critical_path,
                "decision list at depth p50 ≤ 1.5 × first page": deep["p50Ms"] <= 1.5 * first["p50Ms"],
            }
        )
        lines += ["one worker each:", *_rows(scenarios, base), ""]
        lines.append(f"cold GET p50 / critical path: {cold['p50Ms'] / critical_path:.2f} ×")
        lines.append(f"decision list at depth / first page (p50): {deep['p50Ms'] / max(first['p50Ms'], 1e-9):.2f} ×")
    every = report["allCores"]["scenarios"]
    if every:
        workers = report["allCores"]["workers"]
        base = every[f"baseline, {workers} workers"]
        warm = every[f"dossier GET, warm cache, {workers} workers"]
        spread = warm.get("spread", True) and base.get("spread", True)  # else one worker was measured, not all
        targets.update(
            {
                f"all cores ({workers} workers): warm GET ≥ {ALL_CORES_RATE} × baseline req/s": spread
                and warm["requestsPerSecond"] >= ALL_CORES_RATE * base["requestsPerSecond"],
                f"all cores ({workers} workers): warm GET p99 ≤ 3 × baseline p99": spread
                and warm["p99Ms"] <= 3 * base["p99Ms"],
            }
        )
        if lines:
            lines.append("")
        lines += [f"all cores, {workers} workers each:", *_rows(every, base), "", _cpu_share(warm, base)]
        lines.append(
            "connections per worker (wrk's, a second into the measured run): "
            + "; ".join(f"{name} {figures.get('connectionsPerWorker')}" for name, figures in every.items())
        )
        if not spread:
            lines.append("a run's connections were not spread over the workers (six tries): no all-cores figure")
        if scenarios:
            one = scenarios["dossier GET, warm cache"]["requestsPerSecond"]
            lines.append(f"\nwarm GET with {workers} workers / with one: {warm['requestsPerSecond'] / one:.2f} ×")
    lines += [f"{'met   ' if met else 'MISSED'} {name}" for name, met in targets.items()]
    return "\n".join(lines), targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per measured run.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--persons", type=int, default=50, help="Dossiers the dossier GETs rotate over.")
    parser.add_argument("--rows", type=int, default=100_000, help="Decisions in the list.")
    parser.add_argument("--micro", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--workers",
        choices=("one", "all", "both"),
        default="both",
        help="API RP and the baseline with one worker each, with as many as the cores, or both (one after the other)",
    )
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "http_load.json")
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the run's directory (database, servers' logs); removed otherwise"
    )
    args = parser.parse_args()
    report = run(args)
    report["machine"] = {
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": report.pop("wrk"),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report["settings"] = {k: v for k, v in vars(args).items() if k != "output"}
    text_table, targets = table(report)
    report["targets"] = targets
    if args.micro:
        report["micro"] = micro_benchmarks(Path(report["work"]))
        targets.update({f"{name} targets": found["targetsMet"] for name, found in report["micro"].items()})
    machine = report["machine"]
    print(f"machine: {machine['arch']}, {machine['cpus']} cores, CPython {machine['python']}, {machine['wrk']}")
    print(
        f"wrk: 1 thread, {args.connections} connections, {args.duration} s per run after a warm-up (with N workers: "
        f"N wrk processes sharing the connections, started {STAGGER_S} s apart)"
    )
    print(text_table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not args.keep_work:  # its database and logs: gigabytes after a run (kept when the run fails)
        work = Path(report.pop("work"))
        embedded.stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

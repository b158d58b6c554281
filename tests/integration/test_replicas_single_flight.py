"""Two ``rp-api serve`` processes on one database (two replicas) asked at once about the same cold persons: one
call per person and source reaches the authentic sources in total (a PostgreSQL advisory lock per source and
person makes the flight single across processes), every call is audited once, and the audit chains verify."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api.settings import Settings, SimulatorSettings
from rp_api.simulator.app import SimulatorState, create_simulator_app
from rp_api.simulator.population import build_population
from tests.databases import OWNER, as_role
from tests.processes import free_port, read, start, stop, wait_until_up
from tests.token_factory import TokenFactory

PERSONS = 6
CALLS_PER_PERSON_AND_PROCESS = 3
SOURCE_LATENCY_MS = 150  # long enough for both processes to be waiting on the same cold person


@pytest.fixture
def simulator_server() -> Iterator[tuple[str, SimulatorState]]:
    """The fake sources over real HTTP (the serve processes call them), with a latency on every answer."""
    app = create_simulator_app(SimulatorSettings(latency_ms=SOURCE_LATENCY_MS), build_population())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}", app.state.simulator
    server.should_exit = True
    thread.join(5)


async def _send_head(port: int, head: bytes) -> bytes:
    """Send a request head that never ends, reading what the server answers meanwhile."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(head)
            await writer.drain()

    sending = asyncio.create_task(send())
    answer = await asyncio.wait_for(reader.read(), 10)
    await sending
    writer.close()
    return answer


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _environment(settings: Settings, database: URL, sources: str, port: int, home: Path) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "RP_ENV": "test",
        "RP_DATA_DIR": str(settings.data_dir),  # the test session's audit keys: one keyring for both replicas
        "RP_DATABASE_URL": _url(database),
        "RP_MIGRATION_DATABASE_URL": _url(as_role(database, OWNER)),
        "RP_HOST": "127.0.0.1",
        "RP_PORT": str(port),
        "RP_LOG_LEVEL": "WARNING",
        "RP_UPSTREAM__TIMEOUT_S": "5",
    }
    for name, issuer in (
        ("UMAN_EHEALTH", settings.uman_ehealth),
        ("UMAN_BCSS", settings.uman_bcss),
        ("INAMI_INTERNAL", settings.inami_internal),
    ):
        env[f"RP_{name}__ISSUER"] = str(issuer.issuer)
        env[f"RP_{name}__AUDIENCE"] = issuer.audience
        env[f"RP_{name}__JWKS_FILE"] = str(issuer.jwks_file)
    for field, value in settings.upstream.with_base(sources).model_dump().items():
        if field.endswith("_url") and value:
            env[f"RP_UPSTREAM__{field.upper()}"] = str(value)
    return env


async def test_two_replicas_make_one_source_call_per_person(
    own_database: URL,
    settings: Settings,
    tokens: TokenFactory,
    simulator_server: tuple[str, SimulatorState],
    tmp_path: Path,
) -> None:
    sources, simulator = simulator_server
    solidaris = tokens.organisation("Solidaris")
    cold = [
        p.ssin
        for p in simulator.population.persons.values()
        if p.oa_number == 300 and not p.replaced_by and not p.death_date
    ][:PERSONS]
    ports = [free_port(), free_port()]
    processes = []
    try:
        for index, port in enumerate(ports):
            log = tmp_path / f"serve-{index}.log"
            env = _environment(settings, own_database, sources, port, tmp_path)
            processes.append((start(["rp-api", "serve", "--workers", "1"], env, tmp_path, log), port, log))
        for process, port, log in processes:
            assert await wait_until_up(process, port, log) == {"status": "UP"}
        huge = await _send_head(ports[0], b"GET /rp/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 2**20)
        assert huge.startswith(b"HTTP/1.1 431 ")  # rp-api serve bounds the request head
        simulator.calls.clear()
        simulator.received.clear()

        headers = {"Authorization": f"Bearer {tokens.token('Solidaris')}"}
        async with httpx.AsyncClient(trust_env=False, timeout=30, headers=headers) as http:
            calls = [
                http.post(f"http://127.0.0.1:{port}/rp/v1/dossiers", json={"ssin": ssin})
                for ssin in cold
                for port in ports
                for _ in range(CALLS_PER_PERSON_AND_PROCESS)
            ]
            answers = await asyncio.gather(*calls)
    finally:
        codes = [await stop(process) for process, _, _ in processes]
    logs = "\n".join(read(log) for _, _, log in processes)
    assert "Traceback" not in logs, logs
    assert codes == [-15, -15]

    # A lookup of persons without a dossier: each answered (404 for no dossier, after the guard let it through).
    assert {answer.status_code for answer in answers} == {404}, [a.text for a in answers][:3]
    asked = {source: Counter(call.body for call in calls) for source, calls in simulator.received.items() if calls}
    assert asked, "the calls reached no source"
    for source, bodies in asked.items():
        assert max(bodies.values()) == 1, f"{source} was asked {max(bodies.values())} times about one person"
    assert {len(bodies) for bodies in asked.values()} == {PERSONS}  # and each person was asked about

    engine = create_async_engine(as_role(own_database, OWNER))
    try:
        async with engine.connect() as connection:
            records = await connection.scalar(
                text("SELECT count(*) FROM audit_event WHERE organisation = :org"),
                {"org": solidaris.enterprise_number},
            )
    finally:
        await engine.dispose()
    assert records == len(answers)  # one record per call (each call names one person)

    env = _environment(settings, own_database, sources, ports[0], tmp_path)
    verify = await asyncio.create_subprocess_exec(
        "rp-api",
        "audit",
        "verify",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await verify.communicate()
    assert verify.returncode == 0, (out + err).decode()

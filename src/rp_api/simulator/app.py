"""The simulator's HTTP interface: one route per source query (the paths the clients use), plus ``/_control``
to set latency and faults per source, to read how many calls each source received, and to change the population at run
time as the real sources would (an SSIN replaced, another insurer, other regional services, an employment ended).

Each source also keeps what it received (:attr:`SimulatorState.received`: the last calls' paths, ``Legal-Context``
headers and bodies), so that a test can check what left the platform: e.g. that eHealth's pseudonymisation never
saw an SSIN, only blinded points (:mod:`rp_api.clients.pseudonymisation`)."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from rp_api.clients.base import LEGAL_CONTEXT_HEADER
from rp_api.clients.blinding import CURVE, decode_point, encode_point
from rp_api.settings import Fault, SimulatedService, SimulatorSettings
from rp_api.simulator.population import Population, SimulatedPerson, build_population

TIMEOUT_FAULT_S = 60.0
RECEIVED_KEPT = 1000
"""How many of its last calls each source keeps (a long-running demo does not grow without bound)."""
TRIO_DOMAIN = "trio"


class ServiceControl(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    latency_ms: int | None = None
    fault: Fault | None = None


class _Control(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class SsinReplacementControl(_Control):
    new_ssin: str | None = None
    """Default: a new SSIN; an SSIN the population knows: the two records are one person's."""


class InsurerControl(_Control):
    oa_number: int | None
    """The insurer's OA number (``null``: affiliated nowhere)."""


class RegistrationsControl(_Control):
    regional_services: list[str]


@dataclass(frozen=True)
class ReceivedCall:
    """What a source received in one call."""

    path: str
    legal_context: str | None
    """The call's ``Legal-Context`` header."""
    body: bytes


class SimulatorState:
    def __init__(self, settings: SimulatorSettings, population: Population) -> None:
        self.population = population
        self.latency_ms: dict[str, int] = {}
        self.default_latency_ms = settings.latency_ms
        self.faults: dict[str, Fault] = {str(name): fault for name, fault in settings.faults.items()}
        self.calls: Counter[str] = Counter()
        self.received: defaultdict[str, deque[ReceivedCall]] = defaultdict(lambda: deque(maxlen=RECEIVED_KEPT))
        """Per source, its last calls (at most :data:`RECEIVED_KEPT`), oldest first."""

    def replace_ssin(self, ssin: str, new_ssin: str | None = None) -> str:
        """See :meth:`Population.replace_ssin` (the same as ``POST /_control/persons/{ssin}/replacement``)."""
        return self.population.replace_ssin(ssin, new_ssin)

    def move_insurer(self, ssin: str, oa_number: int | None) -> None:
        self.population.move_insurer(ssin, oa_number)

    def move_registrations(self, ssin: str, regional_services: list[str]) -> None:
        self.population.move_registrations(ssin, regional_services)

    def end_employment(self, ssin: str, employer: str) -> None:
        self.population.end_employment(ssin, employer)

    async def answer(self, service: SimulatedService, request: Request, produce: Any) -> Response:
        """Count and keep the call, wait the latency, then fail as configured or answer ``produce()``."""
        self.calls[service] += 1
        received = ReceivedCall(request.url.path, request.headers.get(LEGAL_CONTEXT_HEADER), await request.body())
        self.received[service].append(received)
        delay = self.latency_ms.get(service, self.default_latency_ms)
        if delay:
            await asyncio.sleep(delay / 1000)
        fault = self.faults.get(service, "none")
        if fault == "error":
            return JSONResponse({"status": 503, "title": "Service Unavailable"}, status_code=503)
        if fault == "timeout":
            await asyncio.sleep(TIMEOUT_FAULT_S)
        if fault == "malformed":
            return Response(b'{"truncated": ', media_type="application/json")
        status, body = produce()
        return JSONResponse(body, status_code=status)


def _person_json(person: SimulatedPerson) -> dict[str, Any]:
    return {
        "ssin": person.ssin,
        "givenName": person.given_name,
        "familyName": person.family_name,
        "birthDate": person.birth_date.isoformat(),
        "deathDate": person.death_date.isoformat() if person.death_date else None,
        "replacedBy": person.replaced_by,
        "previousSsins": list(person.previous_ssins),
    }


def create_simulator_app(settings: SimulatorSettings | None = None, population: Population | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    population = population or build_population(settings.population_size, settings.seed)
    state = SimulatorState(settings, population)
    app = FastAPI(title="API RP source simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.simulator = state
    persons = population.persons

    def known(ssin: Any) -> SimulatedPerson | None:
        return persons.get(str(ssin))

    @app.post("/cbss/nr/v1/persons/query")
    async def national_register(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            return (200, _person_json(person)) if person else (404, {"title": "Not Found"})

        return await state.answer("nationalRegister", request, produce)

    @app.post("/cin/memberdata/v1/affiliations/query")
    async def member_data(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            if person is None or person.oa_number is None or person.affiliated_since is None:
                return 404, {"title": "Not Found"}
            on = date.fromisoformat(body.get("date", date.today().isoformat()))
            if on < person.affiliated_since:
                return 404, {"title": "Not Found"}
            return 200, {
                "ssin": person.ssin,
                "oaNumber": person.oa_number,
                "since": person.affiliated_since.isoformat(),
            }

        return await state.answer("memberData", request, produce)

    @app.post("/daas/dimona/v1/employments/query")
    async def dimona(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            employers = [population.employers[number] for number in (person.employers if person else ())]
            return 200, {"items": [{"enterpriseNumber": e.enterprise_number, "name": e.name} for e in employers]}

        return await state.answer("dimona", request, produce)

    @app.post("/daas/seedconnect/v1/affiliations/query")
    async def seed_connect(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            employer = population.employers.get(str(body.get("employerEnterpriseNumber")))
            services = employer.prevention_services if employer else ()
            return 200, {"items": [{"enterpriseNumber": number, "name": number} for number in services]}

        return await state.answer("seedConnect", request, produce)

    @app.post("/daas/jobseeker/v1/registrations/query")
    async def job_seeker(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            registrations = person.registrations if person else ()
            items = [{"regionalService": number, "registrationDate": day.isoformat()} for number, day in registrations]
            return 200, {"items": items}

        return await state.answer("jobSeeker", request, produce)

    @app.post("/ehealth/pseudo/v1/domains/{domain}/pseudonymize")
    async def pseudonymise(domain: str, request: Request) -> Response:
        """eHealth's blinded pseudonymisation: a point r·P in, k·r·P out (k: the domain's key). The SSIN is
        neither asked for nor accepted."""
        body = await request.json()

        def produce() -> tuple[int, Any]:
            return evaluate_blinded(population, domain, body)

        return await state.answer("pseudonymisation", request, produce)

    @app.post("/trio/v1/dossiers/exists")
    async def trio(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = population.person_of_pseudonym(str(body.get("pseudonym")), TRIO_DOMAIN)
            return 200, {"exists": bool(person and person.trio_dossier)}

        return await state.answer("trio", request, produce)

    @app.get("/_control/services")
    async def read_control() -> dict[str, Any]:
        return {
            "latencyMs": {"default": state.default_latency_ms, **state.latency_ms},
            "faults": state.faults,
            "calls": dict(state.calls),
        }

    @app.put("/_control/services/{service}")
    async def control(service: SimulatedService, change: ServiceControl) -> dict[str, Any]:
        if change.latency_ms is not None:
            state.latency_ms[service] = change.latency_ms
        if change.fault is not None:
            state.faults[service] = change.fault
        return await read_control()

    @app.post("/_control/reset")
    async def reset() -> dict[str, Any]:
        """Latency, faults and calls as configured, and every person as built (the changes below undone)."""
        state.latency_ms.clear()
        state.faults = {str(name): fault for name, fault in settings.faults.items()}
        state.calls.clear()
        state.received.clear()
        population.restore()
        return await read_control()

    def changed(apply: Callable[[], str]) -> Response:
        """Apply a change to the population (``apply`` returns the SSIN the person now has): 200 with the person as
        the National Register now answers; 404 for a person not (or no longer, once replaced) in the population."""
        try:
            ssin = apply()
        except KeyError:
            return JSONResponse({"title": "Not Found"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"title": "Bad Request", "detail": str(exc)}, status_code=400)
        return JSONResponse(_person_json(persons[ssin]))

    def then(ssin: str, change: Callable[[], None]) -> Callable[[], str]:
        def apply() -> str:
            change()
            return ssin

        return apply

    @app.post("/_control/persons/{ssin}/replacement")
    async def replace_ssin(ssin: str, change: SsinReplacementControl) -> Response:
        """The National Register replaces the person's SSIN (answers the person under the new one)."""
        return changed(lambda: population.replace_ssin(ssin, change.new_ssin))

    @app.put("/_control/persons/{ssin}/insurer")
    async def move_insurer(ssin: str, change: InsurerControl) -> Response:
        return changed(then(ssin, lambda: population.move_insurer(ssin, change.oa_number)))

    @app.put("/_control/persons/{ssin}/registrations")
    async def move_registrations(ssin: str, change: RegistrationsControl) -> Response:
        return changed(then(ssin, lambda: population.move_registrations(ssin, change.regional_services)))

    @app.post("/_control/persons/{ssin}/employments/{employer}/end")
    async def end_employment(ssin: str, employer: str) -> Response:
        return changed(then(ssin, lambda: population.end_employment(ssin, employer)))

    population.person_of_pseudonym("", TRIO_DOMAIN)  # TRIO's pseudonyms, computed now rather than on a first call
    return app


def evaluate_blinded(population: Population, domain: str, body: Any) -> tuple[int, Any]:
    """The answer of eHealth's pseudonymisation to a blinded point (``crv``, ``x``, ``y``): 200 with k·r·P in
    the domain, or 400 when the body is not a point of P-521."""
    if not isinstance(body, dict) or body.get("crv", CURVE) != CURVE:
        return 400, {"title": "Bad Request", "detail": f"a point of {CURVE} is expected"}
    try:
        blinded = decode_point(str(body.get("x")), str(body.get("y")))
    except ValueError:
        return 400, {"title": "Bad Request", "detail": f"a point of {CURVE} is expected"}
    x, y = encode_point(population.evaluate(blinded, domain))
    return 200, {"domain": domain, "crv": CURVE, "x": x, "y": y}

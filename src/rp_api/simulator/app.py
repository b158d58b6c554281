"""The simulator's HTTP interface: one route per source query (the paths the clients use), plus ``/_control``
to set latency and faults per source and to read how many calls each source received."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from rp_api.settings import Fault, SimulatedService, SimulatorSettings
from rp_api.simulator.population import Population, SimulatedPerson, build_population

TIMEOUT_FAULT_S = 60.0


class ServiceControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = None
    fault: Fault | None = None


class SimulatorState:
    def __init__(self, settings: SimulatorSettings, population: Population) -> None:
        self.population = population
        self.latency_ms: dict[str, int] = {}
        self.default_latency_ms = settings.latency_ms
        self.faults: dict[str, Fault] = {str(name): fault for name, fault in settings.faults.items()}
        self.calls: Counter[str] = Counter()

    async def answer(self, service: SimulatedService, produce: Any) -> Response:
        """Count the call, wait the latency, then fail as configured or answer ``produce()``."""
        self.calls[service] += 1
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

        return await state.answer("nationalRegister", produce)

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

        return await state.answer("memberData", produce)

    @app.post("/daas/dimona/v1/employments/query")
    async def dimona(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            employers = [population.employers[number] for number in (person.employers if person else ())]
            return 200, {"items": [{"enterpriseNumber": e.enterprise_number, "name": e.name} for e in employers]}

        return await state.answer("dimona", produce)

    @app.post("/daas/seedconnect/v1/affiliations/query")
    async def seed_connect(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            employer = population.employers.get(str(body.get("employerEnterpriseNumber")))
            services = employer.prevention_services if employer else ()
            return 200, {"items": [{"enterpriseNumber": number, "name": number} for number in services]}

        return await state.answer("seedConnect", produce)

    @app.post("/daas/jobseeker/v1/registrations/query")
    async def job_seeker(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = known(body.get("ssin"))
            registrations = person.registrations if person else ()
            items = [{"regionalService": number, "registrationDate": day.isoformat()} for number, day in registrations]
            return 200, {"items": items}

        return await state.answer("jobSeeker", produce)

    @app.post("/ehealth/pseudo/v1/pseudonymize")
    async def pseudonymise(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            domain = str(body.get("domain"))
            return 200, {"domain": domain, "pseudonym": population.pseudonym(str(body.get("ssin")), domain)}

        return await state.answer("pseudonymisation", produce)

    @app.post("/trio/v1/dossiers/exists")
    async def trio(request: Request) -> Response:
        body = await request.json()

        def produce() -> tuple[int, Any]:
            person = population.person_of_pseudonym(str(body.get("pseudonym")), "trio")
            return 200, {"exists": bool(person and person.trio_dossier)}

        return await state.answer("trio", produce)

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
        state.latency_ms.clear()
        state.faults = {str(name): fault for name, fault in settings.faults.items()}
        state.calls.clear()
        return await read_control()

    return app

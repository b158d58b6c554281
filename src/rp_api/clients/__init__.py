"""One typed httpx client per authentic source, all on the application's shared HTTP client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import httpx

from rp_api.clients.base import UpstreamClient
from rp_api.clients.dimona import DimonaClient
from rp_api.clients.job_seeker import JobSeekerClient
from rp_api.clients.member_data import MemberDataClient
from rp_api.clients.national_register import NationalRegisterClient
from rp_api.clients.pseudonymisation import PseudonymisationClient
from rp_api.clients.seed_connect import SeedConnectClient
from rp_api.clients.trio import TrioClient
from rp_api.settings import UpstreamSettings

C = TypeVar("C", bound=UpstreamClient)


@dataclass(frozen=True)
class Upstreams:
    national_register: NationalRegisterClient
    member_data: MemberDataClient
    dimona: DimonaClient
    seed_connect: SeedConnectClient
    job_seeker: JobSeekerClient
    pseudonymisation: PseudonymisationClient
    trio: TrioClient

    @classmethod
    def build(cls, http: httpx.AsyncClient, settings: UpstreamSettings) -> Upstreams:
        def make(client: type[C], base_url: str | None) -> C:
            return client(
                http,
                base_url=base_url,
                timeout_s=settings.timeout_s,
                retries=settings.retries,
                backoff_s=settings.backoff_s,
            )

        return cls(
            national_register=make(NationalRegisterClient, settings.national_register_url),
            member_data=make(MemberDataClient, settings.member_data_url),
            dimona=make(DimonaClient, settings.dimona_url),
            seed_connect=make(SeedConnectClient, settings.seed_connect_url),
            job_seeker=make(JobSeekerClient, settings.job_seeker_url),
            pseudonymisation=make(PseudonymisationClient, settings.pseudonymisation_url),
            trio=make(TrioClient, settings.trio_url),
        )

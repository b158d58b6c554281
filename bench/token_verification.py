"""Token verification cost against a bare RS256 signature check (``cryptography``) in the same run.

    .venv/bin/python bench/token_verification.py [--rounds 7] [--batch 2000]

Four measures, taken in turn within each round (so that drift hits them alike), each the median over rounds of
the mean time of one batch, all through the same harness (a coroutine awaited per call), by the wall clock (the
targets) and by the thread's CPU time (what a call costs the process, whatever else runs on a shared machine):
- raw: ``RSAPublicKey.verify`` of the token's signature (the floor; about 40 µs on a 2-core machine);
- naive: ``jose.jwt.decode`` with the JWK as a dict (parses the key on every call), for reference;
- first sight: API RP's verifier with its token cache off, i.e. a token never seen before (keys already parsed);
- reuse: API RP's verifier on a token it has already verified.
Targets: first sight ≤ 1.5 × raw, reuse ≤ 0.1 × raw (wall clock; the CPU-time ratios are printed beside them).
``--profile`` prints where first sight spends its time beyond the signature check (cProfile, and each step of the
verifier timed on its own in CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import hashlib
import json
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from jose import jwt

from rp_api.authz.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
from rp_api.authz.guard import build_verifier
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.tokens import TokenVerifier
from rp_api.domain.actors import Role
from rp_api.identifiers import make_ssin
from rp_api.settings import Environment, Settings

TARGETS = {"first sight": 1.5, "reuse": 0.1}


def interleaved(
    batches: dict[str, Callable[[], None]], batch: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each round runs every measure once, in turn, so that drift of the machine (frequency, other load) hits them
    alike; the result is the median over rounds of the time per call, by the wall clock and in the thread's CPU
    time."""
    for run_batch in batches.values():
        run_batch()  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in batches}
    cpu: dict[str, list[float]] = {name: [] for name in batches}
    for _ in range(rounds):
        for name, run_batch in batches.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            run_batch()
            cpu[name].append((time.thread_time() - started_cpu) / batch)
            wall[name].append((time.perf_counter() - started) / batch)
    return (
        {name: statistics.median(values) for name, values in wall.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


def profile_first_sight(verifier: TokenVerifier, token: str, loop: asyncio.AbstractEventLoop, calls: int) -> None:
    """Where a first sight spends its time: cProfile of ``calls`` verifications, then each step on its own (thread
    CPU time, median of 7 runs of ``calls``), the signature check among them."""
    from rp_api.authz import tokens

    async def run() -> None:
        for _ in range(calls):
            await verifier.verify(token)

    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(run())
    profiler.disable()
    print(f"cProfile of {calls} first sights (tottime, inflated by the profiler):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(14)

    raw = token.encode()
    header, payload, signature = tokens._compact(raw)
    claims = tokens._json_object(tokens._decode_segment(payload), "payload")
    issuer = next(iter(verifier.issuers.values()))
    key = loop.run_until_complete(issuer.keys.key_for(None, "RS256"))
    assert key is not None
    check = tokens._rs256_check(key)
    signing_input, signature_bytes = raw[: len(header) + 1 + len(payload)], tokens._decode_segment(signature)
    now = float(claims["iat"])

    async def key_lookups() -> None:
        for _ in range(calls):
            await issuer.keys.key_for(None, "RS256")

    async def first_sights() -> None:
        for _ in range(calls):
            await verifier.verify(token)

    steps: dict[str, Callable[[], object]] = {
        "signature check (RS256, cryptography)": lambda: check(signing_input, signature_bytes),
        "SHA-256 of the token (verified-token cache key)": lambda: hashlib.sha256(raw).digest(),
        "token cache metric": lambda: tokens.metrics.count_token_cache(hit=False),
        "alphabet check and split": lambda: tokens._compact(raw),
        "payload: base64url": lambda: tokens._decode_segment(payload),
        "payload: JSON": lambda: tokens._json_object(tokens._decode_segment(payload), "payload"),
        "signature: base64url": lambda: tokens._decode_segment(signature),
        "key lookup (awaited)": lambda: loop.run_until_complete(key_lookups()),
        "registered claims": lambda: tokens.check_registered_claims(
            claims, audience=issuer.config.audience, now=now, leeway=issuer.config.leeway_s
        ),
        "claim types": lambda: tokens.check_claim_types(claims, issuer.config.roles_claim),
        "principal (copy of the known user's)": lambda: verifier._principal(claims, issuer, int(claims["exp"])),
        "whole first sight (awaited)": lambda: loop.run_until_complete(first_sights()),
    }
    batched = {"key lookup (awaited)", "whole first sight (awaited)"}  # one call runs ``calls`` of them
    print(f"each step alone, µs of thread CPU time per call (median of 7 runs of {calls}):")
    for name, step in steps.items():
        runs = []
        for _ in range(7):
            started = time.thread_time()
            for _ in range(1 if name in batched else calls):
                step()
            runs.append((time.thread_time() - started) / calls)
        print(f"  {name:<48} {statistics.median(runs) * 1e6:7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "token_verification.json")
    parser.add_argument("--profile", action="store_true", help="print where first sight spends its time")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="rp-bench-"))
    issuer = DevIssuer.in_data_dir(data_dir)
    registry = OrganisationRegistry.load()
    vdab = registry.find("VDAB")
    assert vdab is not None
    token = issuer.mint(vdab, [Role.REFERENCE_ADVISOR], user_ssin=make_ssin(__import__("datetime").date(1980, 1, 1), 1))
    header, payload, signature = token.split(".")
    signing_input = f"{header}.{payload}".encode()
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public_key = issuer._private_key().public_key()
    jwk_dict = issuer.public_jwk()

    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient()

    def settings(cache: int) -> Settings:
        return Settings(env=Environment.DEV, dev_token_issuer=True, data_dir=data_dir, token_cache_size=cache)

    fresh = build_verifier(settings(0), http)
    cached = build_verifier(settings(10_000), http)

    def batch_of(verify: Callable[[str], Awaitable[object]]) -> Callable[[], None]:
        """The same harness for every measure: a coroutine awaited per call, on one event loop."""

        async def run() -> None:
            for _ in range(args.batch):
                await verify(token)

        return lambda: loop.run_until_complete(run())

    async def raw(_: str) -> None:
        public_key.verify(raw_signature, signing_input, padding.PKCS1v15(), hashes.SHA256())

    async def naive(_: str) -> None:
        jwt.decode(token, jwk_dict, algorithms=["RS256"], audience=DEV_AUDIENCE, issuer=DEV_ISSUER)

    results, cpu = interleaved(
        {
            "raw": batch_of(raw),
            "naive": batch_of(naive),
            "first sight": batch_of(fresh.verify),
            "reuse": batch_of(cached.verify),
        },
        args.batch,
        args.rounds,
    )
    if args.profile:
        profile_first_sight(fresh, token, loop, args.batch)
    loop.run_until_complete(http.aclose())
    loop.close()

    baseline, cpu_baseline = results["raw"], cpu["raw"]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"{'measure':<12} {'µs/call':>9} {'× raw':>7} {'CPU µs':>8} {'× raw':>7}  target (wall clock)")
    failed = []
    for name, seconds in results.items():
        ratio = seconds / baseline
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"≤ {target}  ok" if ratio <= target else f"≤ {target}  MISSED")
        if target is not None and ratio > target:
            failed.append(name)
        print(
            f"{name:<12} {seconds * 1e6:>9.2f} {ratio:>7.3f} {cpu[name] * 1e6:>8.2f} {cpu[name] / cpu_baseline:>7.3f}"
            f"  {verdict}"
        )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": platform.machine(),
                "python": platform.python_version(),
                "microseconds": {name: round(value * 1e6, 3) for name, value in results.items()},
                "ratios": {name: round(value / baseline, 4) for name, value in results.items()},
                "cpuMicroseconds": {name: round(value * 1e6, 3) for name, value in cpu.items()},
                "cpuRatios": {name: round(value / cpu_baseline, 4) for name, value in cpu.items()},
                "targets": TARGETS,
            },
            indent=2,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

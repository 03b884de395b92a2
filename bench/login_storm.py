"""A password-guessing storm at one account: does its owner still get in, and everyone else?

Protocol: one `tiktimer serve` pinned to core 0 with the default login limits, on loopback.
First normal traffic alone (4 clients in a closed loop on an authenticated `GET /posts/`),
for its quiet p99. Then, for the storm's length, at the same time:
- 50 attackers (one process, closed loop, as fast as answers come) fail logins at the owner's
  account, alternating its username and its email. `--spread fixed`: each attacker keeps its
  own address; `--spread rotating`: every guess comes from a new address (a botnet), which
  reaches the per-account ceiling;
- the owner logs in with the right password every 2 s from an address of their own;
- the same normal traffic, for its p99 under the storm.
Addresses come from `X-Forwarded-For`, which the server trusts from 127.0.0.1 (uvicorn's
`FORWARDED_ALLOW_IPS`). Printed: the owner's success rate, the normal p99 against its quiet
p99, the attackers' answers (401 hashed and refused, 429 refused before the hash), and what
the audit log recorded.

    python bench/login_storm.py                          # SQLite, 10 s quiet, 30 s storm
    python bench/login_storm.py --backend postgresql --spread rotating --storm 20
    python bench/login_storm.py --spread rotating --ceiling 60/hour    # watch the ceiling trip
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import PASSWORD, prepare, server  # noqa: E402
from tests.fixtures.databases import create_pg_database, drop_pg_database  # noqa: E402
from tests.fixtures.server import clean_env, tiktimer_command  # noqa: E402

OWNER = "owner"
OWNER_ADDRESS = "198.51.100.7"
NORMAL_CLIENTS = 4


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


def attacker_address(attacker: int, guess: int, spread: str) -> str:
    n = attacker if spread == "fixed" else attacker * 1_000_000 + guess
    n %= 2**24
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{(n & 255) or 1}"


async def _attack(base: str, attackers: int, seconds: float, spread: str) -> Counter[str]:
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=attackers, max_keepalive_connections=attackers)

    async def attacker(client: httpx.AsyncClient, number: int) -> None:
        guess = 0
        while time.monotonic() < deadline:
            who = OWNER if guess % 2 else f"{OWNER}@example.com"
            headers = {"X-Forwarded-For": attacker_address(number, guess, spread)}
            data = {"username": who, "password": f"guess-{number}-{guess}"}
            try:
                response = await client.post(f"{base}/token", data=data, headers=headers)
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            guess += 1

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(*(attacker(client, n) for n in range(attackers)))
    return statuses


def attack(base: str, attackers: int, seconds: float, spread: str, out: Queue[object]) -> None:
    out.put(dict(asyncio.run(_attack(base, attackers, seconds, spread))))


async def _normal(base: str, token: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "198.51.100.50"}

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = await client.get(f"{base}/posts/", headers=headers)
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(NORMAL_CLIENTS)))
    return latencies


def normal(base: str, token: str, seconds: float, out: Queue[object]) -> None:
    out.put(asyncio.run(_normal(base, token, seconds)))


OWNER_EVERY_SECONDS = 2.0  # within the per-address limit (20/minute) on the owner's own logins


def owner_logins(base: str, seconds: float) -> tuple[Counter[str], list[float]]:
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    headers = {"X-Forwarded-For": OWNER_ADDRESS}
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            data = {"username": OWNER, "password": PASSWORD}
            response = client.post(f"{base}/token", data=data, headers=headers)
            statuses[str(response.status_code)] += 1
            latencies.append((time.monotonic() - started) * 1000)
            time.sleep(max(0.0, OWNER_EVERY_SECONDS - (time.monotonic() - started)))
    return statuses, latencies


def audit_totals(base: str, workdir: Path, env: dict[str, str]) -> dict[str, int]:
    """Counts from `GET /admin/audit`, as an admin created with the CLI sees them."""
    subprocess.run(
        [*tiktimer_command(), "users", "create", "root", "--email", "root@example.com", "--admin"],
        input=f"{PASSWORD}\n",
        text=True,
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    login = {"username": "root", "password": PASSWORD}
    token = httpx.post(
        f"{base}/token", data=login, headers={"X-Forwarded-For": "198.51.100.99"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    totals = {}
    for name, params in {
        "auth.login failures": {"event": "auth.login", "outcome": "failure"},
        "auth.login successes": {"event": "auth.login", "outcome": "success"},
        "auth.lockout": {"event": "auth.lockout"},
    }.items():
        response = httpx.get(f"{base}/admin/audit", params={**params, "limit": 1}, headers=headers)
        response.raise_for_status()
        totals[name] = int(response.headers["X-Total-Count"])
    return totals


@contextmanager
def database(backend: str, workdir: Path, env: dict[str, str]) -> Iterator[None]:
    if backend == "sqlite":
        yield
        return
    url = create_pg_database("tiktimer_login_storm")
    env["DATABASE_URL"] = url
    try:
        subprocess.run(
            [*tiktimer_command(), "db", "upgrade"],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        yield
    finally:
        drop_pg_database(url)


def run(
    backend: str,
    quiet_seconds: float,
    storm_seconds: float,
    attackers: int,
    spread: str,
    ceiling: str | None,
) -> None:
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="tiktimer-storm-") as tmp:
        workdir = Path(tmp)
        env = clean_env(
            SECRET_KEY="s" * 40,
            TIKTIMER_DATA_DIR=str(workdir / "data"),
            FORWARDED_ALLOW_IPS="127.0.0.1",
        )
        if ceiling:
            env["TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT"] = ceiling
        with database(backend, workdir, env), server(workdir, env) as base:
            prepare(base, 0, OWNER)
            # The owner's usual address: they logged in from it before the storm.
            httpx.post(
                f"{base}/token",
                data={"username": OWNER, "password": PASSWORD},
                headers={"X-Forwarded-For": OWNER_ADDRESS},
            ).raise_for_status()
            token = prepare(base, 20, "normal")

            quiet_out: Queue[object] = context.Queue()
            normal(base, token, quiet_seconds, quiet_out)
            quiet = quiet_out.get()
            assert isinstance(quiet, list)

            attack_out: Queue[object] = context.Queue()
            storm_out: Queue[object] = context.Queue()
            attack_process = context.Process(
                target=attack, args=(base, attackers, storm_seconds + 1, spread, attack_out)
            )
            attack_process.start()
            time.sleep(1)
            normal_process = context.Process(
                target=normal, args=(base, token, storm_seconds, storm_out)
            )
            normal_process.start()
            owner, owner_ms = owner_logins(base, storm_seconds)
            stormy = storm_out.get()
            attacked = attack_out.get()
            normal_process.join()
            attack_process.join()
            assert isinstance(stormy, list)
            assert isinstance(attacked, dict)
            audit = audit_totals(base, workdir, env)

    attempts = sum(owner.values())
    succeeded = owner.get("200", 0)
    rate = 100 * succeeded / max(attempts, 1)
    quiet_p99, storm_p99 = percentile(quiet, 99), percentile(stormy, 99)
    print(
        f"\n== {backend}: {attackers} attackers ({spread} addresses) for {storm_seconds:.0f} s, "
        f"{'account ceiling ' + ceiling if ceiling else 'default limits'}, server on core 0"
    )
    print(
        f"owner logins: {succeeded}/{attempts} succeeded ({rate:.1f}%); answers {dict(owner)}; "
        f"latency p50 {percentile(owner_ms, 50):.0f} ms, max {max(owner_ms, default=0):.0f} ms"
    )
    print(
        f"normal GET /posts/ ({NORMAL_CLIENTS} clients): p99 quiet {quiet_p99:.1f} ms, "
        f"during the storm {storm_p99:.1f} ms ({storm_p99 / max(quiet_p99, 1e-9):.2f}x); "
        f"p50 {percentile(quiet, 50):.1f} -> {percentile(stormy, 50):.1f} ms; "
        f"{len(quiet) / quiet_seconds:.0f} -> {len(stormy) / storm_seconds:.0f} req/s"
    )
    total = sum(attacked.values())
    print(
        f"attacker requests: {total} ({total / storm_seconds:.0f}/s); "
        f"401 (hashed, refused): {attacked.get('401', 0)}; "
        f"429 (refused before the hash): {attacked.get('429', 0)}; "
        f"other: { {k: v for k, v in attacked.items() if k not in ('401', '429')} }"
    )
    print(f"audit log: {audit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--quiet", type=float, default=10, help="seconds of normal traffic alone")
    parser.add_argument("--storm", type=float, default=30, help="seconds of storm")
    parser.add_argument("--attackers", type=int, default=50)
    parser.add_argument("--spread", choices=["fixed", "rotating"], default="fixed")
    parser.add_argument(
        "--ceiling", help="TIKTIMER_RATE_LIMIT_LOGIN_ACCOUNT for the run (default: its default)"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(backend, args.quiet, args.storm, args.attackers, args.spread, args.ceiling)


if __name__ == "__main__":
    main()

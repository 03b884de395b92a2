"""Throughput and latency of the hot API paths against a real `tiktimer serve` on loopback.

Protocol: one server process pinned to core 0, the load generator (wrk) pinned to core 1,
32 connections. Scenarios: authenticated `GET /posts/` with 50 posts, `POST /posts/`,
`GET /health`, and `GET /health` while a login storm (32 connections on `POST /token`) runs.

    python bench/api.py                      # both backends, 10 s per scenario
    python bench/api.py --backend postgresql --duration 20

Needs wrk (`apt-get install wrk`) and, for PostgreSQL, the server in TIKTIMER_TEST_PG_URL
(default: postgres@127.0.0.1:5432/test); a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.databases import create_pg_database, drop_pg_database  # noqa: E402
from tests.fixtures.server import clean_env, free_port, tiktimer_command  # noqa: E402
from tests.fixtures.tcp_proxy import TcpProxy  # noqa: E402

PASSWORD = "correct horse battery"
CONNECTIONS = 32
BASELINE = "baseline: raw asyncpg GET /posts/"
SERVER: dict[str, int] = {}  # pid of the server under test, for CPU accounting


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: its cost per request, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str,
    duration: int,
    connections: int,
    *,
    script: str | None = None,
    headers: dict[str, str] | None = None,
    pid: int | None = None,
) -> dict[str, float]:
    """wrk's figures, and the CPU time per request of `pid` (default: our server)."""
    pid = pid or SERVER.get("pid")
    command = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output)
    if pid and result["requests"]:
        used = cpu_seconds(pid) - cpu_before
        result["cpu_us"] = used / result["requests"] * 1e6
    return result


def parse_wrk(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    done = re.search(r"(\d+) requests in", output)
    result["requests"] = float(done.group(1)) if done else 0.0
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        result[f"p{pct}"] = ms(match.group(1)) if match else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["errors"] = float(non2xx.group(1)) if non2xx else 0.0
    return result


@contextmanager
def server(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log = (workdir / "server.log").open("wb")
    command = [
        "taskset",
        "-c",
        "0",
        *tiktimer_command(),
        "serve",
        "--port",
        str(port),
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError((workdir / "server.log").read_text())
        SERVER["pid"] = process.pid
        yield base
        SERVER.clear()
    finally:
        process.terminate()
        process.wait(timeout=120)  # a loaded machine can take a while to shut down
        log.close()


def prepare(base: str, posts: int, username: str = "bench") -> str:
    """A user with `posts` posts; returns its access token."""
    user = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    httpx.post(f"{base}/register", json=user, timeout=60).raise_for_status()
    form = {"username": username, "password": PASSWORD}
    token = httpx.post(f"{base}/token", data=form, timeout=60).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    start = datetime.now(UTC) + timedelta(days=1)
    for i in range(posts):
        body = {
            "content": f"post {i} #bench",
            "scheduled_time": (start + timedelta(minutes=i)).isoformat(),
            "draft": True,  # no account or media: a scheduled post needs both (issue 13)
        }
        httpx.post(f"{base}/posts/", json=body, headers=headers, timeout=60).raise_for_status()
    return str(token["access_token"])


def lua_post(workdir: Path, path: str, body: str, content_type: str, token: str | None) -> str:
    script = workdir / f"{path.strip('/').replace('/', '_') or 'root'}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
        f'wrk.headers["Content-Type"] = "{content_type}"\n{auth}'
    )
    return str(script)


def run_backend(
    backend: str, duration: int, scheduler: bool = True
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The scenarios' figures, and on PostgreSQL the round trips per request."""
    results: dict[str, dict[str, float]] = {}
    trips: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tiktimer-bench-") as tmp:
        workdir = Path(tmp)
        env = clean_env(SECRET_KEY="b" * 40, TIKTIMER_DATA_DIR=str(workdir / "data"))
        env["TIKTIMER_RATE_LIMITS"] = "false"  # the login storm must reach the hash threads
        if not scheduler:  # an API process of a scale-out: the dispatcher runs elsewhere
            env["TIKTIMER_RUN_SCHEDULER"] = "false"
        pg_url = None
        if backend == "postgresql":
            pg_url = create_pg_database("tiktimer_bench")
            env["DATABASE_URL"] = pg_url
            subprocess.run(
                [*tiktimer_command(), "db", "upgrade"],
                env=env,
                cwd=workdir,
                check=True,
                capture_output=True,
            )
        try:
            with server(workdir, env) as base:
                token = prepare(base, 50)
                with baseline(pg_url) as floor:
                    results.update(scenarios(base, floor, workdir, token, duration))
                results.update(login_storm(base, workdir, duration))
            if pg_url:
                trips = round_trips(workdir, env, pg_url)
        finally:
            if pg_url:
                drop_pg_database(pg_url)
    return results, trips


def scenarios(
    base: str, floor: str | None, workdir: Path, token: str, duration: int
) -> dict[str, dict[str, float]]:
    """Each scenario of ours beside the baseline in the same run, in the order A B B A, so
    a change in the machine's load weighs on both sides alike."""
    auth = {"Authorization": f"Bearer {token}"}
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = json.dumps({"content": "bench post", "scheduled_time": later, "draft": True})
    # Another user writes, so the list user and the baseline keep their 50 posts.
    writer = prepare(base, 0, "writer")
    script = lua_post(workdir, "/posts/", body, "application/json", writer)
    ours: dict[str, Callable[[int], dict[str, float]]] = {
        "GET /posts/ (50 posts)": lambda d: wrk(f"{base}/posts/", d, CONNECTIONS, headers=auth),
        "GET /health": lambda d: wrk(f"{base}/health", d, CONNECTIONS),
        "POST /posts/": lambda d: wrk(f"{base}/posts/", d, CONNECTIONS, script=script),
    }
    results: dict[str, dict[str, float]] = {}
    floors: list[dict[str, float]] = []
    half = max(1, duration // 2)
    for name, measure in ours.items():
        if floor is None:
            results[name] = measure(duration)
            continue
        first = measure(half)
        pid = SERVER["baseline_pid"]
        floors += [wrk(f"{floor}/posts/", half, CONNECTIONS, pid=pid) for _ in range(2)]
        results[name] = merged([first, measure(half)])
    if floors:
        results[BASELINE] = merged(floors)
    return results


def merged(runs: list[dict[str, float]]) -> dict[str, float]:
    """Runs of one scenario as one: requests and CPU summed, latencies the worst run's."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["requests"] / r["rps"] for r in runs if r["rps"])
    result = {
        "rps": requests / seconds if seconds else 0.0,
        "requests": requests,
        "p50": max(r["p50"] for r in runs),
        "p99": max(r["p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }
    if all("cpu_us" in r for r in runs) and requests:
        result["cpu_us"] = sum(r["cpu_us"] * r["requests"] for r in runs) / requests
    return result


@contextmanager
def baseline(pg_url: str | None) -> Iterator[str | None]:
    """The raw asyncpg + orjson floor on the same data, pinned and loaded the same way;
    None on SQLite (it has no asyncpg floor)."""
    if pg_url is None:
        yield None
        return
    port = free_port()
    env = dict(os.environ, BASELINE_PG_DSN=pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    command = [
        "taskset",
        "-c",
        "0",
        sys.executable,
        "-m",
        "uvicorn",
        "baseline_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--app-dir",
        str(ROOT / "bench"),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ours = dict(SERVER)
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/posts/", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        SERVER["baseline_pid"] = process.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        SERVER.clear()
        SERVER.update(ours)
        process.terminate()
        process.wait(timeout=120)  # a loaded machine can take a while to shut down


@contextmanager
def counting_proxy(pg_url: str) -> Iterator[tuple[str, TcpProxy]]:
    """A loopback proxy in front of PostgreSQL, on a thread of its own; yields the database
    URL through it and the proxy, whose `sent_upstream` counts the client's writes."""
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def round_trips(workdir: Path, env: dict[str, str], pg_url: str) -> dict[str, float]:
    """Database round trips per request, counted on the wire: asyncpg writes each round
    trip's messages at once, so the client's writes through the proxy are its round trips.
    Warmed first (every pooled connection prepares its statements once); the least of
    three batches, so a background poll that lands in one batch is not billed."""
    counts: dict[str, float] = {}
    with (
        counting_proxy(pg_url) as (url, proxy),
        server(workdir, {**env, "DATABASE_URL": url}) as (base),
    ):
        token = httpx.post(f"{base}/token", data={"username": "writer", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        body = {"content": "bench post", "scheduled_time": later, "draft": True}
        calls: dict[str, Callable[[httpx.Client], object]] = {
            "GET /posts/": lambda c: c.get("/posts/", headers=auth).raise_for_status(),
            "GET /health": lambda c: c.get("/health").raise_for_status(),
            "POST /posts/": lambda c: c.post("/posts/", json=body, headers=auth).raise_for_status(),
        }
        with httpx.Client(base_url=base) as client:
            for name, call in calls.items():
                for _ in range(100):
                    call(client)
                batches = []
                for _ in range(3):
                    before = proxy.sent_upstream
                    for _ in range(50):
                        call(client)
                    batches.append((proxy.sent_upstream - before) / 50)
                counts[name] = min(batches)
    return counts


def login_storm(base: str, workdir: Path, duration: int) -> dict[str, dict[str, float]]:
    """/health latency alone, then while 32 connections hammer POST /token."""
    quiet = wrk(f"{base}/health", duration, 4)
    script = lua_post(
        workdir,
        "/token",
        f"username=bench&password={PASSWORD}",
        "application/x-www-form-urlencoded",
        None,
    )
    storm = subprocess.Popen(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t",
            "1",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{duration + 4}s",
            "--latency",
            "--timeout",
            "60s",
            "-s",
            script,
            f"{base}/token",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    during = wrk(f"{base}/health", duration, 4)
    logins = parse_wrk(storm.communicate()[0])
    return {
        "GET /health, 4 conns, quiet": quiet,
        "GET /health, 4 conns, during login storm": during,
        "POST /token storm (32 conns)": logins,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="serve without the in-process dispatcher (TIKTIMER_RUN_SCHEDULER=false)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        results, trips = run_backend(backend, args.duration, scheduler=not args.no_scheduler)
        print(f"\n== {backend}: server on core 0, wrk on core 1, {args.duration}s per scenario")
        header = f"{'scenario':45} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
        print(f"{header} {'CPU us/req':>10} {'1-core cap':>10}")
        for name, r in results.items():
            cpu = r.get("cpu_us", float("nan"))
            print(
                f"{name:45} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:8.0f}"
                f" {cpu:10.0f} {1e6 / cpu if cpu == cpu else float('nan'):10.0f}"
            )
        print("CPU us/req: server CPU time per request; 1-core cap: 1e6 / that (req/s)")
        quiet = results["GET /health, 4 conns, quiet"]["p99"]
        storm = results["GET /health, 4 conns, during login storm"]["p99"]
        print(f"health p99 during login storm / quiet: {storm / quiet:.2f}x (target <= 3x)")
        if BASELINE in results:
            _ratios(results, trips)


# Targets of issue 14: ours / the baseline's throughput, measured in the same run.
TARGETS = {"GET /posts/ (50 posts)": 0.8, "GET /health": 1.0, "POST /posts/": 0.4}


def _ratios(results: dict[str, dict[str, float]], trips: dict[str, float]) -> None:
    floor = results[BASELINE]
    print("vs the raw asyncpg baseline (same run, A B B A): throughput; 1-core cap (CPU)")
    for name, target in TARGETS.items():
        ours = results[name]
        cap = floor["cpu_us"] / ours["cpu_us"] if "cpu_us" in ours else float("nan")
        print(
            f"  {name:24} {ours['rps'] / floor['rps']:5.2f} (target >= {target}); "
            f"CPU per request: {cap:5.2f}"
        )
    p99 = results["GET /posts/ (50 posts)"]["p99"] / floor["p99"]
    print(f"  GET /posts/ p99 / baseline p99: {p99:.2f}x (target <= 1.5x)")
    if trips:
        per = ", ".join(f"{name} {count:.1f}" for name, count in trips.items())
        print(f"database round trips per request (on the wire): {per}")


if __name__ == "__main__":
    main()

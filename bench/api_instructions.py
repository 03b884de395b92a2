"""CPU instructions per request of the hot API paths, counted by callgrind: a figure that
other load on the machine does not move, unlike req/s.

A real `tiktimer serve` on PostgreSQL (scheduler off, so only requests are counted) runs
under `valgrind --tool=callgrind --instr-atstart=no`; after a warm-up, counting is switched
on for exactly `--requests` sequential requests of each scenario, then off. The raw asyncpg
baseline (bench/baseline_app.py) is counted the same way for `GET /posts/`, so the ratio of
the two is the CPU ratio that bench/api.py's throughput ratio tends to on an idle machine.

    python bench/api_instructions.py                       # 100 requests per scenario
    python bench/api_instructions.py --scenarios post --requests 200

Needs valgrind. Slow: the server starts under valgrind (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.fixtures.databases import create_pg_database, drop_pg_database  # noqa: E402
from tests.fixtures.server import clean_env, free_port, tiktimer_command  # noqa: E402

from api import prepare  # noqa: E402


def callgrind(
    command: list[str], out: Path, env: dict[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    return subprocess.Popen(
        [*valgrind, f"--callgrind-out-file={out}.%p", *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(url: str) -> None:
    for _ in range(3000):
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def count(pid: int, out: Path, call: Callable[[], object], requests: int) -> float:
    """Instructions per request of `requests` calls, after 30 uncounted ones."""
    for _ in range(30):
        call()
    control = ["callgrind_control"]
    subprocess.run([*control, "-z", str(pid)], check=True, capture_output=True)
    subprocess.run([*control, "-i", "on", str(pid)], check=True, capture_output=True)
    for _ in range(requests):
        call()
    subprocess.run([*control, "-i", "off", str(pid)], check=True, capture_output=True)
    subprocess.run([*control, "-s", str(pid)], check=True, capture_output=True)
    subprocess.run([*control, "-d", str(pid)], check=True, capture_output=True)
    time.sleep(1)  # let the dump finish writing
    dump = max(out.parent.glob(f"{out.name}.*"), key=lambda p: p.stat().st_mtime)
    lines = dump.read_text().splitlines()
    totals = [line for line in lines if line.startswith(("summary:", "totals:"))]
    if not totals or not int(totals[-1].split()[1]):
        raise RuntimeError(f"no instructions counted in {dump.name}")
    return int(totals[-1].split()[1]) / requests


def ours(workdir: Path, env: dict[str, str], scenarios: list[str], n: int) -> dict[str, float]:
    port = free_port()
    out = workdir / "ours.cg"
    command = [*tiktimer_command(), "serve", "--port", str(port), "--no-access-log"]
    process = callgrind(command, out, cwd=workdir, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health")
        auth = {"Authorization": f"Bearer {prepare(base, 50)}"}
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        body = {"content": "bench post", "scheduled_time": later, "draft": True}
        with httpx.Client(base_url=base, timeout=120) as client:
            calls: dict[str, Callable[[], object]] = {
                "get": lambda: client.get("/posts/", headers=auth).raise_for_status(),
                "post": lambda: client.post("/posts/", json=body, headers=auth).raise_for_status(),
                # Slowed down by valgrind, /health may answer 503 (its checks time out).
                "health": lambda: client.get("/health"),
            }
            return {name: count(process.pid, out, calls[name], n) for name in scenarios}
    finally:
        process.terminate()
        process.wait(timeout=120)


def baseline(workdir: Path, pg_url: str, n: int) -> float:
    port = free_port()
    out = workdir / "baseline.cg"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    command = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(port)]
    command += ["--no-access-log", "--app-dir", str(ROOT / "bench")]
    process = callgrind(command, out, env={**clean_env(), "BASELINE_PG_DSN": dsn})
    url = f"http://127.0.0.1:{port}/posts/"
    try:
        wait_for(url)
        with httpx.Client(timeout=120) as client:
            return count(process.pid, out, lambda: client.get(url).raise_for_status(), n)
    finally:
        process.terminate()
        process.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="get,post,health", help="get, post, health")
    parser.add_argument("--requests", type=int, default=100, help="counted per scenario")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    with tempfile.TemporaryDirectory(prefix="tiktimer-instructions-") as tmp:
        workdir = Path(tmp)
        pg_url = create_pg_database("tiktimer_instructions")
        env = clean_env(SECRET_KEY="b" * 40, TIKTIMER_DATA_DIR=str(workdir / "data"))
        env.update(DATABASE_URL=pg_url, TIKTIMER_RATE_LIMITS="false")
        env["TIKTIMER_RUN_SCHEDULER"] = "false"
        try:
            migrate = [*tiktimer_command(), "db", "upgrade"]
            subprocess.run(migrate, env=env, cwd=workdir, check=True, capture_output=True)
            figures = ours(workdir, env, scenarios, args.requests)
            floor = baseline(workdir, pg_url, args.requests) if "get" in scenarios else None
        finally:
            drop_pg_database(pg_url)
    print(f"instructions per request (callgrind, {args.requests} requests each):")
    names = {"get": "GET /posts/ (50 posts)", "post": "POST /posts/", "health": "GET /health"}
    for name, value in figures.items():
        print(f"  {names[name]:28} {value / 1e6:7.2f} M")
    if floor is not None:
        print(f"  {'baseline: raw asyncpg GET':28} {floor / 1e6:7.2f} M")
        for name, value in figures.items():
            print(f"  {names[name]:28} CPU ratio to the baseline: {floor / value:5.2f}")


if __name__ == "__main__":
    main()

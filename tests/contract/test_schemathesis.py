"""Schemathesis against a live `tiktimer serve`, on SQLite and on PostgreSQL: zero failures.

Every operation of the OpenAPI document, authenticated as an admin who owns one of each
object (their ids are mixed into the generated ones), 50 examples each, with the checks
below. Phases: explicit examples, coverage (boundaries and invalid values of every
parameter) and fuzzing. The server runs with `TIKTIMER_RATE_LIMITS=false`: otherwise the
login and registration limits would turn most of the run into 429s. A failure prints
schemathesis' report, with a curl line to replay each case.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.holdings import Holdings, create_holdings
from tests.fixtures.live import live_backend
from tests.fixtures.server import run_tiktimer, running_server
from tests.fixtures.users import DEFAULT_PASSWORD, bearer, login

pytestmark = pytest.mark.slow

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "status_code_conformance",
)
#: The stateful phase (chains of calls through inferred links) is left out to keep the run
#: within a few minutes; the ownership matrix and the canary run cover the chains we rely on.
PHASES = "examples,coverage,fuzzing"
SEED = "20261203"
ADMIN = "contract_admin"
LOGGING_OUT = "contract_logout"  # POST /auth/logout runs as this user (see the hooks)
RUN_TIMEOUT_SECONDS = 600


@pytest.fixture(params=["sqlite", "postgresql"])
def server_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings of a fresh, migrated database of each backend, with an admin in it."""
    with live_backend(request.param, tmp_path, TIKTIMER_RATE_LIMITS="false") as env:
        for username, role in ((ADMIN, ["--admin"]), (LOGGING_OUT, [])):
            created = run_tiktimer(
                tmp_path,
                "users",
                "create",
                username,
                "--email",
                f"{username}@example.com",
                *role,
                env=env,
                stdin=DEFAULT_PASSWORD + "\n",
            )
            assert created.returncode == 0, created.stderr
        yield env


def schemathesis_command() -> list[str]:
    script = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert script, "schemathesis is not installed (pip install -e '.[test]')"
    return [script]


async def _seed(base: str, directory: Path) -> Holdings:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        headers = bearer(await login(client, ADMIN))
        return await create_holdings(client, headers, directory, creator="contract_creator")


def test_every_operation_conforms(server_env: dict[str, str], tmp_path: Path) -> None:
    with running_server(tmp_path, env=server_env) as base:
        holdings = asyncio.run(_seed(base, tmp_path))
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(HOOKS),
            "CONTRACT_BASE_URL": base,
            "CONTRACT_USERNAME": ADMIN,
            "CONTRACT_LOGOUT_USERNAME": LOGGING_OUT,
            "CONTRACT_PASSWORD": DEFAULT_PASSWORD,
            "CONTRACT_IDS": json.dumps(holdings.ids()),
        }
        result = subprocess.run(
            [
                *schemathesis_command(),
                "run",
                f"{base}/openapi.json",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                PHASES,
                "--max-examples",
                "50",
                "--seed",
                SEED,
                "--workers",
                "2",
                "--request-timeout",
                "30",
                "--generation-database",
                "none",
                "--no-color",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        server_log = (tmp_path / "server.log").read_text(errors="replace")
    report = result.stdout[-40_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, f"{report}\n--- server log (end) ---\n{server_log[-10_000:]}"
    assert "No issues found" in result.stdout or " passed" in result.stdout, report

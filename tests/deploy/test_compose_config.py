"""`docker compose config` accepts compose.yaml as a fresh clone has it (no .env) and with
the scale-out .env filled in from deploy/scale-out.env.example. Needs the compose tool
(`.ci/run` installs Debian's when missing); skipped without it, except under CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.files import ROOT, SCALE_OUT_SERVICES

pytestmark = pytest.mark.slow


def compose_tool() -> list[str]:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    if os.environ.get("CI"):
        pytest.fail("no `docker compose` nor `docker-compose` (CI installs it)", pytrace=False)
    pytest.skip("no `docker compose` nor `docker-compose` on this machine")


def project(tmp_path: Path, env: str | None) -> Path:
    """A copy of the files compose reads, with `env` as its .env."""
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    shutil.copy(ROOT / "Dockerfile", tmp_path)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    if env is not None:
        (tmp_path / ".env").write_text(env)
    return tmp_path


def run_config(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [*compose_tool(), "config"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config(directory: Path) -> dict[str, Any]:
    result = run_config(directory)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = yaml.safe_load(result.stdout)
    return data


def filled_env_example() -> str:
    values = {
        "SECRET_KEY": "compose-config-test-secret-key-0123456789",
        "TIKTIMER_TOKEN_KEYS": "a" * 43 + "=",
        "POSTGRES_PASSWORD": "pg-password",
        "MINIO_ROOT_PASSWORD": "minio-password",
    }
    lines = []
    for line in (ROOT / "deploy" / "scale-out.env.example").read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={values[name]}" if name in values and line == f"{name}=" else line)
    return "\n".join(lines) + "\n"


def test_compose_runs_the_embedded_setup_with_no_env_file(tmp_path: Path) -> None:
    model = config(project(tmp_path, env=None))
    assert set(model["services"]) == {"api"}
    api = model["services"]["api"]
    assert api["command"] == ["tiktimer", "serve"]
    assert api["environment"] == {"TIKTIMER_PUBLIC_URL": "http://localhost:8000"}


def test_compose_runs_the_scale_out_setup_with_the_documented_env(tmp_path: Path) -> None:
    model = config(project(tmp_path, env=filled_env_example()))
    services = model["services"]
    assert set(services) == SCALE_OUT_SERVICES
    images = {services[name]["image"] for name in ("api", "migrate", "worker")}
    assert images == {"tiktimer:local"}
    assert [name for name, service in services.items() if "build" in service] == ["api"]
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == (
            "postgresql+asyncpg://tiktimer:pg-password@postgres:5432/tiktimer"
        )
        assert env["SECRET_KEY"] == "compose-config-test-secret-key-0123456789"
        assert env["TIKTIMER_PUBLIC_URL"] == "http://localhost:8000"


def test_scale_out_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    env = (ROOT / "deploy" / "scale-out.env.example").read_text()  # secrets left empty
    result = run_config(project(tmp_path, env=env))
    assert result.returncode != 0
    assert "in .env" in result.stderr, result.stderr

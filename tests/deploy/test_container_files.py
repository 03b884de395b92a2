"""The image, compose files and systemd units run commands the CLI has, as it spells them,
and are shaped as docs/deployment.md says: one image, built once, non-root, with a health
check; compose starting with no .env; scale-out with its services; no committed secret."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.files import (
    ROOT,
    SCALE_OUT_SERVICES,
    TIKTIMER_IMAGE,
    cli_command,
    compose,
    dockerfile_stages,
    exec_form,
    shell_blocks,
    systemd_exec_start,
    tiktimer_invocations,
)
from tiktimer.config_check import misnamed_settings

BASE = ROOT / "compose.yaml"
SCALE_OUT = ROOT / "deploy" / "compose.scale-out.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "scale-out.env.example"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
SECRETS = ("SECRET_KEY", "TIKTIMER_TOKEN_KEYS", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD")


def env_example() -> dict[str, str]:
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"[A-Z_]+=", line)]
    return dict(line.split("=", 1) for line in lines)


def tiktimer_services(*files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for data in files
        for name, service in data["services"].items()
        if service.get("image") == TIKTIMER_IMAGE
    }


def test_the_image_is_multi_stage_slim_and_runs_serve_as_a_non_root_user() -> None:
    build, final = dockerfile_stages()
    assert build.name == "build"
    assert (ROOT / "Dockerfile").read_text().count("ARG PYTHON_IMAGE=python:3.11-slim") == 1
    assert build.base == final.base == "${PYTHON_IMAGE}"
    assert any("pip install" in run and "-c constraints.txt" in run for run in build.args("RUN"))
    # The final stage installs nothing: it copies the environment the build stage made.
    assert final.args("COPY") == ["--from=build /opt/tiktimer /opt/tiktimer"]
    assert not any(
        re.search(r"pip |apt-get|gcc|build-essential|npm", run) for run in final.args("RUN")
    )
    [user] = final.args("USER")
    assert user not in ("root", "0")
    assert any(
        f"--uid 10001 --home-dir /data --no-create-home {user}" in r for r in final.args("RUN")
    )
    [healthcheck] = final.args("HEALTHCHECK")
    assert "/health" in healthcheck
    assert "TIKTIMER_PORT" in healthcheck
    [cmd] = final.args("CMD")
    assert cli_command(exec_form(cmd)) == ("serve",)
    env = " ".join(final.args("ENV"))
    assert "TIKTIMER_HOST=0.0.0.0" in env
    assert "TIKTIMER_DATA_DIR=/data" in env


def test_no_front_end_build_is_needed() -> None:
    """package.json brings test tooling only; the web app's assets ship in the package."""
    package = (ROOT / "package.json").read_text()
    assert '"scripts"' not in package
    assert '"dependencies"' not in package
    assert '"devDependencies"' in package
    assert "axe-core" in package
    assert list((ROOT / "src/tiktimer/web/static").rglob("*.css"))


def test_compose_starts_on_the_embedded_setup_without_any_env_file() -> None:
    base = compose(BASE)
    assert list(base["services"]) == ["api"]
    [api] = base["services"].values()
    assert "env_file" not in api
    assert api["build"] == "."
    assert cli_command(api["command"]) == ("serve",)
    assert api["volumes"] == ["data:/data"]
    # Unset variables fall back to defaults: nothing here is required.
    assert not re.search(r"\$\{[A-Z_]+(:?\?)", BASE.read_text())


def test_scale_out_has_its_services_and_builds_the_image_once() -> None:
    base, scale = compose(BASE), compose(SCALE_OUT)
    services = scale["services"]
    assert set(services) == SCALE_OUT_SERVICES
    ours = tiktimer_services(base, scale)
    assert set(ours) == {"api", "migrate", "worker"}
    assert [
        name for data in (base, scale) for name, s in data["services"].items() if "build" in s
    ] == ["api"]
    commands = {name: cli_command(service["command"]) for name, service in ours.items()}
    assert commands == {"api": ("serve",), "migrate": ("db", "upgrade"), "worker": ("worker",)}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["deploy"]["replicas"] >= 2
    assert "pg-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        env = services[name]["environment"]
        assert env["TIKTIMER_RUN_SCHEDULER"] == "false"  # workers publish, not the API
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:" in env["DATABASE_URL"]
        assert env["TIKTIMER_STORAGE"] == "s3"
        assert env["TIKTIMER_S3_ENDPOINT_URL"] == "http://minio:9000"
        # One sandbox across containers: the same key and addresses everywhere.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert (
            env["TIKTIMER_PUBLIC_URL"]
            == base["services"]["api"]["environment"]["TIKTIMER_PUBLIC_URL"]
        )
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_the_scale_out_env_example_commits_no_secret_and_names_only_real_settings() -> None:
    env = env_example()
    assert env["COMPOSE_FILE"] == "compose.yaml:deploy/compose.scale-out.yaml"
    for path in env["COMPOSE_FILE"].split(":"):
        assert (ROOT / path).is_file()
    for name in SECRETS:
        assert env[name] == "", f"{name} must be left for the operator to fill in"
    # Every line also reaches the TikTimer containers (env_file): none may draw a warning.
    filled = {name: value or "x" for name, value in env.items()}
    assert misnamed_settings(filled, env_file=None) == []
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_units_run_real_commands_as_an_unprivileged_user(unit: Any) -> None:
    argv = systemd_exec_start(unit)
    assert argv[0] == "/opt/tiktimer/bin/tiktimer"
    assert cli_command(argv) in {("serve",), ("worker",)}
    text = unit.read_text()
    assert "User=tiktimer" in text
    assert "EnvironmentFile=/etc/tiktimer/tiktimer.env" in text


def test_the_units_are_one_for_serve_and_one_for_worker() -> None:
    assert {cli_command(systemd_exec_start(u)) for u in UNITS} == {("serve",), ("worker",)}


def test_every_tiktimer_command_of_the_deployment_guide_exists() -> None:
    guide = ROOT / "docs" / "deployment.md"
    commands = [argv for block in shell_blocks(guide) for argv in tiktimer_invocations(block)]
    assert len(commands) >= 8, commands
    named = {cli_command(argv) for argv in commands}
    assert {("serve",), ("worker",), ("db", "upgrade"), ("keys", "rotate")} <= named


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["tiktimer", "serv"], "has no command 'serv'"),
        (["tiktimer", "worker", "--concurency", "2"], "No such option"),
        (["tiktimer", "db", "migrate"], "has no command 'migrate'"),
    ],
)
def test_the_check_catches_a_misspelt_command(argv: list[str], problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        cli_command(argv)


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify` on copies whose ExecStart names this checkout's `tiktimer`."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    here = shutil.which("tiktimer", path=str(Path(sys.executable).parent))
    assert here is not None
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/tiktimer/bin/tiktimer", here))
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", *copies], capture_output=True, text=True, timeout=60, check=False
    )
    problems = [line for line in result.stderr.splitlines() if any(u.name in line for u in UNITS)]
    assert problems == [], result.stderr

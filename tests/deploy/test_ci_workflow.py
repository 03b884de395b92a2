"""The GitHub Actions workflow cannot run here: check that it runs what CI runs here
(`.ci/run`, whose `make` targets exist), gives the tests the databases they read from the
variables they read, and builds and starts the image that compose.yaml names."""

from __future__ import annotations

import inspect
import re
from typing import Any

import yaml

from tests.deploy.files import ROOT, TIKTIMER_IMAGE, compose
from tests.fixtures import databases

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_./$()-]+):(?!=)", text, flags=re.M))


def test_the_test_job_runs_ci_run_as_root_with_the_python_ci_uses() -> None:
    job = workflow()["jobs"]["test"]
    [run] = [r for r in runs(job) if ".ci/run" in r]
    assert run.strip().endswith("bash .ci/run")
    assert run.startswith("sudo")  # .ci/run installs with apt-get, as root
    [python] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    assert python["with"]["python-version"] == "3.11"
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()
    assert job["env"]["CI"] == "true"


def test_ci_run_names_make_targets_that_exist() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    named = re.findall(r"make --no-print-directory (\S+)", script)
    assert {"check", "test", ".venv/.installed", "browser-tools"} <= set(named)
    targets = make_targets()
    for target in named:
        assert target in targets or target.replace(".venv", "$(VENV)") in targets, target


def test_the_services_are_the_ones_the_tests_read() -> None:
    job = workflow()["jobs"]["test"]
    services = job["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    env = job["env"]
    # The variables are the ones the fixtures read, and point at the mapped ports.
    assert '"TIKTIMER_TEST_PG_URL"' in inspect.getsource(databases.admin_pg_url)
    rate_limits = (ROOT / "tests" / "api" / "test_rate_limits.py").read_text()
    assert 'os.environ.get("TIKTIMER_TEST_REDIS_URL"' in rate_limits
    assert env["TIKTIMER_TEST_PG_URL"] == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    assert services["postgres"]["env"]["POSTGRES_DB"] == "test"
    assert services["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert "5432:5432" in services["postgres"]["ports"]
    assert env["TIKTIMER_TEST_REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert "6379:6379" in services["redis"]["ports"]


def test_the_image_job_builds_the_image_compose_names_and_checks_health() -> None:
    steps = "\n".join(runs(workflow()["jobs"]["image"]))
    [api] = [s for s in compose(ROOT / "compose.yaml")["services"].values()]
    tag = TIKTIMER_IMAGE.removeprefix("${IMAGE:-").removesuffix("}")
    assert api["image"] == TIKTIMER_IMAGE
    assert f"docker build -t {tag} ." in steps
    assert "docker compose config" in steps
    assert f"-p 8000:8000 {tag}" in steps
    assert "http://127.0.0.1:8000/health" in steps
    assert "EXPOSE 8000" in (ROOT / "Dockerfile").read_text()

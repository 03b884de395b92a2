"""`tiktimer worker` with `TIKTIMER_METRICS_WORKER_PORT` on a port that is taken: a clear
one-line error and exit code 1, not a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.fixtures.server import clean_env, run_tiktimer

pytestmark = pytest.mark.slow


def test_a_taken_metrics_port_is_named_with_its_fix(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(
            SECRET_KEY="s" * 40,
            TIKTIMER_DATA_DIR=str(tmp_path / "data"),
            TIKTIMER_METRICS_WORKER_PORT=str(port),
        )
        result = run_tiktimer(tmp_path, "worker", env=env)
    assert result.returncode == 1, result.stderr
    assert f"error: the metrics port 127.0.0.1:{port} cannot be opened" in result.stderr
    assert "TIKTIMER_METRICS_WORKER_PORT" in result.stderr
    assert "Traceback" not in result.stderr

"""`tiktimer doctor` as a real subprocess: each problem reported with its fix, and the exit code.

Every installation is real: a migrated SQLite file or PostgreSQL database, the local
storage directory, and for real TikTok a loopback HTTP server standing in for its API base.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.doctor.conftest import Installation, failures, results
from tests.fixtures.server import clean_env, free_port, run_tiktimer
from tiktimer.db import migrate

pytestmark = pytest.mark.slow


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_base() -> Iterator[str]:
    """A loopback server answering as TikTok's API base would to a bare GET (404)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_healthy_setup_is_all_ok_and_exits_0(installation: Installation) -> None:
    code, report = installation.doctor()
    assert code == 0, report
    assert report["ok"] is True
    assert {item["status"] for item in report["checks"]} == {"ok"}, report
    names = [item["check"] for item in report["checks"]]
    for check in ("configuration", "database", "clock", "storage", "tiktok", "redirect"):
        assert check in names
    code, text = installation.human()
    assert code == 0
    assert text.splitlines()[-1].endswith("0 warning(s), 0 failure(s)")


def test_unreachable_database(installation: Installation) -> None:
    broken = "postgresql+asyncpg://tiktimer:hunter2@127.0.0.1:1/tiktimer"
    code, report = installation.doctor(DATABASE_URL=broken)
    assert code == 1
    [problem] = failures(report)
    assert problem["check"] == "database"
    assert "cannot reach" in problem["message"]
    assert "hunter2" not in str(report)
    assert "DATABASE_URL" in problem["fix"]
    # What needs the database says so once, rather than failing again.
    assert results(report, "clock")[0]["status"] == "warn"


def test_database_url_of_an_unknown_kind(installation: Installation) -> None:
    code, report = installation.doctor(DATABASE_URL="mysql://root@127.0.0.1/tiktimer")
    assert code == 1
    [problem] = report["checks"]  # without settings nothing else can run
    assert problem["check"] == "configuration"
    assert "DATABASE_URL" in problem["message"]
    assert problem["fix"]


def test_outdated_schema(installation: Installation) -> None:
    migrate.downgrade(installation.url, "-1")
    code, report = installation.doctor()
    [schema] = [r for r in results(report, "database") if r["message"].startswith("schema at")]
    assert f"this version needs {migrate.head_revision(installation.url)}" in schema["message"]
    assert "`tiktimer db upgrade`" in schema["fix"]
    if installation.backend == "postgresql":
        assert (code, schema["status"]) == (1, "fail")
    else:  # `tiktimer serve` upgrades the embedded database itself
        assert (code, schema["status"]) == (0, "warn")


def test_unwritable_storage(installation: Installation) -> None:
    (installation.workdir / "data" / "media").write_text("a file where the directory goes")
    code, report = installation.doctor()
    assert code == 1
    [problem] = failures(report)
    assert problem["check"] == "storage"
    assert "cannot write a probe" in problem["message"]
    assert "directory the service's user can write" in problem["fix"]


def test_no_worker_when_the_scheduler_is_not_in_serve(installation: Installation) -> None:
    code, report = installation.doctor(TIKTIMER_RUN_SCHEDULER="false")
    assert code == 1
    [problem] = failures(report)
    assert problem["check"] == "workers"
    assert "start `tiktimer worker`" in problem["fix"]


def test_stale_worker_fails_and_live_worker_passes(installation: Installation) -> None:
    from tests.doctor.heartbeats import beat

    beat(installation.url, "gone:1:a", age=timedelta(minutes=5))
    code, report = installation.doctor(TIKTIMER_RUN_SCHEDULER="false")
    assert code == 1
    assert "newest heartbeat is" in results(report, "workers")[0]["message"]
    beat(installation.url, "here:2:b", age=timedelta(seconds=1))
    code, report = installation.doctor(TIKTIMER_RUN_SCHEDULER="false")
    assert code == 0, report
    assert results(report, "workers")[0]["message"] == "1 worker(s) alive, 1 stale"


def test_plain_http_redirect_in_production(installation: Installation, api_base: str) -> None:
    production = {
        "TIKTOK_CLIENT_KEY": "key",
        "TIKTOK_CLIENT_SECRET": "secret",
        "TIKTOK_API_BASE": api_base,
    }
    code, report = installation.doctor(
        TIKTIMER_PUBLIC_URL="http://tiktimer.example.com", **production
    )
    assert code == 1
    [problem] = failures(report)
    assert problem["check"] == "redirect"
    assert "plain HTTP" in problem["message"]
    assert "TIKTIMER_PUBLIC_URL=https://" in problem["fix"]
    assert [r["status"] for r in results(report, "tiktok")] == ["ok", "ok"]
    code, report = installation.doctor(
        TIKTIMER_PUBLIC_URL="https://tiktimer.example.com", **production
    )
    assert code == 0, report
    elsewhere = {"TIKTOK_REDIRECT_URI": "https://other.example.com/api/v1/auth/tiktok/callback"}
    code, report = installation.doctor(
        TIKTIMER_PUBLIC_URL="https://tiktimer.example.com", **production, **elsewhere
    )
    assert code == 1
    assert "not on the public URL's origin" in failures(report)[0]["message"]


def test_real_tiktok_without_a_secret(installation: Installation) -> None:
    code, report = installation.doctor(TIKTOK_CLIENT_KEY="key")
    assert code == 1
    tiktok = results(report, "tiktok")[0]
    assert (tiktok["status"], "TIKTOK_CLIENT_SECRET" in tiktok["message"]) == ("fail", True)


def test_unknown_settings_warn_with_did_you_mean(installation: Installation) -> None:
    (installation.workdir / ".env").write_text("TIKTIMER_STORAG=s3\n")
    code, report = installation.doctor(TIKTIMER_LOG_FORMT="json")
    assert code == 0  # warnings alone
    warnings = [r for r in results(report, "configuration") if r["status"] == "warn"]
    assert [w["fix"] for w in warnings] == [
        "rename it to TIKTIMER_LOG_FORMAT",
        "rename it to TIKTIMER_STORAGE",
    ]
    assert "TIKTIMER_LOG_FORMT is not a TikTimer setting" in warnings[0]["message"]
    assert warnings[1]["message"].startswith(".env: TIKTIMER_STORAG")


def test_fresh_embedded_setup_is_told_to_start(tmp_path: Path) -> None:
    """No database file yet: a warning (serve creates it), and the doctor creates nothing."""
    env = clean_env(TIKTIMER_DATA_DIR=str(tmp_path / "data"))
    result = run_tiktimer(tmp_path, "doctor", env=env)
    assert result.returncode == 0, result.stdout
    assert "does not exist yet" in result.stdout
    assert not (tmp_path / "data" / "tiktimer.db").exists()


def test_tiktok_api_unreachable(installation: Installation) -> None:
    code, report = installation.doctor(
        TIKTOK_CLIENT_KEY="key",
        TIKTOK_CLIENT_SECRET="secret",
        TIKTOK_API_BASE=f"http://127.0.0.1:{free_port()}",
        TIKTIMER_PUBLIC_URL="https://tiktimer.example.com",
    )
    assert code == 1
    [problem] = failures(report)
    assert (problem["check"], "unreachable" in problem["message"]) == ("tiktok", True)
    assert "TIKTOK_API_BASE" in problem["fix"]
    assert "secret" not in problem["message"]

"""`tiktimer posts import FILE.csv` as an operator runs it, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.live import dump_tables, live_backend
from tests.fixtures.server import run_tiktimer

pytestmark = pytest.mark.slow  # real `tiktimer` processes


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_posts_import_dry_run_rows_and_reimport(tmp_path: Path, backend: str) -> None:
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text(
        f"caption,time,draft\nfirst,{soon},yes\nbroken,someday,yes\nsecond,{soon}Z,true\n",
        encoding="utf-8-sig",
    )
    with live_backend(backend, tmp_path) as env:
        made = run_tiktimer(
            tmp_path,
            "users",
            "create",
            "ops",
            "--email",
            "o@example.com",
            env=env,
            stdin="a long enough password\n",
        )
        assert made.returncode == 0, made.stderr

        def posts_import(*args: str) -> tuple[int, str, str]:
            done = run_tiktimer(tmp_path, "posts", "import", str(csv_file), *args, env=env)
            return done.returncode, done.stdout, done.stderr

        code, out, err = posts_import("--user", "ops", "--dry-run")
        assert code == 1, err
        assert "row 3, time: 'someday' is not a time" in out
        assert "dry run: 0 created, 0 already imported, 1 invalid" in out
        code, out, err = posts_import("--user", "ops", "--mode", "rows", "--json")
        assert code == 1, err
        report = json.loads(out)
        assert [r["status"] for r in report["rows"]] == ["created", "invalid", "created"]
        code, out, err = posts_import("--user", "ops", "--mode", "rows")
        assert "row 2: already imported" in out
        assert "row 4: already imported" in out
        assert posts_import("--user", "nobody")[0] == 2
        assert posts_import("--user", "ops", "--mode", "some")[0] == 2
        csv_file.write_bytes(b"caption\nno time column\n")
        code, _, err = posts_import("--user", "ops")
        assert code == 2
        assert "'time' column is required" in err
        tables = dump_tables(env["DATABASE_URL"])
    assert sorted(p["content"] for p in tables["posts"]) == ["first", "second"]
    assert {p["status"] for p in tables["posts"]} == {"draft"}
    assert len(tables["imported_rows"]) == 2

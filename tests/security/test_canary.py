"""The canary run: a whole user journey at DEBUG leaks no secret anywhere, on both databases.

A real `tiktimer serve` (access log on, `TIKTIMER_LOG_LEVEL=DEBUG`) goes through register,
a wrong password, login, connecting a sandbox account through TikTok's consent page,
refreshing the access token (and replaying the spent refresh token), uploading a video,
publishing it to the sandbox, a post that fails because the account was disconnected, and
logout. Every secret value seen on the way (passwords, JWTs, refresh tokens, TikTok's
authorization code and tokens, the client secret, the signing keys) is then looked for in
every log line, every response body but the one that hands it out, and every row of every
table. Upload tokens (inside TikTok's upload URLs) are never shown to a client, so any
`upload_token=` value that is not redacted counts as a leak.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.holdings import future, small_video
from tests.fixtures.live import LIVE_SECRET_KEY, dump_tables, live_backend
from tests.fixtures.server import running_server
from tiktimer.kit.crypto import TokenCipher
from tiktimer.platforms.tiktok.sandbox import client_secret_for, derive_secret

pytestmark = pytest.mark.slow

PASSWORD = "canary-Pa55word-never-logged"
WRONG_PASSWORD = "canary-wrong-Pa55word-never-logged"
UPLOAD_TOKEN = re.compile(r"upload_token(?:=|%3D|\"?\s*:\s*\"?)([^&\s\"',)]+)")
REDACTION_MARKERS = ("[redacted]", "%5Bredacted%5D", "***", "[filtered]")


@dataclass
class Recorder:
    """Every response body of the run, and which secret each one handed out."""

    bodies: list[tuple[str, str]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    handed_out_by: dict[str, str] = field(default_factory=dict)

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.bodies.append(
            (f"{request.method} {request.url} -> {response.status_code}", response.text)
        )

    def secret(self, name: str, value: str, *, handed_out: bool = True) -> str:
        """Remember `value`; the latest response handed it out, unless `handed_out` is False."""
        assert value, name
        self.secrets[name] = value
        if handed_out:
            self.handed_out_by[name] = self.bodies[-1][0]
        return value


@dataclass
class Journey:
    """What the second half of the run needs from the first."""

    auth: dict[str, str] = field(default_factory=dict)
    post: dict[str, Any] = field(default_factory=dict)


def client_for(base: str, rec: Recorder) -> httpx.AsyncClient:
    hooks: dict[str, list[Any]] = {"response": [rec.record]}
    return httpx.AsyncClient(base_url=base, timeout=60, event_hooks=hooks)


async def first_half(base: str, directory: Path, rec: Recorder, state: Journey) -> None:
    """Register, fail and succeed to log in, connect, refresh, upload and publish."""
    async with client_for(base, rec) as client:
        user = {"username": "canary", "email": "canary@example.com", "password": PASSWORD}
        assert (await client.post("/register", json=user)).status_code == 200
        rec.secret("password", PASSWORD, handed_out=False)
        rec.secret("wrong password", WRONG_PASSWORD, handed_out=False)
        wrong = await client.post("/token", data={"username": "canary", "password": WRONG_PASSWORD})
        assert wrong.status_code == 401
        tokens = await _login(client, rec, "first")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}

        await _connect_sandbox_account(client, auth, rec)

        refreshed = await client.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        rec.secret("refreshed JWT", refreshed.json()["access_token"])
        rec.secret("refreshed refresh token", refreshed.json()["refresh_token"])
        replay = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert replay.status_code == 401  # a spent refresh token ends that whole login
        tokens = await _login(client, rec, "second")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}

        [account] = (await client.get("/api/v1/accounts", headers=auth)).json()
        video = small_video(directory, "canary.mp4")
        with video.open("rb") as f:
            media = await client.post(
                "/api/v1/media", files={"file": (video.name, f)}, headers=auth
            )
        assert media.status_code == 201, media.text
        post = {
            "content": "canary post",
            "scheduled_time": future(),
            "social_account_id": account["id"],
            "media_id": media.json()["id"],
            "privacy_level": "SELF_ONLY",
        }
        published = await _publish(client, auth, post)
        assert published["status"] == "published", published
        state.auth, state.post = auth, post


async def second_half(base: str, rec: Recorder, state: Journey) -> None:
    """A post that fails (its account was disconnected), then logout."""
    auth, post = state.auth, state.post
    async with client_for(base, rec) as client:
        doomed = await client.post(
            "/posts/", json={**post, "content": "canary failure"}, headers=auth
        )
        assert doomed.status_code == 201, doomed.text
        gone = await client.delete("/api/v1/auth/tiktok/disconnect", headers=auth)
        assert gone.status_code == 200, gone.text
        await client.post(f"/posts/{doomed.json()['id']}/publish", headers=auth)
        failed = await _wait(client, auth, doomed.json()["id"], {"failed"})
        assert failed["status"] == "failed", failed

        assert (await client.post("/auth/logout", headers=auth)).status_code == 204
        assert (await client.get("/users/me", headers=auth)).status_code == 401


async def _login(client: httpx.AsyncClient, rec: Recorder, which: str) -> dict[str, str]:
    response = await client.post("/token", data={"username": "canary", "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    rec.secret(f"{which} JWT", tokens["access_token"])
    rec.secret(f"{which} refresh token", tokens["refresh_token"])
    return tokens


async def _connect_sandbox_account(
    client: httpx.AsyncClient, auth: dict[str, str], rec: Recorder
) -> None:
    """The browser's way through TikTok's (the sandbox's) consent page and back."""
    start = await client.get("/api/v1/auth/tiktok/authorize", headers=auth)
    assert start.status_code == 200, start.text
    parts = urlsplit(start.json()["authorization_url"])
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    form = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form.update({"decision": "allow", "new_creator": "canary_creator"})
    consent = await client.post(parts.path, data=form)
    assert consent.status_code == 302, consent.text
    redirect = urlsplit(consent.headers["location"])
    code = parse_qs(redirect.query)["code"][0]
    rec.secret("TikTok authorization code", code, handed_out=False)
    callback = await client.get(f"{redirect.path}?{redirect.query}")
    assert callback.status_code == 200, callback.text


async def _publish(
    client: httpx.AsyncClient, auth: dict[str, str], post: dict[str, Any]
) -> dict[str, Any]:
    created = await client.post("/posts/", json=post, headers=auth)
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]
    assert (await client.post(f"/posts/{post_id}/publish", headers=auth)).status_code == 202
    return await _wait(client, auth, post_id, {"published", "failed"})


async def _wait(
    client: httpx.AsyncClient, auth: dict[str, str], post_id: int, statuses: set[str]
) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        post: dict[str, Any] = (await client.get(f"/posts/{post_id}", headers=auth)).json()
        if post["status"] in statuses or time.monotonic() > deadline:
            return post
        await asyncio.sleep(0.5)


def tiktok_tokens(tables: dict[str, list[dict[str, Any]]], data_dir: Path) -> dict[str, str]:
    """The TikTok tokens TikTimer holds, decrypted with the installation's generated key."""
    cipher = TokenCipher([(data_dir / "token_key").read_text().strip()])
    found = {}
    for row in tables["social_accounts"]:
        for column in ("access_token_encrypted", "refresh_token_encrypted"):
            if row[column]:
                found[f"TikTok {column.removesuffix('_encrypted')} of account {row['id']}"] = (
                    cipher.decrypt(row[column])
                )
    return found


def leaks(rec: Recorder, log: str, tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    found = []
    for name, value in rec.secrets.items():
        for number, line in enumerate(log.splitlines(), 1):
            if value in line:
                found.append(f"{name} in log line {number}: {line[:300]}")
        for where, body in rec.bodies:
            if value in body and where != rec.handed_out_by.get(name):
                found.append(f"{name} in the response body of {where}")
        for table, rows in tables.items():
            if any(value in repr(row) for row in rows):
                found.append(f"{name} in a row of table {table}")
    texts = [("log", log), *rec.bodies]
    texts += [(f"table {t}", repr(rows)) for t, rows in tables.items()]
    for where, text in texts:
        for match in UPLOAD_TOKEN.finditer(text):
            if not match.group(1).startswith(REDACTION_MARKERS):
                found.append(f"an upload token in {where}: {match.group(0)[:120]}")
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_no_secret_in_logs_responses_or_rows(backend: str, tmp_path: Path) -> None:
    rec = Recorder()
    settings = {"TIKTIMER_LOG_LEVEL": "DEBUG", "TIKTIMER_RATE_LIMITS": "false"}
    with live_backend(backend, tmp_path, **settings) as env:
        data_dir = Path(env["TIKTIMER_DATA_DIR"])
        with running_server(tmp_path, env=env) as base:
            state = Journey()
            asyncio.run(first_half(base, tmp_path, rec, state))
            midway = dump_tables(env["DATABASE_URL"])  # the TikTok tokens are held now
            asyncio.run(second_half(base, rec, state))
        tables = dump_tables(env["DATABASE_URL"])
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert " DEBUG " in log, "the run must log at DEBUG"
    assert "uvicorn.access" in log, "the run must write access logs"
    rec.secret("client secret", client_secret_for(LIVE_SECRET_KEY), handed_out=False)
    rec.secret("SECRET_KEY", LIVE_SECRET_KEY, handed_out=False)
    rec.secret(
        "upload signing key", derive_secret(LIVE_SECRET_KEY, "upload signing"), handed_out=False
    )
    held = tiktok_tokens(midway, data_dir)
    assert len(held) == 2, "the connected account's access and refresh tokens were collected"
    for name, value in held.items():
        rec.secret(name, value, handed_out=False)
    found = leaks(rec, log, midway) + leaks(rec, log, tables)
    assert not found, "\n".join(found)


def test_the_detector_finds_planted_secrets() -> None:
    """The canary is not vacuous: a secret in a log line, a body or a row is reported."""
    rec = Recorder(bodies=[("POST /token -> 200", '{"access_token": "jwt-1"}')])
    rec.secret("JWT", "jwt-1")
    rec.secret("password", "pw-1", handed_out=False)
    rec.bodies.append(("GET /users/me -> 200", '{"note": "jwt-1"}'))
    log = "INFO uvicorn.access GET /cb?upload_token=1700000000.abc HTTP/1.1\nDEBUG pw-1\n"
    found = leaks(rec, log, {"users": [{"hashed_password": "pw-1"}]})
    assert found == [
        "JWT in the response body of GET /users/me -> 200",
        "password in log line 2: DEBUG pw-1",
        "password in a row of table users",
        "an upload token in log: upload_token=1700000000.abc",
    ]
    redacted = "GET /cb?upload_token=[redacted]&code=[redacted]"
    assert leaks(Recorder(), redacted, {}) == []

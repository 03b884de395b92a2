"""Connections of a real `tiktimer serve`: stalled bodies end (408), heads are bounded (431),
and after any error answer the keep-alive connection still works or was told to close."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import clean_env, running_server
from tests.fixtures.users import DEFAULT_PASSWORD
from tests.hostile.wire import Wire

pytestmark = pytest.mark.slow
STALL_SECONDS = 1
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = clean_env(
        TIKTIMER_BODY_TIMEOUT_SECONDS=str(STALL_SECONDS),
        TIKTIMER_MAX_HEADER_KB="8",
        TIKTIMER_RATE_LIMITS="false",
    )
    url = None
    if request.param == "postgresql":
        url = create_pg_database()
        env["DATABASE_URL"] = url
    try:
        with running_server(tmp_path_factory.mktemp("serve"), "--migrate", env=env) as base:
            yield base
    finally:
        if url is not None:
            drop_pg_database(url)


@pytest.fixture(scope="module")
def token(served: str) -> str:
    user = {"username": "wire", "email": "wire@example.com", "password": DEFAULT_PASSWORD}
    httpx.post(f"{served}/register", json=user).raise_for_status()
    login = httpx.post(f"{served}/token", data={"username": "wire", "password": DEFAULT_PASSWORD})
    access: str = login.json()["access_token"]
    return access


def raw(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_stalled_json_body_is_408_and_the_connection_is_closed(served: str) -> None:
    with raw(served) as sock:
        sock.sendall(
            b"POST /register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"username": '
        )
        started = time.monotonic()
        answer = read_all(sock)  # the server answers, then closes its end
        elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    assert "stalled" in json.loads(body)["detail"]
    assert STALL_SECONDS * 0.8 < elapsed < STALL_SECONDS + 3


def test_a_stalled_resumable_chunk_is_408_and_keeps_what_arrived(served: str, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{served}/api/v1/media/uploads", headers={**auth, "Upload-Length": "100"})
    path = created.headers["Location"].split("//", 1)[1].split("/", 1)[1]
    with raw(served) as sock:
        sock.sendall(
            f"PATCH /{path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
            "Content-Length: 100\r\n\r\n".encode()
            + b"0123456789"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    status = httpx.head(f"{served}/{path}", headers=auth)
    assert status.headers["Upload-Offset"] == "10"


def test_a_stalled_upload_is_408_and_leaves_nothing(served: str, token: str) -> None:
    boundary = "b0undary"
    with raw(served) as sock:
        sock.sendall(
            f"POST /api/v1/media HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Content-Length: 100000\r\n\r\n".encode()
            + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="a.mp4"\r\n\r\n'.encode()
            + b"\0" * 1000
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    listed = httpx.get(f"{served}/api/v1/media", headers={"Authorization": f"Bearer {token}"})
    assert listed.json() == []


def test_a_head_past_the_limit_is_431_and_a_normal_one_is_fine(served: str) -> None:
    fine = httpx.get(f"{served}/health", headers={"X-Padding": "p" * 4000})
    assert fine.status_code == 200
    with raw(served) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
        try:
            for _ in range(64):  # 64 KiB of headers, in pieces, against an 8 KiB limit
                sock.sendall(b"X-Padding: " + b"p" * 1000 + b"\r\n")
                time.sleep(0.005)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"connection: close" in head.lower()
    assert json.loads(body) == {"detail": "Request headers too large"}
    assert httpx.get(f"{served}/health").status_code == 200


def test_error_answers_leave_the_keep_alive_connection_usable(served: str, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    big = json.dumps({f"k{i:08d}": 1 for i in range(150_000)}).encode()  # ~2.5 MB
    deep = b"[" * 50_000 + b"]" * 50_000
    cases: list[tuple[str, str, bytes, dict[str, str], int]] = [
        ("GET", "/posts/1", b"", {}, 401),
        ("GET", f"/posts/{2**63}", b"", auth, 404),
        ("GET", "/posts/?platform=a%00b", b"", auth, 422),
        ("GET", f"/posts/?offset={2**64}", b"", auth, 422),
        ("POST", "/posts/", b"{not json", {**auth, **JSON}, 422),
        ("POST", "/posts/", deep, {**auth, **JSON}, 422),
        ("POST", "/register", big, JSON, 413),
        (
            "POST",
            "/token",
            b"username=a%00&password=x",
            {"Content-Type": "application/x-www-form-urlencoded"},
            422,
        ),
        ("PUT", "/health", b"", {}, 405),
        ("GET", "/no/such/page", b"", {}, 404),
    ]
    wire = Wire(served)
    try:
        for method, target, body, headers, status in cases:
            answer = wire.send(method, target, body, headers)
            assert answer.status == status, (method, target, answer.body[:200])
            assert "detail" in json.loads(answer.body)
            if answer.closes:
                wire.close()
                wire = Wire(served)
                continue
            health = wire.send("GET", "/health")  # the same connection, right after the error
            assert health.status == 200, (method, target)
    finally:
        wire.close()


def test_a_huge_body_neither_stalls_health_nor_comes_back_large(served: str) -> None:
    body = json.dumps({f"k{i:08d}": 1 for i in range(600_000)}).encode()  # ~10 MB
    result: dict[str, object] = {}

    def send() -> None:
        started = time.monotonic()
        response = httpx.post(f"{served}/register", content=body, headers=JSON, timeout=30)
        result.update(status=response.status_code, size=len(response.content))
        result["elapsed"] = time.monotonic() - started

    sender = threading.Thread(target=send)
    sender.start()
    latencies: list[float] = []
    with httpx.Client(base_url=served) as client:
        while sender.is_alive() or not latencies:
            started = time.monotonic()
            assert client.get("/health").status_code == 200
            latencies.append(time.monotonic() - started)
    sender.join()
    assert result["status"] == 413
    assert isinstance(result["size"], int)
    assert result["size"] < 1024
    assert max(latencies) < 1.0, latencies

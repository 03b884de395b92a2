"""An unexpected exception (500) over a real uvicorn server: the answer says
`Connection: close`, the server closes, and the next connection works.

uvicorn closes the connection after an exception escapes the app; without the header a
client reusing the connection would see its next request fail. The app runs in-process
here (with the same protocol `tiktimer serve` uses) so a test route can raise.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from tests.fixtures.app import make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import free_port
from tests.hostile.wire import Wire
from tiktimer.app import create_app
from tiktimer.inputs.protocol import PROTOCOL_PATH

pytestmark = pytest.mark.slow


def _with_failing_route(app: FastAPI) -> FastAPI:
    @app.get("/_test/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("unexpected")

    return app


@pytest.fixture(scope="module")
def server(database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(database.url, tmp_path_factory.mktemp("boom"))
    app = _with_failing_route(create_app(settings))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=PROTOCOL_PATH, log_config=None, log_level="critical"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(instance.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=20)


def test_a_500_says_connection_close_and_the_next_connection_works(server: str) -> None:
    wire = Wire(server)
    try:
        assert wire.send("GET", "/health").status == 200
        answer = wire.send("GET", "/_test/boom")
        assert answer.status == 500
        assert answer.closes
        assert b"Internal server error" in answer.body
        assert b"unexpected" not in answer.body  # internals stay inside
        assert wire.peer_closed()
    finally:
        wire.close()
    again = Wire(server)
    try:
        assert again.send("GET", "/health").status == 200
    finally:
        again.close()

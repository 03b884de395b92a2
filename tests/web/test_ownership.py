"""The pages' ownership matrix: signed in with a cookie, B never reaches A's objects.

Generated from the app's route table like tests/contract/test_ownership.py (which covers
the bearer API): every page route under /app with an id in its path is asked for A's
object by B. The answer never shows A's content, and A's objects are unchanged after.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.fixtures.holdings import Holdings, create_holdings
from tests.fixtures.users import user_headers
from tests.web.flows import PASSWORD
from tiktimer.app import create_app
from tiktimer.config import Settings

pytestmark = pytest.mark.slow
ACTIONS = {"action": ["publish", "retry", "cancel", "delete"]}
FORMS = {"when": "2030-01-01T10:00", "change": "deactivate"}


def web_id_routes(data_dir: Path) -> Iterator[tuple[str, str]]:
    settings = Settings(TIKTIMER_SANDBOX=True, TIKTIMER_DATA_DIR=data_dir)
    app = create_app(settings)  # the route table only; never started
    for context in iter_route_contexts(app.routes):
        path = context.path
        if isinstance(context.original_route, APIRoute) and path and path.startswith("/app/"):
            if "{" in path:
                for method in sorted(context.methods or ()):
                    yield method, path


def fill(path: str, a: Holdings) -> list[str]:
    values = {
        "post_id": str(a.post_id),
        "account_id": str(a.account_id),
        "media_id": a.media_id,
        "user_id": str(a.user_id),
        "series_id": str(a.series_id),
        "endpoint_id": str(a.endpoint_id),
    }
    paths = [re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "{" + m.group(1) + "}"), path)]
    for name, options in ACTIONS.items():
        paths = (
            [p.replace("{" + name + "}", o) for p in paths for o in options]
            if "{" + name + "}" in path
            else paths
        )
    return paths


def holdings_of_a(base: str, tmp: Path) -> tuple[Holdings, dict[str, str]]:
    async def run() -> tuple[Holdings, dict[str, str]]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            headers = await user_headers(client, "owner_a")
            return await create_holdings(client, headers, tmp, creator="ownera"), headers

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def snapshot(base: str, headers: dict[str, str], a: Holdings) -> Any:
    with httpx.Client(base_url=base, headers=headers) as client:
        return [
            client.get(f"/posts/{a.post_id}").json(),
            client.get(f"/posts/{a.draft_id}").json(),
            client.get(f"/api/v1/media/{a.media_id}").json(),
            client.get(f"/api/v1/accounts/{a.account_id}").json(),
            client.get(f"/api/v1/series/{a.series_id}").json(),
            client.get(f"/api/v1/accounts/{a.account_id}/queue").json(),
            client.get("/api/v1/notifications/endpoints").json(),
        ]


def signed_in_b(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/app/signup")
    form = {"username": "intruder_b", "email": "b@example.com", "password": PASSWORD}
    made = client.post("/app/signup", data={**form, "csrf_token": client.cookies["tiktimer_csrf"]})
    assert made.status_code == 303, made.text
    return client


def check_every_route(b: httpx.Client, routes: list[tuple[str, str]], a: Holdings) -> None:
    csrf = b.cookies["tiktimer_csrf"]
    for method, template in routes:
        for path in fill(template, a):
            data = {"csrf_token": csrf, **FORMS} if method == "POST" else None
            answer = b.request(method, path, data=data, follow_redirects=True)
            assert "ownera" not in answer.text, f"{method} {path} showed A's content"
            assert answer.status_code in (403, 404) or "not found" in answer.text.lower(), (
                f"{method} {path}: {answer.status_code}"
            )


def test_b_cannot_reach_a_through_the_pages(server: str, tmp_path: Path) -> None:
    a, a_headers = holdings_of_a(server, tmp_path)
    before = snapshot(server, a_headers, a)
    routes = list(web_id_routes(tmp_path / "routes"))
    assert len(routes) >= 8, routes  # the walk really found the id routes
    b = signed_in_b(server)
    try:
        check_every_route(b, routes, a)
    finally:
        b.close()
    assert snapshot(server, a_headers, a) == before

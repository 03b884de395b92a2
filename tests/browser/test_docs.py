"""/docs and /redoc come with their assets from this server: no CDN, no inline script."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_load_only_from_this_server(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', page.text)
    assert references
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not served by this server"
        assert not reference.startswith("//")
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page.text), "inline script"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


async def test_assets_have_their_types(client: httpx.AsyncClient) -> None:
    js = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]
    assert js.headers["x-content-type-options"] == "nosniff"
    css = await client.get("/docs/assets/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    init = await client.get("/docs/assets/swagger-init.js")
    assert "SwaggerUIBundle(" in init.text


@pytest.mark.parametrize("name", ["nope.js", "..%2Fdocs.py", "%2E%2E%2F%2E%2E%2Fconfig.py"])
async def test_unknown_assets_are_404(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
    assert "detail" in response.json()


async def test_openapi_still_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/docs" not in response.json()["paths"]

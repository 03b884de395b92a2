"""Shared pieces of the hostile-input tests: an admin's headers and the route table's ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests.api.test_auth import _make_admin
from tests.fixtures.users import bearer, login

# Past every integer type a database has: PostgreSQL INTEGER, BIGINT, and 64-bit unsigned.
HOSTILE_INTS = (2**31, 2**63, 2**64, -1, 0)
MAX_422_BYTES = 16 * 1024


async def admin_headers(
    client: httpx.AsyncClient, app: FastAPI, name: str = "root"
) -> dict[str, str]:
    """An admin's bearer header: every route, /admin included, gets past its auth."""
    await _make_admin(app, name)
    return bearer(await login(client, name))


def future(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) for every operation of the app's OpenAPI document."""
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete", "head"}:
                yield method.upper(), path, operation


def parameters(operation: dict[str, Any], where: str, kind: str) -> list[str]:
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == where and p.get("schema", {}).get("type") == kind
    ]


def fill(path: str, values: dict[str, object]) -> str:
    """The path with each `{name}` replaced: by `values[name]`, else by a harmless 1."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)

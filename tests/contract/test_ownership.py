"""The ownership matrix, generated from the app's route table: B never reaches A's objects.

For every route with an id in its path, user B asks for user A's object and gets 404 (403
on admin-only routes, which B may not use at all). For every id B can put in a body or a
query (`media_id`, `social_account_id`, …), B's answer with A's id is exactly the answer
for an id that does not exist. After each request A's objects are unchanged.

A new route is covered without editing this file. A route whose request the generator
cannot build (an id name it does not know, a required header or field it cannot fill)
fails the test, naming the route: teach `owned_by` or `SAMPLE_VALUES` about it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from tests.fixtures.holdings import Holdings, create_holdings, future, small_video
from tests.fixtures.users import user_headers
from tiktimer.auth.dependencies import get_admin

#: Path parameters that name no object of a user, with the reason.
NOT_OWNED_PATH_PARAMS = {"name": "documentation assets, the same for every visitor"}
#: Names that look like ids but name no object of a user.
NOT_OBJECT_IDS = {"client_id": "the OAuth2 password form's client id (unused)"}
#: Ids that do not exist, per type, to compare B's answers with.
MISSING = {int: 2_000_000_000, str: "0123456789abcdef0123456789abcdef"}
#: Values for required fields and headers that are not ids.
SAMPLE_VALUES: dict[str, Any] = {
    "content": "ownership matrix",
    "scheduled_time": future(),
    "upload_offset": "0",
    "upload-offset": "0",
    "slots": [{"day": "mon", "time": "09:00"}],
    "position": 0,
    "rrule": "FREQ=DAILY;COUNT=2",
    "dtstart": future()[:19],
    # Required ids in a body: the probes override them with A's (and a missing) id.
    "post_id": MISSING[int],
    "from_post_id": MISSING[int],
    "events": ["post.failed"],
}
BYTES_TYPES = ("application/offset+octet-stream", "application/octet-stream")


def owned_by(holdings: Holdings, name: str) -> Any:
    """A's value for an id name; the names the API uses for ids of A's objects."""
    values = {
        "post_id": holdings.post_id,
        "media_id": holdings.media_id,
        "media_ids": [holdings.media_id],
        "upload_id": holdings.upload_id,
        "account_id": holdings.account_id,
        "social_account_id": holdings.account_id,
        "user_id": holdings.user_id,
        "actor_user_id": holdings.user_id,
        "series_id": holdings.series_id,
        "from_post_id": holdings.post_id,
        "endpoint_id": holdings.endpoint_id,
    }
    if name not in values:
        raise LookupError(name)
    return values[name]


def missing_like(value: Any) -> Any:
    if isinstance(value, list):
        return [missing_like(value[0])]
    return MISSING[type(value)]


def is_id_name(name: str) -> bool:
    return name not in NOT_OBJECT_IDS and (name == "id" or name.endswith(("_id", "_ids")))


@dataclass
class Probe:
    """One request B sends, with the id (or ids) of A's it carries."""

    route: str
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, client: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
        return await client.request(
            self.method,
            self.path,
            params=self.query,
            json=self.json_body,
            data=self.form,
            files=self.files,
            content=self.content,
            headers={**self.headers, **auth},
        )


@dataclass(frozen=True)
class Endpoint:
    """One method of one API route, at its full path (prefixes of included routers applied)."""

    path: str
    method: str
    dependant: Dependant


#: The web app's pages sign in with a cookie session, not a bearer token: their own
#: ownership matrix is tests/web/test_ownership.py.
WEB_PAGES = "/app/"


def api_endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every method of every API route; mounted sub-apps (the sandbox) are other services."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if context.path is not None and context.path.startswith(WEB_PAGES):
            continue
        if isinstance(route, APIRoute) and context.path is not None:
            for method in sorted(context.methods or ()):
                yield Endpoint(context.path, method, route.dependant)


def admin_only(dependant: Dependant) -> bool:
    return dependant.call is get_admin or any(admin_only(d) for d in dependant.dependencies)


def params_of(dependant: Dependant, kind: str) -> list[Any]:
    """The route's `query_params` or `header_params`, its dependencies' included."""
    found: list[Any] = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found += params_of(sub, kind)
    return found


def path_params(route: Endpoint) -> list[str]:
    return re.findall(r"{(\w+)(?::\w+)?}", route.path)


def body_schema(app: FastAPI, route: Endpoint, method: str) -> tuple[str, dict[str, Any]] | None:
    """The request body's media type and JSON schema, from the app's OpenAPI document."""
    operation = app.openapi()["paths"].get(route.path, {}).get(method.lower())
    content = ((operation or {}).get("requestBody") or {}).get("content") or {}
    if not content:
        return None
    media_type, spec = next(iter(content.items()))
    schema = spec.get("schema", {})
    ref = schema.get("$ref")
    if ref:
        schema = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return media_type, schema


@dataclass
class RequestBuilder:
    """Builds B's requests for one route; anything it cannot fill raises, naming what."""

    app: FastAPI
    route: Endpoint
    method: str
    video: bytes

    def required_headers(self) -> dict[str, str]:
        headers = {}
        for param in params_of(self.route.dependant, "header_params"):
            if param.field_info.is_required():
                headers[param.alias] = str(self.sample(param.alias.lower()))
        return headers

    def sample(self, name: str) -> Any:
        if name not in SAMPLE_VALUES:
            raise LookupError(f"no sample value for required {name!r}")
        return SAMPLE_VALUES[name]

    def path(self, values: dict[str, Any]) -> str:
        path = self.route.path
        for name in path_params(self.route):
            path = re.sub(r"{" + name + r"(?::\w+)?}", str(values[name]), path)
        return path

    def probe(self, path_values: dict[str, Any], overrides: dict[str, Any]) -> Probe:
        """A valid request to the route, with `overrides` set in the query or the body."""
        probe = Probe(self.route.path, self.method, self.path(path_values))
        probe.headers = self.required_headers()
        for param in params_of(self.route.dependant, "query_params"):
            if param.alias in overrides:
                probe.query[param.alias] = overrides[param.alias]
            elif param.field_info.is_required():
                probe.query[param.alias] = self.sample(param.alias)
        body = body_schema(self.app, self.route, self.method)
        if body is not None:
            self.fill_body(probe, *body, overrides)
        return probe

    def fill_body(
        self, probe: Probe, media_type: str, schema: dict[str, Any], overrides: dict[str, Any]
    ) -> None:
        if media_type in BYTES_TYPES:
            probe.content, probe.headers["Content-Type"] = b"x", media_type
            return
        properties = schema.get("properties", {})
        files = {k for k, v in properties.items() if v.get("format") == "binary"}
        required = [name for name in schema.get("required", ()) if name not in files]
        values = {name: self.sample(name) for name in required}
        values.update({k: v for k, v in overrides.items() if k in properties})
        if media_type == "application/json":
            probe.json_body = values
        elif media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            probe.files = {k: ("clip.mp4", self.video) for k in files} or None
            probe.form = {k: _form_value(v) for k, v in values.items() if k not in files}
        else:
            raise LookupError(f"cannot build a {media_type} body")

    def body_and_query_ids(self) -> list[str]:
        names = [p.alias for p in params_of(self.route.dependant, "query_params")]
        body = body_schema(self.app, self.route, self.method)
        if body is not None:
            names += list(body[1].get("properties", {}))
        return [name for name in names if is_id_name(name)]


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def snapshot(client: httpx.AsyncClient, headers: dict[str, str], a: Holdings) -> Any:
    """Everything A can see of A's objects."""
    paths = [
        "/users/me",
        "/posts/?limit=500",
        f"/posts/{a.post_id}",
        f"/posts/{a.draft_id}",
        f"/posts/{a.post_id}/attempts",
        "/api/v1/media",
        f"/api/v1/media/{a.media_id}",
        f"/api/v1/media/uploads/{a.upload_id}",
        "/api/v1/accounts",
        f"/api/v1/series/{a.series_id}",
        f"/api/v1/accounts/{a.account_id}/queue",
        "/api/v1/calendar/feed",
    ]
    seen = {}
    for path in paths:
        response = await client.get(path, headers=headers)
        seen[path] = (response.status_code, response.json())
    content = await client.get(f"/api/v1/media/{a.media_id}/content", headers=headers)
    seen["content"] = (content.status_code, len(content.content))
    return seen


@dataclass
class Matrix:
    client: httpx.AsyncClient
    a_headers: dict[str, str]
    b_headers: dict[str, str]
    a: Holdings
    b: Holdings
    problems: list[str] = field(default_factory=list)
    probed: list[str] = field(default_factory=list)

    async def check_path_ids(self, builder: RequestBuilder) -> None:
        route, method = builder.route, builder.method
        names = path_params(route)
        expected = 403 if admin_only(route.dependant) else 404
        values = {name: owned_by(self.a, name) for name in names}
        probe = builder.probe(values, {})
        await self.expect_nothing_changed(probe, f"{method} {route.path}", {expected})

    async def check_body_ids(self, builder: RequestBuilder, names: list[str]) -> None:
        """A's id in a body or query answers like an id that does not exist."""
        route, method = builder.route, builder.method
        own = {name: owned_by(self.b, name) for name in path_params(route)}
        for name in names:
            theirs = owned_by(self.a, name)
            label = f"{method} {route.path} with A's {name}"
            response = await self.expect_nothing_changed(
                builder.probe(own, {name: theirs}), label, {403, 404, 422}
            )
            missing = missing_like(theirs)
            baseline = await builder.probe(own, {name: missing}).send(self.client, self.b_headers)
            if response is not None and _masked(response, theirs) != _masked(baseline, missing):
                self.problems.append(
                    f"{label}: {response.status_code} {response.text[:300]} differs from a "
                    f"missing id's {baseline.status_code} {baseline.text[:300]}"
                )

    async def expect_nothing_changed(
        self, probe: Probe, label: str, statuses: set[int]
    ) -> httpx.Response | None:
        before = await snapshot(self.client, self.a_headers, self.a)
        response = await probe.send(self.client, self.b_headers)
        after = await snapshot(self.client, self.a_headers, self.a)
        self.probed.append(label)
        if response.status_code not in statuses:
            self.problems.append(f"{label}: {response.status_code} {response.text[:300]}")
            return None
        if before != after:
            self.problems.append(f"{label}: A's objects changed")
        return response


def _masked(response: httpx.Response, value: Any) -> tuple[int, str]:
    text = response.text
    for item in value if isinstance(value, list) else [value]:
        text = text.replace(str(item), "<id>")
    return response.status_code, text


async def test_another_user_gets_404_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    a_headers = await user_headers(client, "owner_a")
    b_headers = await user_headers(client, "intruder_b")
    a = await create_holdings(client, a_headers, tmp_path, creator="creator_of_a")
    b = await create_holdings(client, b_headers, tmp_path, creator="creator_of_b")
    matrix = Matrix(client, a_headers, b_headers, a, b)
    video = small_video(tmp_path, "probe.mp4").read_bytes()
    for route in api_endpoints(app):
        method = route.method
        builder = RequestBuilder(app, route, method, video)
        params = path_params(route)
        try:
            if any(name in NOT_OWNED_PATH_PARAMS for name in params):
                continue
            if params:
                await matrix.check_path_ids(builder)
            ids = builder.body_and_query_ids()
            if ids:
                await matrix.check_body_ids(builder, ids)
        except LookupError as exc:
            matrix.problems.append(f"{method} {route.path}: the matrix cannot build it: {exc}")
    assert not matrix.problems, "\n".join(matrix.problems)
    # The generator really ran over the id routes (a broken route walk must not pass).
    assert any("{post_id}" in label for label in matrix.probed)
    assert any("social_account_id" in label for label in matrix.probed)

"""The Graph host (graph.instagram.com): `/me`, a node (container status, media),
`/{ig-user-id}/media`, `/media_publish` and `/content_publishing_limit`, each with an
optional version segment from the configured set."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from ..endpoints import Endpoint, endpoint_for, graph_segments
from ..errors import GraphError
from .common import emulator_of, parameters, token_of

router = APIRouter()


@router.api_route("/{path:path}", methods=["GET", "POST"])
async def graph(request: Request, path: str) -> Response:
    emulator = emulator_of(request)
    version, parts = graph_segments(path)
    if version is not None and version not in emulator.config.versions:
        raise GraphError(2635, f"Version {version} is not available for this app.")
    endpoint = endpoint_for(request.method, "/" + path)
    params = await parameters(request)
    token = token_of(request, params)
    fields = params.get("fields")
    if endpoint is Endpoint.ME:
        body, usage = await emulator.me(token, fields)
    elif endpoint is Endpoint.NODE:
        body, usage = await emulator.node(token, parts[0], fields)
    elif endpoint is Endpoint.CREATE_CONTAINER:
        body, usage = await emulator.create_container(
            token, parts[0], params, upload_base=str(request.base_url), version=version
        )
    elif endpoint is Endpoint.PUBLISH:
        body, usage = await emulator.publish(token, parts[0], params)
    elif endpoint is Endpoint.PUBLISHING_LIMIT:
        body, usage = await emulator.publishing_limit(token, parts[0], fields)
    else:
        raise GraphError(100, "Unsupported request: unknown path components.", status=400)
    return JSONResponse(body, headers=usage)

"""HTTP requests by route template and status, with latency: a pure ASGI middleware.

The route template comes from the route the router matched (`scope["route"]`, set on the
request's own scope while routing) and the prefix a mount moved into `root_path`, so
`/posts/17` is counted as `/posts/{post_id}`; a mount with no route inside it (static
files, the sandbox's 404s) counts as its prefix plus `/{path}`, and a request no route
matched as `unmatched`: raw paths never become labels. Per request this costs two clock
reads, one counter increment and one histogram observation: about 4 µs.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.kit.instruments import HTTP_LATENCY, HTTP_REQUESTS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class HttpMetricsMiddleware(HttpMiddleware):
    """Counts each HTTP request once, when its response has started (or the app failed)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        # Each label set's two children, looked up once: bounded by routes × methods ×
        # statuses, and `labels()` itself costs more than the rest of the request's work.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                HTTP_REQUESTS.labels(method, route, str(status)),
                HTTP_LATENCY.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # the app raised before answering

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope, root_path)
            self._record(method, route, status, time.perf_counter() - started)


def route_template(scope: Scope, root_path: str = "") -> str:
    """The template of the route that answered, with any mount's prefix."""
    # A mount that matched moved its prefix into root_path (our mounts have no parameters).
    prefix = scope.get("root_path", "")[len(root_path) :]
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(route, Mount) and isinstance(path, str):
        # Starlette's router: the mount itself, with nothing inside it matched.
        return f"{prefix.removesuffix(path)}{path}/{{path}}"
    if isinstance(path, str):
        return f"{prefix}{path}"
    # FastAPI's router records no route for a mount (static files, a sub-app's 404).
    return f"{prefix}/{{path}}" if prefix else UNMATCHED

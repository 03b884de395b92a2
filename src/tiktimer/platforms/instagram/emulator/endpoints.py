"""Which endpoint a request is, from its method and path: the names faults and records use.

Graph paths take an optional version segment (`/v25.0/…`, §11); the rest is a node id and
at most one edge.
"""

from __future__ import annotations

import enum
import re

VERSION = re.compile(r"^v\d+\.\d+$")


class Endpoint(enum.StrEnum):
    AUTHORIZE = "authorize"
    CODE_EXCHANGE = "code_exchange"
    LONG_LIVED = "long_lived_exchange"
    REFRESH = "refresh"
    ME = "me"
    NODE = "node"  # a container's status or a media object
    CREATE_CONTAINER = "create_container"
    PUBLISH = "media_publish"
    PUBLISHING_LIMIT = "publishing_limit"
    RUPLOAD = "rupload"
    RUPLOAD_OFFSET = "rupload_offset"


RUPLOAD_PREFIX = "/ig-api-upload/"


_FIXED = {
    ("GET", "/oauth/authorize"): Endpoint.AUTHORIZE,
    ("POST", "/oauth/authorize"): Endpoint.AUTHORIZE,
    ("POST", "/oauth/access_token"): Endpoint.CODE_EXCHANGE,
    ("GET", "/access_token"): Endpoint.LONG_LIVED,
    ("GET", "/refresh_access_token"): Endpoint.REFRESH,
}
_EDGES = {
    ("POST", "media"): Endpoint.CREATE_CONTAINER,
    ("POST", "media_publish"): Endpoint.PUBLISH,
    ("GET", "content_publishing_limit"): Endpoint.PUBLISHING_LIMIT,
}


def graph_segments(path: str) -> tuple[str | None, list[str]]:
    """(version or None, the node and edge segments)."""
    parts = [part for part in path.split("/") if part]
    if parts and VERSION.match(parts[0]):
        return parts[0], parts[1:]
    return None, parts


def endpoint_for(method: str, path: str) -> Endpoint | None:
    if path.startswith(RUPLOAD_PREFIX):
        return {"POST": Endpoint.RUPLOAD, "GET": Endpoint.RUPLOAD_OFFSET}.get(method)
    fixed = _FIXED.get((method, path.rstrip("/") or "/"))
    if fixed is not None:
        return fixed
    _, parts = graph_segments(path)
    if len(parts) == 1:
        if method != "GET":
            return None
        return Endpoint.ME if parts[0] == "me" else Endpoint.NODE
    if len(parts) == 2:
        return _EDGES.get((method, parts[1]))
    return None

"""Who may read `/metrics`: the bearer token, or else only this machine, directly.

With `TIKTIMER_METRICS_TOKEN` set, every caller must send `Authorization: Bearer <token>`
(compared in constant time), loopback included. Unset, only a loopback client whose request
carries no proxy header (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) is answered: a
reverse proxy on the same machine makes every visitor look like loopback, and the headers
it adds are how we tell. A proxy that adds none must not route `/metrics`, or the token
must be set; the README says so.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def allowed(
    token: str | None,
    authorization: str | None,
    client_host: str | None,
    headers: Mapping[str, str],
) -> bool:
    """Whether this request may read the metrics."""
    if token is not None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), token.encode())
    return _loopback(client_host) and not any(name in headers for name in PROXY_HEADERS)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

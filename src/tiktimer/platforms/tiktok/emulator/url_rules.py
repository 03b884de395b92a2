"""URL rules TikTok applies: registered redirect URIs (§1.4) and verified media URLs (§5.5)."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 512
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})

Platform = Literal["web", "desktop"]


def redirect_uri_problem(uri: str, platform: Platform) -> str | None:
    """Why the developer portal would refuse to register `uri`, or None when it is fine."""
    if len(uri) >= MAX_REDIRECT_URI_LENGTH:
        return "must be shorter than 512 characters"
    parts = urlsplit(uri)
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        return "must not contain a query string or fragment"
    if not parts.hostname:
        return "must be an absolute URL"
    if platform == "web":
        return None if parts.scheme == "https" else "must start with https://"
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        return "desktop redirect URIs must use localhost or 127.0.0.1"
    if not _has_port(parts.netloc):
        return "desktop redirect URIs need a port (or the * wildcard)"
    return None


def redirect_uri_matches(registered: str, sent: str, platform: Platform) -> bool:
    """Byte-equal match; desktop apps may register a `*` port that matches any port."""
    if registered == sent:
        return True
    if platform != "desktop" or ":*/" not in registered:
        return False
    prefix, _, rest = registered.partition(":*/")
    if not sent.startswith(prefix + ":"):
        return False
    port, slash, tail = sent[len(prefix) + 1 :].partition("/")
    return port.isdigit() and slash == "/" and tail == rest


def _has_port(netloc: str) -> bool:
    host_port = netloc.rsplit("@", 1)[-1]
    return host_port.endswith(":*") or urlsplit(f"//{host_port}").port is not None


def verified_prefix_problem(prefix: str, allow_insecure: bool) -> str | None:
    """A URL prefix property is `https://` + domain + path ending in `/` (no IP hosts)."""
    parts = urlsplit(prefix)
    if not prefix.endswith("/") or parts.query or parts.fragment or not parts.hostname:
        return "must look like https://host/path/ (ending in /, no query)"
    if allow_insecure:
        return None
    if parts.scheme != "https":
        return "must start with https://"
    if _is_ip(parts.hostname):
        return "host must be a domain name, not an IP address"
    return None


def is_verified_url(
    url: str,
    *,
    prefixes: tuple[str, ...],
    domains: tuple[str, ...],
    allow_insecure: bool,
) -> bool:
    """Whether TikTok would pull `url`: https, and under a verified prefix or domain."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return False
    if parts.scheme == "http" and not allow_insecure:
        return False
    if any(url.startswith(prefix) for prefix in prefixes):
        return True
    host = parts.hostname.lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

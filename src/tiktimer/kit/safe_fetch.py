"""Fetch URLs that users influence without letting them reach our own network (SSRF guard).

A fetch goes out only over HTTPS and only to global unicast addresses: loopback, private
(RFC 1918, ULA), link-local, cloud metadata, shared (CGNAT), unspecified, multicast and
reserved addresses are refused, and so is a redirect to any of them. An operator's allow
list (TIKTIMER_FETCH_ALLOW: host names, IP addresses, CIDR networks) lifts both rules.

The address is checked where the socket is opened: the network backend resolves the name
once, checks every address it got, and connects to a checked address, while TLS (SNI,
certificate) and the Host header keep the name. A resolver that answers a public address
to a check and a private one to the connect (DNS rebinding) gets nothing through.

    async with guarded_client(policy) as client:
        response = await client.get(url)   # FetchRefused (an httpx.RequestError) if unsafe

Exceptions:

httpx.RequestError
└── FetchRefused: the URL, an address it resolves to, or a redirect target is not allowed
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Well-known instance metadata services, named in refusals so an operator sees the attempt.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
# Special-purpose ranges that not every Python version's `is_global` leaves out.
_SPECIAL_NETWORKS = (
    ("shared (carrier-grade NAT)", ipaddress.ip_network("100.64.0.0/10")),
    ("special-purpose", ipaddress.ip_network("192.0.0.0/24")),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_REDIRECTS = 5


class FetchRefused(httpx.RequestError):
    """A server-side fetch was refused; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def address_kind(address: IPAddress) -> str | None:
    """Why `address` is not a public destination ('loopback', 'private', …), or None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_kind(embedded)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for kind, hit in checks:
        if hit:
            return kind
    for kind, network in _SPECIAL_NETWORKS:
        if address in network:
            return kind
    return None if address.is_global else "non-global"


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_allow_list(text: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split `a.example, 10.0.0.0/8, ::1` into host names and networks; ValueError if bad."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if "/" in name or ":" in name or not _looks_like_host(name):
            raise ValueError(f"{entry!r} is neither a host name nor an IP address or network")
        hosts.add(name)
    return frozenset(hosts), tuple(networks)


def _looks_like_host(name: str) -> bool:
    labels = name.split(".")
    return all(
        0 < len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum()
        for label in labels
    )


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What a guarded fetch may reach: public HTTPS, plus the operator's allow list."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    require_https: bool = True
    resolver: Resolver | None = field(default=None, compare=False)

    @classmethod
    def from_allow_list(cls, text: str) -> FetchPolicy:
        hosts, networks = parse_allow_list(text)
        return cls(allow_hosts=hosts, allow_networks=networks)

    def trusting(self, host: str) -> FetchPolicy:
        """This policy plus `host` (a name or an IP address), reachable over plain http too."""
        try:
            network = ipaddress.ip_network(host.strip("[]"))
        except ValueError:
            return replace(self, allow_hosts=self.allow_hosts | {host.lower().rstrip(".")})
        return replace(self, allow_networks=(*self.allow_networks, network))

    def check_url(self, url: httpx.URL) -> None:
        """Refuse a URL whose scheme or literal address is not allowed (before any I/O)."""
        host = url.host
        if url.scheme not in ("https", "http"):
            raise FetchRefused(f"only https URLs can be fetched, not {url.scheme}:")
        if self._host_allowed(host):
            return
        if url.scheme != "https" and self.require_https:
            raise FetchRefused(f"only https URLs can be fetched: {host} was asked over http")
        literal = _ip_or_none(host)
        if literal is not None:
            self.check_address(host, literal)

    def check_address(self, host: str, address: IPAddress) -> None:
        if any(address in network for network in self.allow_networks):
            return
        kind = address_kind(address)
        if kind is not None:
            target = str(address) if host == str(address) else f"{host} ({address})"
            raise FetchRefused(f"{target} is a {kind} address, which cannot be fetched")

    def _host_allowed(self, host: str) -> bool:
        if host.lower().rstrip(".") in self.allow_hosts:
            return True
        literal = _ip_or_none(host)
        return literal is not None and any(literal in n for n in self.allow_networks)


def _ip_or_none(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (its lookup runs in a thread)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked one (never resolve again)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()
        self._resolve = policy.resolver or system_resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host.lower().rstrip(".") in self._policy.allow_hosts:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        literal = _ip_or_none(host)
        addresses = [str(literal)] if literal is not None else await self._resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # all of them: a round-robin answer cannot hide one
            self._policy.check_address(host, ipaddress.ip_address(address))
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("unix sockets cannot be fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with the URL checked first and every connection checked."""

    def __init__(
        self, policy: FetchPolicy, *, verify: Any = True, limits: httpx.Limits | None = None
    ) -> None:
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=5)
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self.policy = policy
        # The pool httpx builds, but opening its sockets through the checking backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(request.url)
        return await super().handle_async_request(request)


@asynccontextmanager
async def guarded_client(
    policy: FetchPolicy,
    **client_options: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for user-supplied URLs; redirects are followed and checked too.

    `client_options` go to `httpx.AsyncClient` (timeout, headers, follow_redirects…)."""
    options: dict[str, Any] = {
        "timeout": DEFAULT_TIMEOUT,
        "follow_redirects": True,
        "max_redirects": MAX_REDIRECTS,
        **client_options,
    }
    async with httpx.AsyncClient(
        transport=GuardedTransport(policy), trust_env=False, **options
    ) as client:
        yield client

"""The SSRF guard (kit.safe_fetch) against real loopback servers and scripted resolvers.

Nothing here leaves the machine: refused destinations are refused before a socket opens,
and every allowed one is a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.app import make_settings
from tiktimer.config import SettingsError
from tiktimer.kit.safe_fetch import (
    FetchPolicy,
    FetchRefused,
    GuardedTransport,
    guarded_client,
)
from tiktimer.platforms.tiktok.connection import build_tiktok, sandbox_pull_transport

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


class Site:
    """A tiny HTTP/1.1 server: `/ok` answers 200 with the Host it was asked for,
    `/to?<url>` redirects there. It counts the requests it got."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.hits: list[str] = []
        self.hosts_seen: list[str] = []
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str = "/ok", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    async def __aenter__(self) -> Site:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        target = head[0].split(" ")[1]
        host = next(
            line.split(":", 1)[1].strip() for line in head if line.lower().startswith("host:")
        )
        self.hits.append(target)
        self.hosts_seen.append(host)
        if target.startswith("/to?"):
            status, extra, body = "302 Found", f"Location: {target[4:]}\r\n", b""
        else:
            status, extra, body = "200 OK", "", f"hello {host}".encode()
        writer.write(
            f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with Site("127.0.0.1") as server:
        yield server


@pytest.fixture
async def other_site() -> AsyncIterator[Site]:
    """Another loopback address: the internal service an attacker wants to reach."""
    async with Site("127.0.0.2") as server:
        yield server


def resolving(table: dict[str, list[str]]) -> FetchPolicy:
    async def resolve(host: str, _port: int) -> list[str]:
        return table[host]

    return FetchPolicy(resolver=resolve)


async def fetch(policy: FetchPolicy, url: str) -> httpx.Response:
    async with guarded_client(policy) as client:
        return await client.get(url)


REFUSED_ADDRESSES = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "[::1]": "loopback",
    "10.1.2.3": "private",
    "172.16.5.4": "private",
    "192.168.0.10": "private",
    "[fd12:3456::1]": "private",
    "169.254.169.254": "cloud metadata",
    "[fd00:ec2::254]": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "169.254.10.20": "link-local",
    "[fe80::1]": "link-local",
    "0.0.0.0": "unspecified",  # noqa: S104
    "[::]": "unspecified",
    "224.0.0.251": "multicast",
    "[ff02::1]": "multicast",
    "100.64.1.1": "shared (carrier-grade NAT)",
    "240.0.0.1": "private",
    "[::ffff:127.0.0.1]": "loopback",
    "[::ffff:169.254.169.254]": "cloud metadata",
    "[64:ff9b::a9fe:a9fe]": "cloud metadata",
    "[2002:a00:1::1]": "private",
}


@pytest.mark.parametrize(("host", "kind"), REFUSED_ADDRESSES.items())
async def test_literal_addresses_of_every_refused_class(host: str, kind: str) -> None:
    with pytest.raises(FetchRefused, match=re.escape(f"is a {kind} address")):
        await fetch(FetchPolicy(), f"https://{host}/video.mp4")


@pytest.mark.parametrize(
    ("address", "kind"), [(h.strip("[]"), k) for h, k in REFUSED_ADDRESSES.items()]
)
async def test_names_resolving_to_refused_addresses(address: str, kind: str) -> None:
    policy = resolving({"media.example.test": [address]})
    with pytest.raises(FetchRefused, match=r"media.example.test \(.*\) is a " + re.escape(kind)):
        await fetch(policy, "https://media.example.test/video.mp4")


async def test_every_resolved_address_is_checked() -> None:
    """A round-robin answer cannot slip a private address in behind a public one."""
    policy = resolving({"media.example.test": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(FetchRefused, match="10.0.0.7"):
        await fetch(policy, "https://media.example.test/video.mp4")


@pytest.mark.parametrize("url", ["http://media.example.test/v.mp4", "ftp://media.example.test/v"])
async def test_only_https(url: str) -> None:
    policy = resolving({"media.example.test": ["93.184.215.14"]})
    with pytest.raises(FetchRefused, match="only https"):
        await fetch(policy, url)


async def test_the_allow_list_opens_listed_hosts_and_networks_only(
    site: Site, other_site: Site
) -> None:
    policy = FetchPolicy.from_allow_list("127.0.0.1")
    response = await fetch(policy, site.url())
    assert response.status_code == 200
    with pytest.raises(FetchRefused, match="127.0.0.2 was asked over http"):
        await fetch(policy, other_site.url())
    with pytest.raises(FetchRefused, match="127.0.0.2 is a loopback address"):
        await fetch(policy, other_site.url().replace("http:", "https:"))
    by_name = await fetch(FetchPolicy.from_allow_list("localhost"), site.url(host="localhost"))
    assert by_name.text == f"hello localhost:{site.port}"
    assert other_site.hits == []


async def test_redirects_to_refused_destinations_are_refused(site: Site, other_site: Site) -> None:
    policy = FetchPolicy(allow_networks=LOOPBACK_ONLY, require_https=False)
    assert (await fetch(policy, site.url(f"/to?{site.url()}"))).status_code == 200
    for target in (other_site.url(), "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(FetchRefused, match="address"):
            await fetch(policy, site.url(f"/to?{target}"))
    assert other_site.hits == []
    strict = FetchPolicy.from_allow_list("127.0.0.1")  # https required for everything else
    with pytest.raises(FetchRefused, match="only https"):
        await fetch(strict, site.url("/to?http://media.example.test/v.mp4"))


async def test_dns_rebinding_cannot_reach_what_the_check_refused(
    site: Site, other_site: Site
) -> None:
    """The name is resolved once per connection, and the checked address is the one used.

    The first answer is the allowed server; every later answer is the internal one. A guard
    that checked one answer and let the client resolve again would connect to 127.0.0.2.
    """
    answers = ["127.0.0.1"]
    lookups: list[str] = []

    async def flip(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return [answers.pop()] if answers else ["127.0.0.2"]

    policy = FetchPolicy(allow_networks=LOOPBACK_ONLY, require_https=False, resolver=flip)
    async with guarded_client(policy) as client:
        response = await client.get(f"http://rebind.test:{site.port}/ok")
        assert response.text == f"hello rebind.test:{site.port}"  # the name, not the address
        with pytest.raises(FetchRefused, match=r"rebind.test \(127.0.0.2\) is a loopback"):
            await client.get(f"http://rebind.test:{site.port}/ok")  # a new connection
    assert lookups == ["rebind.test", "rebind.test"]
    assert other_site.hits == []
    assert site.hits == ["/ok"]


def test_the_setting_refuses_what_is_not_a_host_or_network(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TIKTIMER_FETCH_ALLOW: 'https://x/' is neither"):
        make_settings("sqlite+aiosqlite://", tmp_path, fetch_allow="https://x/")
    policy = make_settings(
        "sqlite+aiosqlite://", tmp_path, fetch_allow=" media.internal, 10.0.0.0/8 ,[fd00::1]"
    ).server.fetch_policy
    assert policy.allow_hosts == {"media.internal"}
    assert [str(n) for n in policy.allow_networks] == ["10.0.0.0/8", "fd00::1/128"]


async def test_sandbox_pulls_reach_the_public_media_url_and_nothing_else(
    tmp_path: Path, site: Site, other_site: Site
) -> None:
    settings = make_settings(
        "sqlite+aiosqlite://", tmp_path, public_url=f"http://127.0.0.1:{site.port}"
    )
    connection = build_tiktok(settings)
    assert connection.sandbox_app is not None
    assert isinstance(connection.sandbox_app.state.emulator.config.pull_transport, GuardedTransport)
    transport = sandbox_pull_transport(settings)
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(site.url("/api/v1/media/x/public"))).status_code == 200
        with pytest.raises(FetchRefused):
            await client.get(other_site.url())
        with pytest.raises(FetchRefused):
            await client.get("http://169.254.169.254/latest/meta-data/")
    # The emulator opens a client per download over the same transport: it stays usable.
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(site.url("/api/v1/media/y/public"))).status_code == 200
    assert other_site.hits == []
    await connection.client.aclose()


async def test_a_name_without_addresses_is_a_connect_error_not_a_refusal() -> None:
    with pytest.raises(httpx.ConnectError, match="has no address") as caught:
        await fetch(resolving({"gone.example.test": []}), "https://gone.example.test/v.mp4")
    assert not isinstance(caught.value, FetchRefused)

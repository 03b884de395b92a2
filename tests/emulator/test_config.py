"""Registration rules of the developer portal, enforced when clients are configured."""

from __future__ import annotations

import pytest

from tiktimer.platforms.tiktok.emulator import ClientConfig, ConfigError, CreatorSettings
from tiktimer.platforms.tiktok.emulator.url_rules import is_verified_url, redirect_uri_matches


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback#frag",
        "app.example.com/callback",
        "https://app.example.com/" + "a" * 512,
    ],
)
def test_web_redirect_uris_must_be_static_https(uri: str) -> None:
    with pytest.raises(ConfigError):
        ClientConfig(client_key="k", client_secret="s", redirect_uris=(uri,))


def test_at_most_ten_redirect_uris() -> None:
    uris = tuple(f"https://app.example.com/{i}" for i in range(11))

    with pytest.raises(ConfigError, match="at most 10"):
        ClientConfig(client_key="k", client_secret="s", redirect_uris=uris)


def test_desktop_redirect_uris_are_loopback_with_a_port() -> None:
    ClientConfig(
        client_key="k",
        client_secret="s",
        platform="desktop",
        redirect_uris=("http://127.0.0.1:8000/cb/", "http://localhost:*/cb/"),
    )
    for uri in ("http://127.0.0.1/cb/", "http://example.com:80/cb/"):
        with pytest.raises(ConfigError):
            ClientConfig(
                client_key="k", client_secret="s", platform="desktop", redirect_uris=(uri,)
            )


def test_registration_rules_can_be_relaxed_for_local_demos() -> None:
    client = ClientConfig(
        client_key="k",
        client_secret="s",
        redirect_uris=("http://192.168.1.5:8000/cb",),
        check_registration_rules=False,
    )

    assert client.redirect_uris == ("http://192.168.1.5:8000/cb",)


def test_wildcard_port_matches_any_port_only_for_desktop() -> None:
    registered = "http://127.0.0.1:*/cb/"

    assert redirect_uri_matches(registered, "http://127.0.0.1:5173/cb/", "desktop")
    assert not redirect_uri_matches(registered, "http://127.0.0.1:5173/cb/x", "desktop")
    assert not redirect_uri_matches(registered, "http://127.0.0.1:abc/cb/", "desktop")
    assert not redirect_uri_matches(registered, "http://127.0.0.1:5173/cb/", "web")


@pytest.mark.parametrize(
    "prefix",
    ["https://media.example.com/videos", "https://10.0.0.1/media/", "http://media.example.com/v/"],
)
def test_verified_prefixes_are_https_domains_ending_in_slash(prefix: str) -> None:
    with pytest.raises(ConfigError):
        ClientConfig(client_key="k", client_secret="s", verified_url_prefixes=(prefix,))


def test_insecure_pull_urls_allow_local_fixture_servers() -> None:
    client = ClientConfig(
        client_key="k",
        client_secret="s",
        verified_url_prefixes=("http://127.0.0.1:9000/media/",),
        allow_insecure_pull_urls=True,
    )

    assert is_verified_url(
        "http://127.0.0.1:9000/media/a.mp4",
        prefixes=client.verified_url_prefixes,
        domains=(),
        allow_insecure=True,
    )
    assert not is_verified_url(
        "http://127.0.0.1:9000/media/a.mp4",
        prefixes=client.verified_url_prefixes,
        domains=(),
        allow_insecure=False,
    )


@pytest.mark.parametrize("username", ["A", "has space", "x" * 25])
def test_creator_usernames_follow_tiktok_handles(username: str) -> None:
    with pytest.raises(ConfigError):
        CreatorSettings(username=username)

"""Async client for Instagram Login and Reels content publishing (shared/instagram-api.md).

One method per endpoint, plain values in, `schemas` out, `InstagramError`s (contract
`PublishError`s) that say what to do next. It keeps no per-account state and never
retries on its own: the scheduler does (`reels` walks one Reel through its steps).

    login URL → callback code → short-lived token → long-lived token (60 days)
    → refresh weekly (`TokenSet.refresh_due`) → account facts (professional?)
    → create a REELS container → status until FINISHED (once a minute, 5 minutes at most
    here) → publishing limit → media_publish.

Tokens, codes and the app secret never reach a log line or an error message
(`tests/instagram/test_secrets.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import SecretStr

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.instagram.captions import caption_problems
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.graph_api import GraphApi
from tiktimer.platforms.instagram.schemas import (
    AccountFacts,
    ContainerStatus,
    ContainerStatusCode,
    PublishingLimit,
    Reel,
    ShortLivedToken,
    TokenSet,
)

AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"  # §2.1 (UNCONFIRMED: api.)
API_BASE = "https://api.instagram.com"
GRAPH_BASE = "https://graph.instagram.com"
GRAPH_VERSION = "v25.0"
SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
# §5: "query once per minute, for no more than 5 minutes".
POLL_INTERVAL = 60.0
POLL_DEADLINE = 300.0
UPLOAD_BACKOFF = Backoff(initial=1.0, factor=2.0, maximum=30.0)


class InstagramClient:
    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str | SecretStr,
        redirect_uri: str,
        authorize_url: str = AUTHORIZE_URL,
        api_base: str = API_BASE,
        graph_base: str = GRAPH_BASE,
        version: str = GRAPH_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret if isinstance(app_secret, SecretStr) else SecretStr(app_secret)
        self.redirect_uri = redirect_uri
        self._authorize_url = authorize_url
        self._api = api_base.rstrip("/")
        self._graph = graph_base.rstrip("/")
        self._versioned = f"{self._graph}/{version}"
        self._clock = clock
        self._sleep = sleep
        self._calls = GraphApi(transport, timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._calls.aclose()

    # -- login ------------------------------------------------------------------------

    def authorization_url(self, *, state: str, scopes: Sequence[str] = SCOPES) -> str:
        query = {
            "client_id": self.app_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": ",".join(scopes),
            "state": state,
        }
        return f"{self._authorize_url}?{urlencode(query)}"

    async def exchange_code(self, code: str) -> ShortLivedToken:
        """The callback's code (one use, 1 h) for a short-lived token; a refused code
        means the user must log in again."""
        form = {
            "client_id": self.app_id,
            "client_secret": self._secret.get_secret_value(),
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
            "code": code,
        }
        try:
            body = await self._calls.call(
                "code_exchange",
                "POST",
                f"{self._api}/oauth/access_token",
                form=form,
                secrets=(code, self._secret.get_secret_value()),
            )
        except InstagramError as exc:
            raise _as_reauthorize(exc) from None
        data = body.get("data")
        flat = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else body
        return ShortLivedToken(
            access_token=SecretStr(str(flat["access_token"])),
            user_id=str(flat["user_id"]),
            permissions=_permissions(flat.get("permissions")),
        )

    async def exchange_long_lived(self, short: ShortLivedToken) -> TokenSet:
        token = short.access_token.get_secret_value()
        params = {
            "grant_type": "ig_exchange_token",
            "client_secret": self._secret.get_secret_value(),
            "access_token": token,
        }
        return await self._token_call("long_lived_exchange", "/access_token", params, token)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """A fresh 60 days for an unexpired long-lived token at least 24 h old. An expired
        token cannot be revived: that, or any refused token, needs a new login."""
        token = tokens.access_token.get_secret_value()
        if tokens.expired(self._clock()):
            raise InstagramError(ErrorKind.reauthorize, _EXPIRED)
        params = {"grant_type": "ig_refresh_token", "access_token": token}
        return await self._token_call("refresh", "/refresh_access_token", params, token)

    async def account(self, tokens: TokenSet) -> AccountFacts:
        body = await self._get("me", "/me", tokens, fields="user_id,username,account_type")
        kind = body.get("account_type")
        return AccountFacts(
            user_id=str(body["user_id"]),
            username=str(body.get("username", "")),
            account_type=kind if isinstance(kind, str) else None,
        )

    # -- publishing -------------------------------------------------------------------

    async def create_reel(self, tokens: TokenSet, user_id: str, reel: Reel) -> str:
        """A REELS container from the video's URL; returns its id (processing has begun)."""
        if not reel.video_url:
            raise ValueError("a Reel from a URL needs video_url")
        body = await self._create(tokens, user_id, reel, {"video_url": reel.video_url})
        return str(body["id"])

    async def create_resumable_reel(
        self, tokens: TokenSet, user_id: str, reel: Reel
    ) -> tuple[str, str]:
        """A REELS container awaiting its bytes: (container id, the upload `uri`, to be
        used verbatim). §4.4: documented for Facebook Login apps only (UNCONFIRMED with
        Instagram Login, which is what this client logs in with)."""
        if reel.video_url:
            raise ValueError("a resumable Reel has no video_url")
        body = await self._create(tokens, user_id, reel, {"upload_type": "resumable"})
        return str(body["id"]), str(body["uri"])

    async def upload_video(
        self,
        tokens: TokenSet,
        uri: str,
        file_size: int,
        read_from: Callable[[int], AsyncIterator[bytes]],
        *,
        attempts: int = 5,
        backoff: Backoff = UPLOAD_BACKOFF,
    ) -> None:
        """Stream the file to the rupload `uri` (`read_from(offset)` yields its bytes from
        `offset`); after a cut, ask for the received offset and resume from there, never
        from zero (§4.4)."""
        offset = 0
        for attempt in range(attempts):
            try:
                await self._upload_from(tokens, uri, file_size, offset, read_from)
                return
            except InstagramError as exc:
                if exc.kind is not ErrorKind.retry or attempt == attempts - 1:
                    raise
                await self._sleep(backoff.delay(attempt))
            offset = await self.upload_offset(tokens, uri)
            if offset >= file_size:
                return  # every byte arrived; only the answer was lost

    async def upload_offset(self, tokens: TokenSet, uri: str) -> int:
        """The bytes the upload host holds (UNCONFIRMED shape, §13.6: `{"offset"}`)."""
        body = await self._calls.call(
            "rupload_offset", "GET", uri, token=_token(tokens), scheme="OAuth"
        )
        return int(body.get("offset") or 0)

    async def _upload_from(
        self,
        tokens: TokenSet,
        uri: str,
        file_size: int,
        offset: int,
        read_from: Callable[[int], AsyncIterator[bytes]],
    ) -> None:
        headers = {
            "offset": str(offset),
            "file_size": str(file_size),
            "Content-Length": str(file_size - offset),
            "Content-Type": "application/octet-stream",
        }
        await self._calls.call(
            "rupload",
            "POST",
            uri,
            token=_token(tokens),
            scheme="OAuth",
            headers=headers,
            content=read_from(offset),
            side_effect=True,
        )

    async def _create(
        self, tokens: TokenSet, user_id: str, reel: Reel, source: dict[str, str]
    ) -> dict[str, Any]:
        problems = caption_problems(reel.caption)
        if problems:
            raise InstagramError(ErrorKind.fail, " ".join(problems))
        form = {"media_type": "REELS"} | source
        if reel.caption:
            form["caption"] = reel.caption
        if reel.share_to_feed is not None:
            form["share_to_feed"] = "true" if reel.share_to_feed else "false"
        if reel.cover_url:
            form["cover_url"] = reel.cover_url
        elif reel.thumb_offset_ms is not None:  # cover_url wins when both are given (§4.1)
            form["thumb_offset"] = str(reel.thumb_offset_ms)
        return await self._calls.call(
            "create_container",
            "POST",
            f"{self._versioned}/{user_id}/media",
            form=form,
            token=_token(tokens),
            side_effect=True,
        )

    async def container_status(self, tokens: TokenSet, container_id: str) -> ContainerStatus:
        body = await self._get(
            "container_status", f"/{container_id}", tokens, fields="status_code,status"
        )
        try:
            code = ContainerStatusCode(str(body.get("status_code")))
        except ValueError:
            raise InstagramError(
                ErrorKind.retry, "Instagram sent an unknown container status."
            ) from None
        status = body.get("status")
        return ContainerStatus(code, status if isinstance(status, str) else None)

    async def wait_until_processed(
        self,
        tokens: TokenSet,
        container_id: str,
        *,
        interval: float = POLL_INTERVAL,
        deadline: float = POLL_DEADLINE,
    ) -> ContainerStatus:
        """Poll at Meta's pace until the container leaves IN_PROGRESS or the deadline
        passes (then it is returned still IN_PROGRESS; the scheduler checks again later)."""
        waited = 0.0
        while True:
            status = await self.container_status(tokens, container_id)
            if status.status_code is not ContainerStatusCode.IN_PROGRESS or waited >= deadline:
                return status
            await self._sleep(interval)
            waited += interval

    async def publish(self, tokens: TokenSet, user_id: str, container_id: str) -> str:
        """Publish a FINISHED container; returns the media id. On an error with
        `maybe_applied`, read the container's status before publishing again."""
        body = await self._calls.call(
            "media_publish",
            "POST",
            f"{self._versioned}/{user_id}/media_publish",
            form={"creation_id": container_id},
            token=_token(tokens),
            side_effect=True,
        )
        return str(body["id"])

    async def publishing_limit(self, tokens: TokenSet, user_id: str) -> PublishingLimit:
        body = await self._get(
            "publishing_limit",
            f"/{user_id}/content_publishing_limit",
            tokens,
            fields="config,quota_usage",
        )
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        raw_config = entry.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        return PublishingLimit(
            quota_usage=int(entry.get("quota_usage", 0)),
            # Meta's pages say 50 and 100 (§7.1): the lower one when the answer says nothing.
            quota_total=int(config.get("quota_total", 50)),
            quota_duration=int(config.get("quota_duration", 86_400)),
        )

    # -- internals --------------------------------------------------------------------

    async def _get(
        self, endpoint: str, path: str, tokens: TokenSet, *, fields: str
    ) -> dict[str, Any]:
        return await self._calls.call(
            endpoint,
            "GET",
            f"{self._versioned}{path}",
            params={"fields": fields},
            token=_token(tokens),
        )

    async def _token_call(
        self, endpoint: str, path: str, params: dict[str, str], token: str
    ) -> TokenSet:
        try:
            body = await self._calls.call(
                endpoint,
                "GET",
                f"{self._graph}{path}",
                params=params,
                secrets=(token, self._secret.get_secret_value()),
            )
        except InstagramError as exc:
            raise (_as_reauthorize(exc) if exc.graph_code == 190 else exc) from None
        now = self._clock()
        return TokenSet(
            access_token=SecretStr(str(body["access_token"])),
            issued_at=now,
            expires_at=now + timedelta(seconds=int(body["expires_in"])),
        )


_EXPIRED = "The Instagram login has expired; the account must be connected again."


def parse_callback(url: str, *, expected_state: str) -> str:
    """The code from the redirect, without Meta's trailing `#_` (§2.1); a denial or a
    state that is not ours is a failed login."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.get("state", [""])[0] != expected_state:
        raise InstagramError(ErrorKind.reauthorize, "The Instagram login could not be verified.")
    if "error" in query or "code" not in query:
        raise InstagramError(ErrorKind.reauthorize, "The Instagram login was cancelled.")
    return query["code"][0].removesuffix("#_")


def _as_reauthorize(exc: InstagramError) -> InstagramError:
    if exc.kind in (ErrorKind.retry, ErrorKind.reauthorize):
        return exc
    return InstagramError(
        ErrorKind.reauthorize,
        "Instagram refused the login; the account must be connected again.",
        graph_code=exc.graph_code,
        subcode=exc.subcode,
        log_id=exc.log_id,
    )


def _token(tokens: TokenSet) -> str:
    return tokens.access_token.get_secret_value()


def _permissions(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(name for name in raw.split(",") if name)
    if isinstance(raw, list):
        return tuple(str(name) for name in raw)
    return ()

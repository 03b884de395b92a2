"""Async client for TikTok's OAuth v2, user info and Content Posting APIs.

One method per endpoint, plain values in, parsed models out (``schemas``), typed
errors (``errors``) that say what to do next. The client keeps no per-account state:
tokens are passed to every call and returned token sets are the caller's to persist.
It never retries a call on its own, except a chunk PUT inside :meth:`upload_file`
(TikTok documents that a 5xx chunk must be sent again).

`TikTokClient` is a facade: each endpoint family is a module of ``api/`` (``oauth``,
``user_info``, ``posting``, ``post_status``, ``chunk_upload``) over one shared
``api.calls.TikTokApi``; this module is their public face, and its ``__all__`` is the
surface callers import.

Usage::

    async with TikTokClient(client_key=..., client_secret=..., redirect_uri=...) as tiktok:
        verifier = generate_code_verifier()
        url = tiktok.authorization_url(state=state, code_challenge=code_challenge(verifier))
        ...
        tokens = await tiktok.exchange_code(callback.code, code_verifier=verifier)

Secrets (client secret, tokens, codes, verifiers, upload URLs) never reach a log line or
an exception message; see ``tests/tiktok_client/test_secrets.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.tiktok.api import authorization, oauth, post_status, posting, user_info
from tiktimer.platforms.tiktok.api.authorization import (
    DEFAULT_AUTH_URL,
    DEFAULT_SCOPES,
    check_scopes,
    code_challenge,
    generate_code_verifier,
    generate_state,
    parse_authorization_callback,
)
from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.chunk_responses import ReadRange
from tiktimer.platforms.tiktok.api.chunk_upload import (
    DEFAULT_CHUNK_BACKOFF,
    UPLOAD_CONTENT_TYPES,
    ChunkUploader,
)
from tiktimer.platforms.tiktok.api.post_status import STATUS_POLL_BACKOFF
from tiktimer.platforms.tiktok.api.redaction import secret
from tiktimer.platforms.tiktok.api.user_info import (
    DEFAULT_USER_INFO_FIELDS,
    USER_INFO_FIELDS_BY_SCOPE,
    user_info_fields_for,
)
from tiktimer.platforms.tiktok.chunks import ChunkPlan
from tiktimer.platforms.tiktok.schemas import (
    Acknowledgement,
    CreatorInfo,
    PhotoDraftInfo,
    PhotoPostInfo,
    PhotoSource,
    PublishInit,
    PublishStatus,
    TokenSet,
    UploadResult,
    UserInfo,
    VideoPostInfo,
    VideoSource,
)

# The client's public surface: the class, and the helpers and constants its callers need
# around it (PKCE, the redirect, user-info fields, the status-poll pace).
__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_AUTH_URL",
    "DEFAULT_SCOPES",
    "DEFAULT_USER_INFO_FIELDS",
    "STATUS_POLL_BACKOFF",
    "UPLOAD_CONTENT_TYPES",
    "USER_INFO_FIELDS_BY_SCOPE",
    "Backoff",
    "ReadRange",
    "TikTokClient",
    "code_challenge",
    "generate_code_verifier",
    "generate_state",
    "parse_authorization_callback",
    "user_info_fields_for",
]

DEFAULT_API_BASE = "https://open.tiktokapis.com"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Timeouts are per socket operation; a 64 MB chunk on a slow link needs generous writes.
DEFAULT_UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
# Requests in flight at once, per kind. Each kind has its own share of the connection pool:
# chunk uploads (long on a real link) and status polls never hold up an init, and the pool
# never queues (httpcore scans its whole queue on every request event: quadratic under load).
DEFAULT_LANES: Mapping[str, int] = {"api": 16, "status": 8, "upload": 8}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_arguments(
    client_key: str,
    client_secret: str | SecretStr,
    redirect_uri: str,
    two_http_sources: bool,
    chunk_attempts: int,
    max_resyncs: int,
) -> None:
    """Refuse a client that could only fail later, at its first call."""
    if not client_key:
        raise ValueError("client_key is required")
    if not secret(client_secret):
        raise ValueError("client_secret is required")
    if not redirect_uri:
        raise ValueError("redirect_uri is required")
    if two_http_sources:
        raise ValueError("pass either http_client or transport, not both")
    if chunk_attempts < 1 or max_resyncs < 0:
        raise ValueError("chunk_attempts must be >= 1 and max_resyncs >= 0")


class TikTokClient:
    """TikTok API client over ``httpx.AsyncClient``.

    Args:
        client_key: the app's client key (TikTok's name for the OAuth client id).
        client_secret: the app's secret; only ever sent in token/revoke form bodies.
        redirect_uri: the registered redirect URI, sent byte-identical at authorize and
            code exchange.
        scopes: scopes requested by :meth:`authorization_url`.
        auth_url: the browser consent page.
        api_base: host of the token, user info and Content Posting endpoints.
        http_client: an ``httpx.AsyncClient`` to share (not closed by :meth:`aclose`).
        transport: transport for the client built when ``http_client`` is None (tests:
            ``httpx.MockTransport``, ``httpx.ASGITransport``).
        timeout: per-request timeout of API calls.
        upload_timeout: per-request timeout of chunk PUTs.
        chunk_attempts: attempts per chunk on 5xx / 429 / network errors.
        chunk_backoff: delays between those attempts.
        max_resyncs: 416 resynchronisations tolerated in one :meth:`upload_file`.
        sleep: awaitable sleep (tests inject a recorder).
        clock: returns the current aware UTC time (token ``obtained_at``).
        lanes: requests in flight at once per kind (``api``, ``status``, ``upload``); the
            pool this client builds holds their sum.
    """

    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str | SecretStr,
        redirect_uri: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        auth_url: str = DEFAULT_AUTH_URL,
        api_base: str = DEFAULT_API_BASE,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        upload_timeout: httpx.Timeout | float = DEFAULT_UPLOAD_TIMEOUT,
        chunk_attempts: int = 5,
        chunk_backoff: Backoff = DEFAULT_CHUNK_BACKOFF,
        max_resyncs: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = _utc_now,
        lanes: Mapping[str, int] = DEFAULT_LANES,
    ) -> None:
        _check_arguments(
            client_key,
            client_secret,
            redirect_uri,
            http_client is not None and transport is not None,
            chunk_attempts,
            max_resyncs,
        )
        self.client_key = client_key
        self.redirect_uri = redirect_uri
        self.scopes = check_scopes(scopes)
        self.auth_url = auth_url
        self._api = TikTokApi(api_base, http_client, transport, timeout, lanes)
        self.api_base = self._api.api_base
        self._tokens = oauth.OAuthTokens(
            self._api,
            client_key=client_key,
            client_secret=SecretStr(secret(client_secret)),
            redirect_uri=redirect_uri,
            clock=clock,
        )
        self._uploader = ChunkUploader(
            self._api,
            timeout=upload_timeout,
            attempts=chunk_attempts,
            backoff=chunk_backoff,
            max_resyncs=max_resyncs,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"TikTokClient(client_key={self.client_key!r}, api_base={self.api_base!r})"

    async def aclose(self) -> None:
        """Close the underlying ``httpx.AsyncClient`` if this client created it."""
        await self._api.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- OAuth

    def authorization_url(
        self,
        *,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] | None = None,
        disable_auto_auth: bool | None = None,
    ) -> str:
        """The consent-page URL to redirect the user's browser to.

        PKCE is always used (TikTok's web flow rejects requests without it in
        practice, and the flow works either way): pass ``code_challenge(verifier)``.
        """
        if not state:
            raise ValueError("state is required")
        if not code_challenge:
            raise ValueError("code_challenge is required")
        return authorization.authorization_url(
            self.auth_url,
            self.client_key,
            self.redirect_uri,
            check_scopes(scopes) if scopes is not None else self.scopes,
            state=state,
            challenge=code_challenge,
            disable_auto_auth=disable_auto_auth,
        )

    async def exchange_code(self, code: str | SecretStr, *, code_verifier: str) -> TokenSet:
        """Exchange an authorization code for tokens (single use: call it once).

        ``code`` is URL-decoded here if it still carries ``%XX`` escapes, so both the
        raw and the framework-decoded query value work.
        """
        return await self._tokens.exchange_code(code, code_verifier)

    async def refresh_access_token(self, refresh_token: str | SecretStr) -> TokenSet:
        """Refresh the access token. The returned ``refresh_token`` may be a new one
        (always, on newer TikTok revisions): persist the whole set atomically, and never
        refresh the same token concurrently."""
        return await self._tokens.refresh(refresh_token)

    async def revoke_access_token(self, access_token: str | SecretStr) -> Acknowledgement:
        """Revoke the user's grant (the app leaves their connected apps)."""
        return await self._tokens.revoke(access_token)

    async def get_user_info(
        self,
        access_token: str | SecretStr,
        *,
        fields: Sequence[str] = DEFAULT_USER_INFO_FIELDS,
    ) -> UserInfo:
        """``GET /v2/user/info/``. Ask only for fields the granted scopes allow
        (:func:`user_info_fields_for`); others fail with ``scope_permission_missed``."""
        return await user_info.fetch_user_info(self._api, access_token, fields)

    # ------------------------------------------------------- Content Posting

    async def query_creator_info(self, access_token: str | SecretStr) -> CreatorInfo:
        """Creator's posting options; call it right before each direct post.

        Posting caps (``spam_risk_too_many_posts`` ...) come with HTTP 200 here and are
        raised like any other error."""
        return await posting.query_creator_info(self._api, access_token)

    async def init_video_post(
        self,
        access_token: str | SecretStr,
        post_info: VideoPostInfo,
        source: VideoSource,
    ) -> PublishInit:
        """Direct Post a video (scope ``video.publish``). FILE_UPLOAD returns an
        ``upload_url`` for :meth:`upload_file`; PULL_FROM_URL only a ``publish_id``.

        Never retried blindly: a failed init may still have created a publish task."""
        return await posting.init_video_post(self._api, access_token, post_info, source)

    async def init_inbox_video(
        self, access_token: str | SecretStr, source: VideoSource
    ) -> PublishInit:
        """Upload a video to the creator's inbox as a draft (scope ``video.upload``).
        Title, privacy and toggles cannot be set: the creator finishes in the app."""
        return await posting.init_inbox_video(self._api, access_token, source)

    async def init_photo_post(
        self, access_token: str | SecretStr, post_info: PhotoPostInfo, source: PhotoSource
    ) -> PublishInit:
        """Direct Post photos (``post_mode=DIRECT_POST``, scope ``video.publish``)."""
        return await posting.init_photos(self._api, access_token, "DIRECT_POST", post_info, source)

    async def init_photo_draft(
        self,
        access_token: str | SecretStr,
        source: PhotoSource,
        draft_info: PhotoDraftInfo | None = None,
    ) -> PublishInit:
        """Send photos to the inbox (``post_mode=MEDIA_UPLOAD``, scope ``video.upload``)."""
        return await posting.init_photos(
            self._api, access_token, "MEDIA_UPLOAD", draft_info or PhotoDraftInfo(), source
        )

    async def fetch_post_status(
        self, access_token: str | SecretStr, publish_id: str
    ) -> PublishStatus:
        """One status poll (30/min per token; pace polls with ``STATUS_POLL_BACKOFF``)."""
        return await post_status.fetch_post_status(self._api, access_token, publish_id)

    async def cancel_post(self, access_token: str | SecretStr, publish_id: str) -> Acknowledgement:
        """Best-effort cancel of a PULL_FROM_URL publish still downloading."""
        return await post_status.cancel_post(self._api, access_token, publish_id)

    # ---------------------------------------------------------------- upload

    async def upload_file(
        self,
        upload_url: str,
        size: int,
        read_range: ReadRange,
        *,
        content_type: str = "video/mp4",
        plan: ChunkPlan | None = None,
        start_offset: int = 0,
    ) -> UploadResult:
        """PUT the video to ``upload_url`` chunk by chunk, sequentially, streaming.

        Args:
            upload_url: from the init, used verbatim (its query carries the credential).
            size: the ``video_size`` sent at init.
            read_range: ``read_range(start, end_exclusive)`` streams those bytes; it is
                called once per chunk attempt, so the file is never held in memory.
            content_type: ``video/mp4``, ``video/quicktime`` or ``video/webm``.
            plan: the chunk plan sent at init (default: ``plan_chunks(size)``).
            start_offset: resume at this chunk boundary (e.g. a status' ``uploaded_bytes``).

        A 5xx/429/network failure retries the same chunk (``chunk_attempts`` times, with
        backoff); a 416 moves to the chunk TikTok's progress header names; 403/404 raise
        :class:`TikTokReinitRequired`. Exceptions raised by ``read_range`` propagate.
        """
        return await self._uploader.upload(
            upload_url,
            size,
            read_range,
            content_type=content_type,
            plan=plan,
            start_offset=start_offset,
        )

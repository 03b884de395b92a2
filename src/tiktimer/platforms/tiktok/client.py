"""Async client for TikTok's OAuth v2, user info and Content Posting APIs.

One method per endpoint, plain values in, parsed models out (``schemas``), typed
errors (``errors``) that say what to do next. The client keeps no per-account state:
tokens are passed to every call and returned token sets are the caller's to persist.
It never retries a call on its own, except a chunk PUT inside :meth:`upload_file`
(TikTok documents that a 5xx chunk must be sent again).

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
import hashlib
import hmac
import inspect
import json
import logging
import re
import secrets
import string
from base64 import urlsafe_b64encode
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote, quote_plus, unquote, urlencode

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.tiktok.chunks import Chunk, ChunkPlan, plan_chunks
from tiktimer.platforms.tiktok.errors import (
    TikTokNetworkError,
    TikTokReinitRequired,
    TikTokRejected,
    TikTokRetryableError,
    TikTokUnexpectedResponse,
    TikTokUploadSourceError,
    error_for_code,
)
from tiktimer.platforms.tiktok.schemas import (
    Acknowledgement,
    AuthorizationCallback,
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

logger = logging.getLogger(__name__)

DEFAULT_AUTH_URL = "https://www.tiktok.com/v2/auth/authorize/"
DEFAULT_API_BASE = "https://open.tiktokapis.com"
DEFAULT_SCOPES: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Timeouts are per socket operation; a 64 MB chunk on a slow link needs generous writes.
DEFAULT_UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
UPLOAD_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
# Requests in flight at once, per kind. Each kind has its own share of the connection pool:
# chunk uploads (long on a real link) and status polls never hold up an init, and the pool
# never queues (httpcore scans its whole queue on every request event: quadratic under load).
DEFAULT_LANES: Mapping[str, int] = {"api": 16, "status": 8, "upload": 8}

USER_INFO_FIELDS_BY_SCOPE: Mapping[str, tuple[str, ...]] = {
    "user.info.basic": (
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    ),
    "user.info.profile": ("bio_description", "profile_deep_link", "is_verified", "username"),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
DEFAULT_USER_INFO_FIELDS: tuple[str, ...] = ("open_id", "union_id", "avatar_url", "display_name")
"""Fields every Login Kit grant covers (``user.info.basic``)."""

_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"
_VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")

ReadRange = Callable[[int, int], Awaitable[AsyncIterable[bytes]] | AsyncIterable[bytes]]
"""``read_range(start, end_exclusive)``: the bytes of that range as an async iterable
(an async generator function, or a coroutine function returning an async iterator)."""

_M = TypeVar("_M", bound=BaseModel)


# ----------------------------------------------------------------------------- PKCE


def generate_code_verifier(length: int = 64) -> str:
    """A fresh PKCE ``code_verifier``: ``length`` (43-128) chars of ``[A-Za-z0-9-._~]``.

    Use a new one for every authorization request and keep it server-side until the
    code exchange.
    """
    if not 43 <= length <= 128:
        raise ValueError("code_verifier length must be within 43..128")
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))


def code_challenge(code_verifier: str, *, encoding: Literal["hex", "base64url"] = "hex") -> str:
    """The S256 ``code_challenge`` of ``code_verifier``.

    TikTok documents the **lowercase hex** SHA-256 digest (not RFC 7636's base64url);
    ``encoding="base64url"`` exists only as an escape hatch should TikTok's web flow
    ever switch to the RFC form.
    """
    _check_verifier(code_verifier)
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    if encoding == "hex":
        return digest.hex()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_state() -> str:
    """An unguessable ``state`` value for CSRF protection of the redirect."""
    return secrets.token_urlsafe(32)


def _check_verifier(code_verifier: str) -> None:
    if not _VERIFIER_RE.fullmatch(code_verifier):
        raise ValueError("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")


def parse_authorization_callback(
    params: Mapping[str, str], *, expected_state: str
) -> AuthorizationCallback:
    """Validate the (already URL-decoded) query of TikTok's redirect to ``redirect_uri``.

    Raises:
        TikTokRejected: ``state`` does not match (possible CSRF) or ``code`` is missing.
        TikTokReauthorizeRequired: the user denied consent (``error=access_denied``).
        TikTokError: any other ``error`` TikTok put in the redirect.
    """
    state = params.get("state") or ""
    if not expected_state or not hmac.compare_digest(
        state.encode("utf-8"), expected_state.encode("utf-8")
    ):
        raise TikTokRejected(
            "the state of the TikTok redirect does not match the one sent",
            code="state_mismatch",
            hint="start the connection again",
        )
    error = params.get("error")
    if error:
        raise error_for_code(error, params.get("error_description"))
    code = params.get("code")
    if not code:
        raise TikTokRejected("the TikTok redirect carries no code", code="missing_code")
    scopes = tuple(s for s in (params.get("scopes") or "").split(",") if s)
    return AuthorizationCallback(code=SecretStr(code), state=state, granted_scopes=scopes)


def user_info_fields_for(scopes: Sequence[str]) -> tuple[str, ...]:
    """Every user-info field the granted ``scopes`` allow (asking for more is an error)."""
    return tuple(f for s in scopes for f in USER_INFO_FIELDS_BY_SCOPE.get(s, ()))


# -------------------------------------------------------------------------- backoff


STATUS_POLL_BACKOFF = Backoff(initial=5.0, factor=1.5, maximum=60.0, minimum=2.0, jitter=0.1)
"""Delays between ``fetch_post_status`` polls of one publish: 5 s growing to 60 s, never
under 2 s (the status endpoint allows 30 requests per minute per token)."""

DEFAULT_CHUNK_BACKOFF = Backoff(initial=1.0, factor=2.0, maximum=30.0, jitter=0.2)


# ---------------------------------------------------------------- log redaction

_SENSITIVE_QUERY = re.compile(
    r"(?<=[?&])(upload_token|access_token|refresh_token|token|code|code_verifier|client_secret)"
    r"=[^&#\s\"']*",
    re.IGNORECASE,
)


def _redact_url(url: str) -> str:
    return _SENSITIVE_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


class _RedactUrlFilter(logging.Filter):
    """Masks credentials in URL query strings that httpx logs (``HTTP Request: PUT
    https://…?upload_token=…``): the upload URL's token is the upload credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _redact_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def _install_httpx_log_redaction() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrlFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactUrlFilter())


def _redact(text: str | None, secret_values: Sequence[str]) -> str | None:
    """Remove any secret we sent from text TikTok sent back (defence in depth)."""
    if text is None:
        return None
    for value in secret_values:
        if value and len(value) >= 4:
            for form in {value, quote(value, safe=""), quote_plus(value, safe="")}:
                text = text.replace(form, "***")
    return text


def _secret(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


# -------------------------------------------------------------- response parsing


def _json_body(response: httpx.Response) -> Any:
    """The JSON body (ints stay exact: stdlib ``json``), or None if absent/invalid."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _find_error(body: Any) -> tuple[str, str | None] | None:
    """``(code, message)`` from either error shape, or None when the body says ok."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str) and error:  # OAuth: {"error", "error_description", "log_id"}
        return error, _text(body.get("error_description"))
    if isinstance(error, dict):  # data API: {"data", "error": {"code", "message", "log_id"}}
        code = _text(error.get("code"))
        if code and code != "ok":
            return code, _text(error.get("message"))
    return None


def _log_id(body: Any, response: httpx.Response) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and _text(error.get("log_id")):
            return str(error["log_id"])
        if _text(body.get("log_id")):
            return str(body["log_id"])
    return response.headers.get("x-tt-logid") or None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_CONTENT_RANGE_RE = re.compile(r"\s*bytes\s+(?:\d+-(\d+)|\*)/(\d+|\*)\s*", re.IGNORECASE)


def _resync_index(response: httpx.Response, plan: ChunkPlan) -> int | None:
    """Chunk index to continue from, read from the upload host's ``Content-Range:
    bytes 0-{N}/{total}`` progress header.

    Whether N counts bytes or is the last byte's index is undocumented (reference
    §5.3/§11.12). Chunks are accepted whole, so TikTok's progress is a chunk boundary:
    of the two readings (N and N + 1 bytes) exactly one is a boundary, which settles it.
    ``bytes */total`` reads as "nothing yet" (restarting is safe: resyncs are bounded).
    """
    match = _CONTENT_RANGE_RE.fullmatch(response.headers.get("content-range", ""))
    if not match:
        return None
    if match.group(2) != "*" and int(match.group(2)) != plan.video_size:
        return None
    if match.group(1) is None:  # "bytes */total": no byte received yet
        return 0
    reported = int(match.group(1))
    indices = {plan.index_at(reported), plan.index_at(reported + 1)} - {None}
    if len(indices) != 1:
        return None
    return indices.pop()


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------ client


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
        if not client_key:
            raise ValueError("client_key is required")
        if not _secret(client_secret):
            raise ValueError("client_secret is required")
        if not redirect_uri:
            raise ValueError("redirect_uri is required")
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        if chunk_attempts < 1 or max_resyncs < 0:
            raise ValueError("chunk_attempts must be >= 1 and max_resyncs >= 0")
        self.client_key = client_key
        self._client_secret = SecretStr(_secret(client_secret))
        self.redirect_uri = redirect_uri
        self.scopes = _check_scopes(scopes)
        self.auth_url = auth_url
        self.api_base = api_base.rstrip("/")
        self._owns_http = http_client is None
        pool = sum(lanes.values())
        self._http = http_client or httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )
        self._lanes = {kind: asyncio.Semaphore(size) for kind, size in lanes.items()}
        self._timeout = timeout
        self._upload_timeout = upload_timeout
        self._chunk_attempts = chunk_attempts
        self._chunk_backoff = chunk_backoff
        self._max_resyncs = max_resyncs
        self._sleep = sleep
        self._clock = clock
        _install_httpx_log_redaction()

    def __repr__(self) -> str:
        return f"TikTokClient(client_key={self.client_key!r}, api_base={self.api_base!r})"

    async def aclose(self) -> None:
        """Close the underlying ``httpx.AsyncClient`` if this client created it."""
        if self._owns_http:
            await self._http.aclose()

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
        params = [
            ("client_key", self.client_key),
            ("scope", ",".join(_check_scopes(scopes) if scopes is not None else self.scopes)),
            ("response_type", "code"),
            ("redirect_uri", self.redirect_uri),
            ("state", state),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ]
        if disable_auto_auth is not None:
            params.append(("disable_auto_auth", "1" if disable_auto_auth else "0"))
        # Commas stay literal: a form decoder reads them the same, a naive one too.
        query = urlencode(params, quote_via=quote, safe=",")
        return f"{self.auth_url}{'&' if '?' in self.auth_url else '?'}{query}"

    async def exchange_code(self, code: str | SecretStr, *, code_verifier: str) -> TokenSet:
        """Exchange an authorization code for tokens (single use: call it once).

        ``code`` is URL-decoded here if it still carries ``%XX`` escapes, so both the
        raw and the framework-decoded query value work.
        """
        _check_verifier(code_verifier)
        raw_code = unquote(_secret(code))
        if not raw_code:
            raise ValueError("code is required")
        form = {
            "client_key": self.client_key,
            "client_secret": self._client_secret.get_secret_value(),
            "code": raw_code,
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        return await self._token_request(form, endpoint="oauth.token.authorization_code")

    async def refresh_access_token(self, refresh_token: str | SecretStr) -> TokenSet:
        """Refresh the access token. The returned ``refresh_token`` may be a new one
        (always, on newer TikTok revisions): persist the whole set atomically, and never
        refresh the same token concurrently."""
        token = _secret(refresh_token)
        if not token:
            raise ValueError("refresh_token is required")
        form = {
            "client_key": self.client_key,
            "client_secret": self._client_secret.get_secret_value(),
            "grant_type": "refresh_token",
            "refresh_token": token,
        }
        return await self._token_request(form, endpoint="oauth.token.refresh_token")

    async def revoke_access_token(self, access_token: str | SecretStr) -> Acknowledgement:
        """Revoke the user's grant (the app leaves their connected apps)."""
        token = _secret(access_token)
        form = {
            "client_key": self.client_key,
            "client_secret": self._client_secret.get_secret_value(),
            "token": token,
        }
        endpoint = "oauth.revoke"
        response, body = await self._request(
            "POST",
            f"{self.api_base}/v2/oauth/revoke/",
            endpoint=endpoint,
            idempotent=False,
            secret_values=(token, form["client_secret"]),
            data=form,
            headers={"Cache-Control": "no-cache"},
        )
        return Acknowledgement(log_id=_log_id(body, response))

    async def get_user_info(
        self,
        access_token: str | SecretStr,
        *,
        fields: Sequence[str] = DEFAULT_USER_INFO_FIELDS,
    ) -> UserInfo:
        """``GET /v2/user/info/``. Ask only for fields the granted scopes allow
        (:func:`user_info_fields_for`); others fail with ``scope_permission_missed``."""
        if not fields or any(not f or "," in f for f in fields):
            raise ValueError("fields must be non-empty names without commas")
        token = _secret(access_token)
        endpoint = "user.info"
        # Literal commas, as in TikTok's examples.
        url = f"{self.api_base}/v2/user/info/?fields={','.join(quote(f) for f in fields)}"
        response, body = await self._request(
            "GET",
            url,
            endpoint=endpoint,
            idempotent=True,
            secret_values=(token,),
            headers={"Authorization": f"Bearer {token}"},
        )
        data, log_id = _envelope_data(body, response, endpoint)
        user = data.get("user")
        if not isinstance(user, dict):
            raise TikTokUnexpectedResponse(
                "user info response without data.user", code="unexpected_response", log_id=log_id
            )
        return _parse(UserInfo, user, endpoint=endpoint, log_id=log_id)

    # ------------------------------------------------------- Content Posting

    async def query_creator_info(self, access_token: str | SecretStr) -> CreatorInfo:
        """Creator's posting options; call it right before each direct post.

        Posting caps (``spam_risk_too_many_posts`` ...) come with HTTP 200 here and are
        raised like any other error."""
        endpoint = "post.creator_info"
        data, log_id = await self._post_json(
            access_token, "/v2/post/publish/creator_info/query/", {}, endpoint, idempotent=True
        )
        return _parse(CreatorInfo, data, endpoint=endpoint, log_id=log_id)

    async def init_video_post(
        self,
        access_token: str | SecretStr,
        post_info: VideoPostInfo,
        source: VideoSource,
    ) -> PublishInit:
        """Direct Post a video (scope ``video.publish``). FILE_UPLOAD returns an
        ``upload_url`` for :meth:`upload_file`; PULL_FROM_URL only a ``publish_id``.

        Never retried blindly: a failed init may still have created a publish task."""
        payload = {"post_info": _dump(post_info), "source_info": _dump(source)}
        return await self._init(access_token, "/v2/post/publish/video/init/", payload, source)

    async def init_inbox_video(
        self, access_token: str | SecretStr, source: VideoSource
    ) -> PublishInit:
        """Upload a video to the creator's inbox as a draft (scope ``video.upload``).
        Title, privacy and toggles cannot be set: the creator finishes in the app."""
        payload = {"source_info": _dump(source)}
        return await self._init(access_token, "/v2/post/publish/inbox/video/init/", payload, source)

    async def init_photo_post(
        self, access_token: str | SecretStr, post_info: PhotoPostInfo, source: PhotoSource
    ) -> PublishInit:
        """Direct Post photos (``post_mode=DIRECT_POST``, scope ``video.publish``)."""
        payload = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": _dump(post_info),
            "source_info": _dump(source),
        }
        return await self._init(access_token, "/v2/post/publish/content/init/", payload, None)

    async def init_photo_draft(
        self,
        access_token: str | SecretStr,
        source: PhotoSource,
        draft_info: PhotoDraftInfo | None = None,
    ) -> PublishInit:
        """Send photos to the inbox (``post_mode=MEDIA_UPLOAD``, scope ``video.upload``)."""
        payload = {
            "media_type": "PHOTO",
            "post_mode": "MEDIA_UPLOAD",
            "post_info": _dump(draft_info or PhotoDraftInfo()),
            "source_info": _dump(source),
        }
        return await self._init(access_token, "/v2/post/publish/content/init/", payload, None)

    async def fetch_post_status(
        self, access_token: str | SecretStr, publish_id: str
    ) -> PublishStatus:
        """One status poll (30/min per token; pace polls with ``STATUS_POLL_BACKOFF``)."""
        if not publish_id:
            raise ValueError("publish_id is required")
        endpoint = "post.status"
        data, log_id = await self._post_json(
            access_token,
            "/v2/post/publish/status/fetch/",
            {"publish_id": publish_id},
            endpoint,
            idempotent=True,
            lane="status",
        )
        return _parse(PublishStatus, data, endpoint=endpoint, log_id=log_id)

    async def cancel_post(self, access_token: str | SecretStr, publish_id: str) -> Acknowledgement:
        """Best-effort cancel of a PULL_FROM_URL publish still downloading."""
        if not publish_id:
            raise ValueError("publish_id is required")
        _, log_id = await self._post_json(
            access_token,
            "/v2/post/publish/cancel/",
            {"publish_id": publish_id},
            "post.cancel",
            idempotent=False,
        )
        return Acknowledgement(log_id=log_id)

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
        if content_type not in UPLOAD_CONTENT_TYPES:
            raise ValueError(f"content_type must be one of {sorted(UPLOAD_CONTENT_TYPES)}")
        plan = plan or plan_chunks(size)
        if plan.video_size != size:
            raise ValueError("the chunk plan is for a different size")
        index = plan.index_at(start_offset)
        if index is None or index >= plan.total_chunk_count:
            raise ValueError("start_offset must be the start of a chunk")
        attempt = retries = resyncs = 0
        log_id: str | None = None
        while index < plan.total_chunk_count:
            chunk = plan.chunk(index)
            is_last = index == plan.total_chunk_count - 1
            failure: TikTokRetryableError
            try:
                response = await self._put_chunk(upload_url, chunk, read_range, content_type)
            except httpx.RequestError as exc:
                failure = _network_error(exc, "upload.chunk", idempotent=False)
            else:
                log_id = response.headers.get("x-tt-logid") or log_id
                status = response.status_code
                logger.debug(
                    "tiktok.upload.chunk_sent chunk=%d/%d status=%d",
                    index + 1,
                    plan.total_chunk_count,
                    status,
                )
                if status == 206 and not is_last:
                    index, attempt = index + 1, 0
                    continue
                if status in (200, 201) and is_last:
                    return UploadResult(
                        uploaded_bytes=size,
                        chunk_count=plan.total_chunk_count,
                        chunk_retries=retries,
                        resyncs=resyncs,
                        log_id=log_id,
                    )
                if status == 416:
                    resyncs += 1
                    target = self._resync(response, plan, chunk, resyncs, log_id)
                    if target == index:
                        # TikTok's progress is where we are, yet it refused: an earlier
                        # attempt of this chunk may still be in flight there. Wait, resend.
                        await self._sleep(self._chunk_backoff.delay(resyncs - 1))
                    index, attempt = target, 0
                    continue
                failure = _upload_failure(response, chunk, is_last, log_id)
            attempt += 1
            if attempt >= self._chunk_attempts:
                failure.uploaded_bytes = chunk.start
                logger.warning(
                    "tiktok.upload.chunk_failed chunk=%d attempts=%d code=%s log_id=%s",
                    index + 1,
                    attempt,
                    failure.code,
                    failure.log_id,
                )
                raise failure
            retries += 1
            delay = max(failure.retry_after or 0.0, self._chunk_backoff.delay(attempt - 1))
            logger.info(
                "tiktok.upload.chunk_retry chunk=%d attempt=%d delay=%.1f code=%s",
                index + 1,
                attempt,
                delay,
                failure.code,
            )
            await self._sleep(delay)
        # A 416 revealed that TikTok already holds every byte (our final 201 was lost).
        return UploadResult(
            uploaded_bytes=size,
            chunk_count=plan.total_chunk_count,
            chunk_retries=retries,
            resyncs=resyncs,
            log_id=log_id,
        )

    def _resync(
        self,
        response: httpx.Response,
        plan: ChunkPlan,
        chunk: Chunk,
        resyncs: int,
        log_id: str | None,
    ) -> int:
        target = _resync_index(response, plan)
        if resyncs > self._max_resyncs or target is None:
            raise TikTokReinitRequired(
                "the upload is out of sync with TikTok and cannot be resumed",
                code="upload_out_of_sync",
                log_id=log_id,
                http_status=416,
                uploaded_bytes=chunk.start,
            )
        logger.info("tiktok.upload.resync from_chunk=%d to_chunk=%d", chunk.index + 1, target + 1)
        return target

    async def _put_chunk(
        self, upload_url: str, chunk: Chunk, read_range: ReadRange, content_type: str
    ) -> httpx.Response:
        body = _chunk_stream(read_range, chunk)
        try:
            async with self._lanes["upload"]:
                return await self._http.put(
                    upload_url,
                    content=body,
                    headers={
                        "Content-Type": content_type,
                        "Content-Length": str(chunk.length),
                        "Content-Range": chunk.content_range,
                    },
                    timeout=self._upload_timeout,
                )
        finally:
            await body.aclose()

    # -------------------------------------------------------------- plumbing

    async def _init(
        self,
        access_token: str | SecretStr,
        path: str,
        payload: dict[str, Any],
        source: VideoSource | None,
    ) -> PublishInit:
        endpoint = "post." + path.strip("/").split("/publish/")[-1].replace("/", ".")
        data, log_id = await self._post_json(access_token, path, payload, endpoint, False)
        result = _parse(PublishInit, data, endpoint=endpoint, log_id=log_id)
        if source is not None and source.source == "FILE_UPLOAD" and not result.upload_url:
            raise TikTokUnexpectedResponse(
                "FILE_UPLOAD init response without upload_url",
                code="unexpected_response",
                log_id=log_id,
            )
        return result

    async def _post_json(
        self,
        access_token: str | SecretStr,
        path: str,
        payload: Mapping[str, Any],
        endpoint: str,
        idempotent: bool,
        lane: str = "api",
    ) -> tuple[dict[str, Any], str | None]:
        token = _secret(access_token)
        if not token:
            raise ValueError("access_token is required")
        response, body = await self._request(
            "POST",
            f"{self.api_base}{path}",
            endpoint=endpoint,
            idempotent=idempotent,
            secret_values=(token,),
            lane=lane,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=UTF-8",
            },
            content=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
        )
        return _envelope_data(body, response, endpoint)

    async def _token_request(self, form: dict[str, str], *, endpoint: str) -> TokenSet:
        obtained_at = self._clock()
        response, body = await self._request(
            "POST",
            f"{self.api_base}/v2/oauth/token/",
            endpoint=endpoint,
            idempotent=False,
            secret_values=tuple(
                v for k, v in form.items() if k not in ("client_key", "grant_type", "redirect_uri")
            ),
            data=form,
            headers={"Cache-Control": "no-cache"},
        )
        log_id = _log_id(body, response)
        if not isinstance(body, dict) or not _text(body.get("access_token")):
            raise TikTokUnexpectedResponse(
                "token response without access_token", code="unexpected_response", log_id=log_id
            )
        return _parse(
            TokenSet, {**body, "obtained_at": obtained_at}, endpoint=endpoint, log_id=log_id
        )

    async def _request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        idempotent: bool,
        secret_values: Sequence[str],
        lane: str = "api",
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """Send, and raise the typed error for any failure; returns the parsed body."""
        try:
            async with self._lanes[lane]:
                response = await self._http.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.RequestError as exc:
            network_error = _network_error(exc, endpoint, idempotent=idempotent)
            logger.warning(
                "tiktok.request.network_error endpoint=%s error=%s", endpoint, network_error.code
            )
            raise network_error from exc
        body = _json_body(response)
        found = _find_error(body)
        if found is None and response.is_success:
            return response, body
        code, message = found if found else (None, None)
        error = error_for_code(
            code,
            _redact(message, secret_values),
            http_status=response.status_code,
            log_id=_log_id(body, response),
            retry_after=_retry_after(response),
            maybe_applied=not idempotent,
        )
        logger.warning(
            "tiktok.request.failed endpoint=%s status=%d code=%s action=%s log_id=%s",
            endpoint,
            response.status_code,
            error.code,
            error.action,
            error.log_id,
        )
        raise error


def _check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        raise TypeError("scopes must be a sequence of scope names, not a string")
    result = tuple(scopes)
    if not result or any(not s or re.search(r"[,\s]", s) for s in result):
        raise ValueError("scopes must be non-empty names without commas or spaces")
    return result


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _envelope_data(
    body: Any, response: httpx.Response, endpoint: str
) -> tuple[dict[str, Any], str | None]:
    """``data`` of a ``{data, error}`` envelope whose ``error.code`` is ``ok``."""
    log_id = _log_id(body, response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("code") != "ok":
        raise TikTokUnexpectedResponse(
            f"{endpoint} response without the error.code=ok envelope",
            code="unexpected_response",
            log_id=log_id,
            http_status=response.status_code,
        )
    data = body.get("data")
    if data is None:
        return {}, log_id
    if not isinstance(data, dict):
        raise TikTokUnexpectedResponse(
            f"{endpoint} response data is not an object",
            code="unexpected_response",
            log_id=log_id,
        )
    return data, log_id


def _parse(model: type[_M], payload: Mapping[str, Any], *, endpoint: str, log_id: str | None) -> _M:
    try:
        return model.model_validate({**payload, "log_id": log_id})
    except ValidationError as exc:
        # Only field names: pydantic's own message would echo the (secret) input.
        fields = sorted(
            {".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)}
        )
    # Raised outside the except block so the ValidationError is not even its __context__.
    raise TikTokUnexpectedResponse(
        f"unexpected {endpoint} response: invalid or missing {', '.join(fields)}",
        code="unexpected_response",
        log_id=log_id,
    )


def _network_error(
    exc: httpx.RequestError, endpoint: str, *, idempotent: bool
) -> TikTokNetworkError:
    # Failing to connect means nothing was sent; any later failure may have been applied.
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return TikTokNetworkError(
        f"network error calling TikTok {endpoint}: {type(exc).__name__}",
        code="timeout" if isinstance(exc, httpx.TimeoutException) else "network_error",
        maybe_applied=not idempotent and not not_sent,
    )


def _upload_failure(
    response: httpx.Response, chunk: Chunk, is_last: bool, log_id: str | None
) -> TikTokRetryableError:
    """Map a non-progress chunk response: return a retryable error, raise the rest."""
    status = response.status_code
    where = f"chunk {chunk.index + 1} ({chunk.content_range})"
    if status in (403, 404):
        raise TikTokReinitRequired(
            "the upload URL has expired" if status == 403 else "TikTok has no upload task here",
            code="upload_url_expired" if status == 403 else "upload_not_found",
            log_id=log_id,
            http_status=status,
            uploaded_bytes=chunk.start,
        )
    if status >= 500 or status in (408, 429):
        error = error_for_code(
            None,
            f"TikTok upload host answered {status} to {where}",
            http_status=status,
            log_id=log_id,
            retry_after=_retry_after(response),
            maybe_applied=True,
        )
        assert isinstance(error, TikTokRetryableError)
        return error
    if response.is_success:
        raise TikTokUnexpectedResponse(
            f"TikTok answered {status} to {where}, which is {'' if is_last else 'not '}the last",
            code="unexpected_response",
            log_id=log_id,
            http_status=status,
            uploaded_bytes=chunk.start,
        )
    raise TikTokRejected(
        f"TikTok upload host refused {where} with HTTP {status}",
        code="upload_rejected",
        hint="headers do not match the chunk plan sent at init (client bug)"
        if status == 400
        else None,
        log_id=log_id,
        http_status=status,
        uploaded_bytes=chunk.start,
    )


async def _chunk_stream(read_range: ReadRange, chunk: Chunk) -> AsyncGenerator[bytes, None]:
    """The chunk's bytes from ``read_range``, checked against the declared length."""
    source = read_range(chunk.start, chunk.end)
    iterable: AsyncIterable[bytes] = await source if inspect.isawaitable(source) else source
    iterator = aiter(iterable)
    sent = 0
    try:
        async for piece in iterator:
            if not piece:
                continue
            sent += len(piece)
            if sent > chunk.length:
                break
            yield bytes(piece)
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    if sent != chunk.length:
        raise TikTokUploadSourceError(
            f"read_range({chunk.start}, {chunk.end}) produced "
            f"{'more' if sent > chunk.length else 'fewer'} than {chunk.length} bytes",
            code="upload_source_mismatch",
            uploaded_bytes=chunk.start,
        )

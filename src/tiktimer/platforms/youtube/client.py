"""`YouTubeClient`: Google OAuth 2.0 and `videos.insert` / `videos.list` over httpx.

One method per protocol step and no domain types: callers pass tokens in and get
`TokenSet`, session URIs, `UploadedVideo` and `VideoState` back. Every failure is a
`YouTubeError` (a `PublishError`), classified in `errors.py`. Tokens and session ids
never reach a log line (`kit.redact`) or an error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from tiktimer.kit.backoff import Backoff
from tiktimer.kit.redact import install_http_client_redaction
from tiktimer.kit.time import utc_now
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.endpoints import SCOPES, GoogleEndpoints
from tiktimer.platforms.youtube.errors import YouTubeError, api_error, network_error, token_error
from tiktimer.platforms.youtube.pkce import code_challenge
from tiktimer.platforms.youtube.schemas import TokenSet, UploadedVideo, VideoMetadata, VideoState
from tiktimer.platforms.youtube.upload import (
    DEFAULT_BACKOFF,
    DEFAULT_CHUNK_SIZE,
    ReadRange,
    ResumableUpload,
    check_chunk_size,
)

logger = logging.getLogger("tiktimer.platforms.youtube.client")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0)


class ConsentRefused(Exception):
    """The user declined, or the callback does not belong to our request (state)."""


def parse_callback(query: Mapping[str, str], expected_state: str) -> str:
    """The authorization code from the redirect back, after checking `state`."""
    if query.get("state") != expected_state:
        raise ConsentRefused("The sign-in answer does not match the request (state).")
    if "error" in query or not query.get("code"):
        raise ConsentRefused(f"Google sign-in was not completed ({query.get('error', 'no code')}).")
    return query["code"]


class YouTubeClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        endpoints: GoogleEndpoints | None = None,
        scopes: tuple[str, ...] = SCOPES,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_retries: int = 10,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        install_http_client_redaction()
        self.client_id, self._secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.endpoints = endpoints or GoogleEndpoints()
        self.scopes = scopes
        self.chunk_size = check_chunk_size(chunk_size)
        self.backoff, self.max_retries, self.sleep, self.clock = backoff, max_retries, sleep, clock
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- OAuth ----------------------------------------------------------------------------

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """The consent page. `access_type=offline` brings a refresh token on the first
        consent only; `prompt=consent` brings one on a reconnect too, so a reconnected
        channel never ends up without one (Postiz #1884; §2.1)."""
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "access_type": "offline",
            "state": state,
            "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
            "prompt": "consent",
        }
        return f"{self.endpoints.authorize}?{urlencode(params)}"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token; the result's `refresh_token` is None (keep the stored one)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, token: str) -> None:
        """End the grant (access or refresh token); an already dead token counts as done."""
        try:
            response = await self.http.post(
                self.endpoints.revoke,
                params={"token": token},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.HTTPError as error:
            raise network_error("revoke", error) from None
        if response.status_code != 200 and not _dead_token(response):
            raise token_error(response)

    async def _token(self, form: dict[str, str]) -> TokenSet:
        form |= {"client_id": self.client_id, "client_secret": self._secret}
        try:
            response = await self.http.post(self.endpoints.token, data=form)
        except httpx.HTTPError as error:
            raise network_error("token", error) from None
        if response.status_code != 200:
            raise token_error(response)
        body: dict[str, Any] = response.json()
        return TokenSet(
            access_token=str(body["access_token"]),
            expires_at=self.clock() + timedelta(seconds=int(body.get("expires_in", 3600))),
            scopes=tuple(str(body.get("scope", "")).split()),
            refresh_token=body.get("refresh_token") or None,
        )

    # -- videos.insert --------------------------------------------------------------------

    async def start_upload(
        self, access_token: str, meta: VideoMetadata, *, size: int, content_type: str
    ) -> str:
        """Open a resumable session (one call from the project's upload quota): its URI."""
        params = {
            "uploadType": "resumable",
            "part": "snippet,status",
            "notifySubscribers": "true" if meta.notify_subscribers else "false",
        }
        body = json.dumps(meta.resource()).encode()
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Length": str(size),
            "X-Upload-Content-Type": content_type,
        }
        try:
            response = await self.http.post(
                self.endpoints.upload, params=params, content=body, headers=headers
            )
        except httpx.HTTPError as error:
            raise network_error("insert", error) from None
        if response.status_code != 200:
            raise api_error(response, "insert", self.clock())
        location = response.headers.get("location")
        if not location:
            raise YouTubeError(ErrorKind.retry, "YouTube opened no upload session.", stage="insert")
        return str(location)  # verbatim: never rebuilt

    async def upload(
        self,
        access_token: str,
        session_uri: str,
        *,
        size: int,
        content_type: str,
        read_range: ReadRange,
        resume: bool = False,
    ) -> UploadedVideo:
        """Send the bytes; `resume=True` asks the session where it stands first."""
        upload = ResumableUpload(
            self.http,
            session_uri,
            access_token=access_token,
            size=size,
            content_type=content_type,
            read_range=read_range,
            chunk_size=self.chunk_size,
            backoff=self.backoff,
            max_retries=self.max_retries,
            sleep=self.sleep,
            clock=self.clock,
        )
        return await upload.run(None if resume else 0)

    # -- videos.list ----------------------------------------------------------------------

    async def video_state(self, access_token: str, video_id: str) -> VideoState | None:
        """One processing reading (1 quota unit); None when YouTube has no such video."""
        try:
            response = await self.http.get(
                self.endpoints.videos,
                params={"part": "status,processingDetails", "id": video_id},
                headers={"Authorization": f"Bearer {access_token}"},
            )
        except httpx.HTTPError as error:
            raise network_error("list", error) from None
        if response.status_code != 200:
            raise api_error(response, "list", self.clock())
        items = response.json().get("items") or []
        if not items:
            return None
        status = items[0].get("status") or {}
        processing = items[0].get("processingDetails") or {}
        return VideoState(
            video_id=video_id,
            upload_status=status.get("uploadStatus"),
            processing_status=processing.get("processingStatus"),
            failure_reason=status.get("failureReason"),
            rejection_reason=status.get("rejectionReason"),
            privacy_status=status.get("privacyStatus"),
        )


def _dead_token(response: httpx.Response) -> bool:
    try:
        return bool(response.status_code == 400 and response.json().get("error") == "invalid_token")
    except ValueError:
        return False

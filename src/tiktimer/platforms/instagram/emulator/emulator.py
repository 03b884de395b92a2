"""`Emulator`: the emulated Instagram's operations (used by the routes) and its test hooks.

Every operation is one `store.transaction()`; a container's creation is two, because the
video is fetched between them with no lock held.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from tiktimer.kit.offset_clock import Clock

from . import containers, graph, ids, oauth, uploads
from .config import AccountSettings, AccountType, EmulatorConfig, ExchangeShape
from .endpoints import RUPLOAD_PREFIX
from .errors import GraphError
from .faults import Fault, FaultBook
from .fetch import FetchFailed, FetchTimedOut, MediaSource
from .mp4 import HEAD_BYTES, MAX_BYTES, video_facts
from .oauth import AuthorizeRequest
from .params import reel_params
from .records import RequestRecord
from .state import Account, Container, Media, State, Token, TokenKind, VideoFacts
from .store import MemoryStore, StateStore

COVER_MAX_BYTES = 8 * 1024 * 1024


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None, store: StateStore | None = None):
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self.faults = FaultBook()
        self.store: StateStore = store or MemoryStore()
        self.media_source = MediaSource(self.config.fetch_transport)
        self._requests: deque[RequestRecord] = deque(maxlen=self.config.max_recorded_requests)
        self._seed = list(self.config.accounts)

    # -- OAuth ------------------------------------------------------------------------

    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        return oauth.check_authorize(self.config, params)

    async def consent(self, request: AuthorizeRequest, username: str) -> str:
        """The redirect after the user allowed: `?code=…&state=…#_` (§2.1)."""
        async with self._state() as state:
            account = state.account_named(username)
            if account is None:
                raise GraphError(100, f"No sandbox account named {username!r}.")
            code = oauth.issue_code(state, self.config, request, account.user_id, self.clock.now())
        query = {"code": code} | ({"state": request.state} if request.state else {})
        return f"{request.redirect_uri}?{urlencode(query)}#_"

    async def exchange_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        async with self._state() as state:
            body = oauth.exchange_code(state, self.config, form, self.clock.now())
        return {"data": [body]} if self.config.exchange_shape is ExchangeShape.DATA else body

    async def exchange_long_lived(self, params: Mapping[str, str]) -> dict[str, Any]:
        async with self._state() as state:
            return oauth.exchange_long_lived(state, self.config, params, self.clock.now())

    async def refresh(self, params: Mapping[str, str]) -> dict[str, Any]:
        async with self._state() as state:
            return oauth.refresh(state, self.config, params, self.clock.now())

    # -- Graph ------------------------------------------------------------------------

    async def me(self, raw: str, fields: str | None) -> tuple[dict[str, Any], dict[str, str]]:
        async with self._state() as state:
            token, usage = self._admit(state, raw)
            return graph.me(state, token, fields), usage

    async def node(
        self, raw: str, node_id: str, fields: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        async with self._state() as state:
            token, usage = self._admit(state, raw)
            return graph.node(state, self.config, token, node_id, fields, self.clock.now()), usage

    async def create_container(
        self,
        raw: str,
        user_id: str,
        params: Mapping[str, str],
        *,
        upload_base: str,
        version: str | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A container from `video_url` (fetched now) or awaiting a rupload at `uri`."""
        async with self._state() as state:
            token, usage = self._admit(state, raw)
            graph.publisher_account(state, token, user_id)
            containers.check_container_cap(state, self.config, user_id, self.clock.now())
            reel = reel_params(params, rupload=self.config.rupload_with_instagram_login)
        facts = None
        if reel.video_url is not None:
            facts = await self._video_facts(reel.video_url)
            containers.check_thumb_offset(reel, facts)
        if reel.cover_url:
            await self._check_cover(reel.cover_url)
        async with self._state() as state:
            container = containers.create(
                state,
                self.config,
                user_id=user_id,
                app_id=token.app_id,
                reel=reel,
                facts=facts,
                now=self.clock.now(),
            )
        if facts is not None:
            return {"id": container.id}, usage
        path = f"{RUPLOAD_PREFIX}{version or self.config.versions[-1]}/{container.id}"
        return {"id": container.id, "uri": upload_base.rstrip("/") + path}, usage

    async def rupload(
        self, container_id: str, headers: Mapping[str, str], body: AsyncIterator[bytes]
    ) -> dict[str, Any]:
        """Take a rupload's bytes as they arrive; those before a cut are kept."""
        raw = uploads.oauth_token(headers)
        async with self._state() as state:
            token = oauth.caller(state, raw, self.clock.now())
            container = uploads.begin(
                state, self.config, token, container_id, headers, self.clock.now()
            )
        try:
            async for chunk in body:
                async with self._state():
                    uploads.receive(container, chunk)
        finally:
            async with self._state():
                complete = uploads.finish(container, self.config, self.clock.now())
        if not complete:
            raise GraphError(100, "The body ended before file_size bytes; resume the upload.")
        return {"success": True, "message": "Upload successful."}

    async def rupload_offset(self, container_id: str, headers: Mapping[str, str]) -> dict[str, Any]:
        raw = uploads.oauth_token(headers)
        async with self._state() as state:
            token = oauth.caller(state, raw, self.clock.now())
            return uploads.progress(state, self.config, token, container_id, self.clock.now())

    async def publish(
        self, raw: str, user_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        async with self._state() as state:
            token, usage = self._admit(state, raw)
            graph.publisher_account(state, token, user_id)
            creation_id = params.get("creation_id")
            if not creation_id:
                raise GraphError(100, "The parameter creation_id is required.")
            media = containers.publish(
                state, self.config, user_id=user_id, creation_id=creation_id, now=self.clock.now()
            )
            return {"id": media.id}, usage

    async def publishing_limit(
        self, raw: str, user_id: str, fields: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        async with self._state() as state:
            token, usage = self._admit(state, raw)
            graph.publisher_account(state, token, user_id)
            body = graph.publishing_limit(state, self.config, user_id, fields, self.clock.now())
            return body, usage

    # -- test hooks -------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change a setting for the next operations (processing delay, caps…)."""
        self.config = dataclasses.replace(self.config, **changes)

    def register_media(self, url: str, content: bytes) -> None:
        self.media_source.register(url, content)

    def add_fault(self, fault: Fault) -> Fault:
        return self.faults.add(fault)

    def record(self, record: RequestRecord) -> None:
        self._requests.append(record)

    def requests(self, endpoint: str | None = None) -> list[RequestRecord]:
        return [r for r in self._requests if endpoint is None or r.endpoint == endpoint]

    async def add_account(
        self, username: str, account_type: AccountType = AccountType.BUSINESS
    ) -> str:
        async with self._state() as state:
            return _add_account(state, AccountSettings(username, account_type)).user_id

    async def issue_token(
        self,
        username: str,
        app_id: str,
        *,
        kind: TokenKind = TokenKind.LONG,
        permissions: tuple[str, ...] = (oauth.BASIC, oauth.PUBLISH),
    ) -> str:
        """A token as if the user had logged in (`issued_at` now)."""
        async with self._state() as state:
            account = state.account_named(username)
            assert account is not None, username
            now = self.clock.now()
            seconds = (
                self.config.long_token_seconds
                if kind is TokenKind.LONG
                else self.config.short_token_seconds
            )
            value = ids.access_token()
            state.tokens[ids.secret_hash(value)] = Token(
                app_id, account.user_id, kind, permissions, issued_at=now, expires_at=now + seconds
            )
            return value

    async def containers(self) -> list[Container]:
        async with self._state() as state:
            return list(state.containers.values())

    async def media(self) -> list[Media]:
        async with self._state() as state:
            return list(state.media.values())

    async def container_status(self, container_id: str) -> str:
        async with self._state() as state:
            container = state.containers[container_id]
            return containers.status_of(container, self.config, self.clock.now()).value

    # -- internals --------------------------------------------------------------------

    @asynccontextmanager
    async def _state(self) -> AsyncIterator[State]:
        """The store's transaction, with the configured accounts added on first use."""
        async with self.store.transaction() as state:
            while self._seed:
                _add_account(state, self._seed.pop(0))
            yield state

    def _admit(self, state: State, raw: str) -> tuple[Token, dict[str, str]]:
        now = self.clock.now()
        token = oauth.caller(state, raw, now)
        return token, graph.admit(state, self.config, token, now)

    async def _video_facts(self, url: str) -> VideoFacts:
        try:
            fetched = await self.media_source.fetch(
                url, HEAD_BYTES, MAX_BYTES, self.config.fetch_timeout_seconds
            )
        except FetchTimedOut:
            raise GraphError(-2, "The media download took too long.", subcode=2207003) from None
        except FetchFailed:
            raise GraphError(
                9004, "Media could not be fetched from this URI.", subcode=2207052
            ) from None
        return video_facts(fetched.head, fetched.size)

    async def _check_cover(self, url: str) -> None:
        try:
            fetched = await self.media_source.fetch(
                url, 4, COVER_MAX_BYTES, self.config.fetch_timeout_seconds
            )
        except (FetchTimedOut, FetchFailed):
            raise GraphError(
                9004, "Media could not be fetched from this URI.", subcode=2207052
            ) from None
        if fetched.head[:3] != b"\xff\xd8\xff" or fetched.size > COVER_MAX_BYTES:
            raise GraphError(36001, "The image format is not supported.", subcode=2207005)


def _add_account(state: State, settings: AccountSettings) -> Account:
    existing = state.account_named(settings.username)
    if existing is not None:
        return existing
    account = Account(
        ids.numeric_id("user"), ids.numeric_id("scoped"), settings.username, settings.account_type
    )
    state.accounts[account.user_id] = account
    return account

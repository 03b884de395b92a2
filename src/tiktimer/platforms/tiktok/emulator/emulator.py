"""`Emulator`: the whole emulated TikTok state and the operations its routes run on it.

The hooks tests use to inspect and script it are `harness.HarnessHooks` (a mixin: same
state, same lock); the upload host's chunks and the pulls' outcomes are `upload_host` and
`pull_outcomes`, composed here.

The state is an in-memory model behind one re-entrant lock that is never held across an
`await`, so it is safe both for concurrent requests on the event loop and for tests that
call these methods from another thread while a server runs.

With a `StateStore`, that model is a cache of a shared snapshot: routes and background
work run their operations inside `synced()`, which takes the store's lock, reloads the
snapshot when another process moved its version, and commits it back when it changed, so
every process over the same store sees one sandbox that survives restarts. The test hooks
(`create_creator`, `reset`, `publications`…) work on this process's model; what they
change is committed by the next operation. Running hashes of chunked uploads cannot be
persisted: a chunk that lands in another process than the previous one (or after a
restart) still counts, but the upload then ends without a `media_sha256`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from tiktimer.kit.offset_clock import Clock, to_datetime

from .accounts import CreatorDirectory, user_profile, username_from_name
from .config import ClientConfig, CreatorSettings, EmulatorConfig
from .enums import PostMode
from .errors import ApiError
from .faults import FaultBook, FaultPlan
from .harness import HarnessHooks
from .oauth import AuthorizeRequest, Caller, OAuthServer
from .publishing import Publisher
from .pull_outcomes import PullTracker
from .pulls import Downloads
from .rate_limits import SlidingWindowLimiter
from .records import RequestRecord
from .schemas import ContentInit, DirectVideoInit, InboxVideoInit, PublishIdBody, parse_body
from .scopes import USER_FIELD_SCOPES, Scope
from .snapshot import SNAPSHOT_FORMAT, Snapshot
from .snapshot import dump as dump_snapshot
from .snapshot import load as load_snapshot
from .store import StateStore
from .upload_host import UploadHost
from .uploads import ChunkTicket, UploadSigner
from .webhooks import Delivery, Outbox, WebhookSender, unsent_events

log = logging.getLogger("tiktimer.sandbox")

# A stored state is polled for new webhook events less eagerly than memory (each poll is a
# short transaction on the shared row).
STORED_WEBHOOK_POLL_SECONDS = 0.5
PULL_ABANDON_GRACE_SECONDS = 60.0
# A shared state keeps publish tasks this long: past the 24 h of every cap and every
# status check, and it keeps each operation (a whole-snapshot write) small.
STORED_TASK_SECONDS = 2 * 86_400.0


class Emulator(HarnessHooks):
    """The emulated TikTok: its API operations here, its test hooks in `HarnessHooks`."""

    def __init__(
        self, config: EmulatorConfig | None = None, store: StateStore | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self._lock = threading.RLock()
        self._store = store
        # The stored version this model mirrors (None: unknown, reload before trusting it)
        # and the snapshot last committed or loaded (to tell whether an operation changed it).
        self._version: int | None = None
        self._synced_snapshot: dict[str, Any] | None = None
        self._outbox = Outbox()
        self._clients = {client.client_key: client for client in self.config.clients}
        self._creators = CreatorDirectory()
        self._oauth = OAuthServer(self.config, self._find_client)
        self._publisher = Publisher(
            self.config,
            UploadSigner(self.config.signing_secret),
            abandon_pulls_after=(
                self.config.pull_timeout_seconds + PULL_ABANDON_GRACE_SECONDS if store else None
            ),
        )
        self._limiter = SlidingWindowLimiter(self.config.rate_limits)
        self._faults = FaultBook()
        self._requests: deque[RequestRecord] = deque(maxlen=self.config.max_recorded_requests)
        self._downloads = Downloads(self.config.pull_transport, self.config.pull_timeout_seconds)
        self._uploads = UploadHost(self._publisher, self.clock, self._lock)
        self._pulls = PullTracker(
            self._publisher, self.clock, self._lock, self._downloads, self.synced
        )
        self._webhooks = (
            WebhookSender(
                self.config.webhook_url,
                take_due=self._take_due_webhooks,
                settle=self._settle_webhooks,
                transport=self.config.webhook_transport,
                poll_seconds=STORED_WEBHOOK_POLL_SECONDS if store is not None else 0.05,
            )
            if self.config.webhook_url
            else None
        )
        self._seed_creators()

    # -- the shared state ------------------------------------------------------------

    @property
    def store(self) -> StateStore | None:
        return self._store

    @asynccontextmanager
    async def synced(self) -> AsyncIterator[None]:
        """Run the enclosed (synchronous) operations on the shared state.

        A no-op without a store. With one: under the store's lock, reload if another
        process committed since, then commit what the operations changed, even when they
        end in one of TikTok's refusals (a burnt code stays burnt).
        """
        store = self._store
        if store is None:
            yield
            return
        async with store.locked() as locked:
            known, self._version = self._version, None  # unknown until this commits
            if locked.version is not None and locked.version != known:
                stored = await locked.load()
                if stored:
                    with self._lock:
                        self._restore(stored)
                        self._synced_snapshot = self._snapshot()
            try:
                yield
            finally:
                with self._lock:
                    current = self._snapshot()
                changed = locked.version is None or current != self._synced_snapshot
                self._version = await locked.commit(current if changed else None)
                self._synced_snapshot = current

    async def check_state(self) -> None:
        """Reach the shared state once (raises `StateUnavailable` with the reason)."""
        async with self.synced():
            pass

    def _snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        self._oauth.prune(now)
        self._publisher.prune(now - STORED_TASK_SECONDS)
        return dump_snapshot(
            Snapshot(
                format=SNAPSHOT_FORMAT,
                clock_offset=self.clock.offset,
                creators=self._creators.records(),
                oauth=self._oauth.records(),
                publishing=self._publisher.records(),
                rate_windows=self._limiter.records(now),
                outbox=self._outbox,
            )
        )

    def _restore(self, data: dict[str, Any]) -> None:
        snapshot = load_snapshot(data)
        self.clock.restore(snapshot.clock_offset)
        self._creators.restore(snapshot.creators)
        self._oauth.restore(snapshot.oauth)
        self._publisher.restore(snapshot.publishing)
        self._limiter.restore(snapshot.rate_windows)
        self._outbox = snapshot.outbox

    async def aclose(self) -> None:
        """Stop background downloads and webhook deliveries; close the store."""
        await self._downloads.aclose()
        if self._webhooks is not None:
            await self._webhooks.aclose()
        if self._store is not None:
            await self._store.aclose()

    # -- OAuth (used by the routes) --------------------------------------------------

    def check_authorize_request(self, params: Mapping[str, str]) -> AuthorizeRequest:
        with self._lock:
            return self._oauth.check_authorize_request(params)

    def consent(
        self,
        request: AuthorizeRequest,
        *,
        creator: str | None,
        new_creator: str | None,
        granted: tuple[str, ...],
    ) -> str:
        """Record the user's consent and return the authorization code."""
        with self._lock:
            now = self.clock.now()
            if new_creator:
                username = username_from_name(new_creator)
                if self._creators.find(username) is None:
                    settings = CreatorSettings(username=username, display_name=new_creator)
                    self._creators.add(settings, now)
            elif creator:
                username = self._creators.get(creator).username
            else:
                raise ValueError("choose a creator or name a new one")
            return self._oauth.issue_code(request, username, granted, now)

    def exchange_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            return self._oauth.exchange_code(form, self.clock.now())

    def refresh(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            return self._oauth.refresh(form, self.clock.now())

    def revoke(self, form: Mapping[str, str]) -> None:
        with self._lock:
            self._oauth.revoke(form)

    def authenticate_client(self, form: Mapping[str, str]) -> ClientConfig:
        with self._lock:
            return self._oauth.authenticate_client(form)

    # -- data endpoints (used by the routes) -----------------------------------------

    def admit(self, bearer: str, endpoint: str, any_of: tuple[Scope, ...]) -> Caller:
        """Token (401), scope (401), then the sliding-window limit (429)."""
        with self._lock:
            now = self.clock.now()
            caller = self._oauth.caller(bearer, now)
            if self._creators.find(caller.username) is None:
                raise ApiError("access_token_invalid", "The user of this token is gone.")
            _require_scope(caller, any_of)
            if not self._limiter.allow(endpoint, caller.token_hash, now):
                raise ApiError(
                    "rate_limit_exceeded", "The API rate limit was exceeded. Retry later."
                )
            return caller

    def user_info(self, caller: Caller, fields: str) -> dict[str, Any]:
        names = [name.strip() for name in fields.split(",") if name.strip()]
        if not names:
            raise ApiError("invalid_params", "fields is required.")
        unknown = [name for name in names if name not in USER_FIELD_SCOPES]
        if unknown:
            raise ApiError("invalid_params", f"unknown field(s): {', '.join(unknown)}")
        missing = [name for name in names if USER_FIELD_SCOPES[name] not in caller.scopes]
        if missing:
            raise ApiError(
                "scope_permission_missed", f"field(s) need more scopes: {', '.join(missing)}"
            )
        with self._lock:
            settings = self._creators.get(caller.username).settings
        profile = user_profile(caller.open_id, settings)
        return {"user": {name: profile[name] for name in names}}

    def creator_info(self, caller: Caller) -> dict[str, Any]:
        with self._lock:
            creator = self._creators.get(caller.username)
            return self._publisher.creator_info(caller, creator, self.clock.now())

    def init_direct_video(self, caller: Caller, raw: bytes, upload_base: str) -> dict[str, Any]:
        body = parse_body(DirectVideoInit, raw, reject_unknown=self.config.reject_unknown_fields)
        with self._lock:
            creator = self._creators.get(caller.username)
            now = self.clock.now()
            task, data = self._publisher.init_direct_video(caller, creator, body, now, upload_base)
        self._pulls.start(task)
        return data

    def init_inbox_video(self, caller: Caller, raw: bytes, upload_base: str) -> dict[str, Any]:
        body = parse_body(InboxVideoInit, raw, reject_unknown=self.config.reject_unknown_fields)
        with self._lock:
            creator = self._creators.get(caller.username)
            now = self.clock.now()
            task, data = self._publisher.init_inbox_video(caller, creator, body, now, upload_base)
        self._pulls.start(task)
        return data

    def init_photo(self, caller: Caller, raw: bytes) -> dict[str, Any]:
        body = parse_body(ContentInit, raw, reject_unknown=self.config.reject_unknown_fields)
        direct = body.post_mode == PostMode.DIRECT_POST
        needed = Scope.VIDEO_PUBLISH if direct else Scope.VIDEO_UPLOAD
        _require_scope(caller, (needed,))
        with self._lock:
            creator = self._creators.get(caller.username)
            task, data = self._publisher.init_photo(caller, creator, body, self.clock.now())
        self._pulls.start(task)
        return data

    def status(self, caller: Caller, raw: bytes) -> dict[str, Any]:
        body = parse_body(PublishIdBody, raw, reject_unknown=self.config.reject_unknown_fields)
        with self._lock:
            return self._publisher.status(caller, body.publish_id, self.clock.now())

    def cancel(self, caller: Caller, raw: bytes) -> None:
        body = parse_body(PublishIdBody, raw, reject_unknown=self.config.reject_unknown_fields)
        with self._lock:
            task = self._publisher.cancel(caller, body.publish_id, self.clock.now())
        self._downloads.cancel(task.publish_id)

    # -- upload host (used by the routes) --------------------------------------------

    def begin_chunk(self, upload_id: str, token: str, headers: Mapping[str, str]) -> ChunkTicket:
        return self._uploads.begin_chunk(upload_id, token, headers)

    def commit_chunk(self, ticket: ChunkTicket, received_bytes: int) -> tuple[bool, int, int]:
        """Returns (complete, bytes received so far, total) for the 206/201 response."""
        return self._uploads.commit_chunk(ticket, received_bytes)

    def abort_chunk(self, ticket: ChunkTicket) -> None:
        self._uploads.abort_chunk(ticket)

    # -- request log and faults (used by the middleware) -----------------------------

    def plan_faults(self, endpoint: str) -> FaultPlan:
        with self._lock:
            return self._faults.plan_for(endpoint)

    def record_request(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def ensure_background(self) -> None:
        """Start the webhook loop from inside the serving event loop (mounts get no lifespan).

        Harmless in several processes over one store: deliveries are claimed before sending."""
        if self._webhooks is not None:
            self._webhooks.ensure_running()

    def now_datetime(self) -> datetime:
        return to_datetime(self.clock.now())

    # -- internals -------------------------------------------------------------------

    def _find_client(self, client_key: str) -> ClientConfig | None:
        return self._clients.get(client_key)

    async def _take_due_webhooks(self) -> list[tuple[Delivery, str]]:
        """Queue newly earned events, claim the due ones; each with its client's secret."""
        async with self.synced():
            with self._lock:
                now = self.clock.now()
                views = [
                    (task, self._publisher.view(task, now)) for task in self._publisher.tasks()
                ]
                self._outbox.add(unsent_events(views, self._clients))
                wall = time.time()
                batch = []
                for delivery in self._outbox.claim_due(wall):
                    client = self._clients.get(delivery.event.client_key)
                    if client is None:
                        self._outbox.settle(delivery.id, True, wall)  # nobody to sign for
                    else:
                        batch.append((delivery, client.client_secret))
                return batch

    async def _settle_webhooks(self, outcomes: list[tuple[Delivery, bool]]) -> None:
        async with self.synced():
            with self._lock:
                wall = time.time()
                for delivery, delivered in outcomes:
                    self._outbox.settle(delivery.id, delivered, wall)


def _require_scope(caller: Caller, any_of: tuple[Scope, ...]) -> None:
    if not any(scope in caller.scopes for scope in any_of):
        needed = " or ".join(any_of)
        raise ApiError("scope_not_authorized", f"The user did not authorize the scope {needed}.")

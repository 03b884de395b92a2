"""`Emulator`: the whole emulated TikTok state, plus the hooks tests use to inspect and script it.

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

import asyncio
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

from . import ids
from .accounts import CreatorDirectory, user_profile, username_from_name
from .clock import Clock, to_datetime
from .config import ClientConfig, CreatorSettings, EmulatorConfig
from .enums import IN_FLIGHT_STATUSES, FailReason, MediaType, PostMode, PrivacyLevel, PublishStatus
from .errors import ApiError, NotFoundError, UploadError
from .faults import Fault, FaultBook, FaultPlan
from .models import PublishTask
from .oauth import AuthorizeRequest, Caller, OAuthServer
from .publishing import Publisher
from .pulls import Downloads
from .rate_limits import SlidingWindowLimiter
from .records import PublicationRecord, RequestRecord, publication_record
from .schemas import ContentInit, DirectVideoInit, InboxVideoInit, PublishIdBody, parse_body
from .scopes import USER_FIELD_SCOPES, Scope
from .snapshot import SNAPSHOT_FORMAT, Snapshot
from .snapshot import dump as dump_snapshot
from .snapshot import load as load_snapshot
from .store import StateStore
from .uploads import ChunkTicket, UploadSigner, abort_chunk, begin_chunk, commit_chunk
from .webhooks import Delivery, Outbox, WebhookEvent, WebhookSender, unsent_events

log = logging.getLogger("tiktimer.sandbox")

# A stored state is polled for new webhook events less eagerly than memory (each poll is a
# short transaction on the shared row).
STORED_WEBHOOK_POLL_SECONDS = 0.5
PULL_RESULT_RETRIES = 6
PULL_ABANDON_GRACE_SECONDS = 60.0
# A shared state keeps publish tasks this long: past the 24 h of every cap and every
# status check, and it keeps each operation (a whole-snapshot write) small.
STORED_TASK_SECONDS = 2 * 86_400.0


class Emulator:
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
        # upload_id -> (bytes hashed, running SHA-256); memory only (see the module doc).
        self._hashes: dict[str, tuple[int, Any]] = {}
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

    # -- clients and creators (test hooks) -------------------------------------------

    def register_client(self, client: ClientConfig) -> None:
        """Add or replace a registered app (kept across `reset`)."""
        with self._lock:
            self._clients[client.client_key] = client

    def clients(self) -> list[ClientConfig]:
        with self._lock:
            return list(self._clients.values())

    def create_creator(self, settings: CreatorSettings) -> CreatorSettings:
        """Create a sandbox creator, or replace the settings of the one with that username."""
        with self._lock:
            return self._creators.add(settings, self.clock.now()).settings

    def update_creator(self, username: str, **changes: Any) -> CreatorSettings:
        with self._lock:
            return self._creators.update(username, changes, self.clock.now()).settings

    def creator(self, username: str) -> CreatorSettings:
        with self._lock:
            return self._creators.get(username).settings

    def creators(self) -> list[CreatorSettings]:
        with self._lock:
            return [creator.settings for creator in self._creators.all()]

    def posts_today(self, username: str) -> int:
        """Direct posts counted toward the creator's daily cap right now."""
        with self._lock:
            creator = self._creators.get(username)
            return self._publisher.direct_posts_today(creator, self.clock.now())

    @staticmethod
    def open_id(client_key: str, username: str) -> str:
        return ids.open_id(client_key, username)

    def issue_tokens(
        self, client_key: str, username: str, scopes: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Skip the consent page: the token response TikTok would give after consent."""
        with self._lock:
            client = self._require_client(client_key)
            self._creators.get(username)
            granted = scopes if scopes is not None else client.approved_scopes
            return self._oauth.grant_tokens(client_key, username, granted, self.clock.now())

    def remove_authorization(self, client_key: str, username: str) -> int:
        """The user disconnects the app: tokens die and in-flight posts fail with auth_removed."""
        with self._lock:
            now = self.clock.now()
            revoked = self._oauth.revoke_user(client_key, username)
            client = self._clients.get(client_key)
            if client is not None and revoked and self._webhooks is not None:
                event = WebhookEvent(
                    client_key=client_key,
                    event="authorization.removed",
                    user_openid=ids.open_id(client_key, username),
                    content={"reason": 1},
                )
                self._outbox.add([event])
            for task in self._publisher.tasks():
                if task.client_key == client_key and task.username == username:
                    if self._publisher.view(task, now).status in IN_FLIGHT_STATUSES:
                        self._publisher.fail(task, FailReason.AUTH_REMOVED, now)
            return revoked

    # -- publications and requests (test hooks) --------------------------------------

    def publications(
        self,
        *,
        caption: str | None = None,
        creator: str | None = None,
        client_key: str | None = None,
        status: str | None = None,
    ) -> list[PublicationRecord]:
        """Every publish task, oldest first; `creator` matches a username or an open_id."""
        with self._lock:
            now = self.clock.now()
            records = [self._record(task, now) for task in self._publisher.tasks()]
        return [
            record
            for record in records
            if (caption is None or record.caption == caption)
            and (creator is None or creator in (record.creator_username, record.creator_open_id))
            and (client_key is None or record.client_key == client_key)
            and (status is None or record.status == status)
        ]

    def count_publications(self, **filters: str | None) -> int:
        return len(self.publications(**filters))

    def publication(self, publish_id: str) -> PublicationRecord:
        with self._lock:
            return self._record(self._task(publish_id), self.clock.now())

    def simulate_user_post(
        self, publish_id: str, privacy_level: PrivacyLevel = PrivacyLevel.PUBLIC_TO_EVERYONE
    ) -> PublicationRecord:
        """The creator opens the inbox draft and posts it (the only way inbox tasks complete)."""
        with self._lock:
            now = self.clock.now()
            task = self._task(publish_id)
            if self._publisher.view(task, now).status is not PublishStatus.SEND_TO_USER_INBOX:
                raise ValueError(f"{publish_id} is not waiting in the creator's inbox")
            task.user_posted_at = now
            task.user_post_privacy = PrivacyLevel(privacy_level)
            return self._record(task, now)

    def requests(
        self, *, endpoint: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        with self._lock:
            records = list(self._requests)
        return [
            record
            for record in records
            if (endpoint is None or record.endpoint == endpoint)
            and (status is None or record.status == status)
        ]

    def count_requests(self, *, endpoint: str | None = None, status: int | None = None) -> int:
        return len(self.requests(endpoint=endpoint, status=status))

    # -- faults and time (test hooks) ------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            return self._faults.add(fault)

    def faults(self) -> list[Fault]:
        with self._lock:
            return self._faults.all()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._publisher.clear_scripted_failures()

    def fail_next_publish(self, fail_reason: str, count: int = 1) -> None:
        """The next `count` publish tasks end FAILED with `fail_reason` after processing."""
        with self._lock:
            self._publisher.script_failures(fail_reason, count)

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def reset(self) -> None:
        """Forget tokens, posts, requests, faults and limits; creators return to the config's.

        Registered clients (including ones added at runtime) are kept.
        """
        self._downloads.cancel_all()
        with self._lock:
            self._oauth.clear()
            self._publisher.clear()
            self._limiter.clear()
            self._faults.clear()
            self._requests.clear()
            self._outbox.clear()
            self._hashes.clear()
            self._creators.clear()
            self.clock.reset()
            self._seed_creators()

    async def aclose(self) -> None:
        """Stop background downloads and webhook deliveries; close the store."""
        await self._downloads.aclose()
        if self._webhooks is not None:
            await self._webhooks.aclose()
        if self._store is not None:
            await self._store.aclose()

    def webhook_deliveries(self) -> list[WebhookEvent]:
        """Webhook events the receiver acknowledged with HTTP 200, in delivery order."""
        return list(self._webhooks.delivered) if self._webhooks is not None else []

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
        self._start_pull(task)
        return data

    def init_inbox_video(self, caller: Caller, raw: bytes, upload_base: str) -> dict[str, Any]:
        body = parse_body(InboxVideoInit, raw, reject_unknown=self.config.reject_unknown_fields)
        with self._lock:
            creator = self._creators.get(caller.username)
            now = self.clock.now()
            task, data = self._publisher.init_inbox_video(caller, creator, body, now, upload_base)
        self._start_pull(task)
        return data

    def init_photo(self, caller: Caller, raw: bytes) -> dict[str, Any]:
        body = parse_body(ContentInit, raw, reject_unknown=self.config.reject_unknown_fields)
        direct = body.post_mode == PostMode.DIRECT_POST
        needed = Scope.VIDEO_PUBLISH if direct else Scope.VIDEO_UPLOAD
        _require_scope(caller, (needed,))
        with self._lock:
            creator = self._creators.get(caller.username)
            task, data = self._publisher.init_photo(caller, creator, body, self.clock.now())
        self._start_pull(task)
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
        with self._lock:
            task = self._publisher.task_for_upload(upload_id, token)
            if task is None or task.upload is None:
                raise UploadError(404, "no valid upload task for this URL")
            upload = task.upload
            hashed, hasher = self._hashes.get(upload_id, (0, hashlib.sha256()))
            known = hasher if hashed == upload.received else None
            return begin_chunk(upload, headers, self.clock.now(), known)

    def commit_chunk(self, ticket: ChunkTicket, received_bytes: int) -> tuple[bool, int, int]:
        """Returns (complete, bytes received so far, total) for the 206/201 response."""
        with self._lock:
            task = self._upload_task(ticket.upload_id)
            upload = task.upload
            if upload is None:
                raise UploadError(404, "no valid upload task for this URL")
            complete = commit_chunk(upload, ticket, received_bytes)
            if ticket.hasher is not None:
                self._hashes[upload.upload_id] = (upload.received, ticket.hasher)
            if complete:
                task.transfer_done_at = self.clock.now()
                hashed = self._hashes.pop(upload.upload_id, None)
                task.media_sha256 = hashed[1].hexdigest() if hashed else None
            return complete, upload.received, upload.plan.video_size

    def abort_chunk(self, ticket: ChunkTicket) -> None:
        with self._lock:
            upload = self._upload_task(ticket.upload_id).upload
            if upload is not None:
                abort_chunk(upload)

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

    def _require_client(self, client_key: str) -> ClientConfig:
        client = self._clients.get(client_key)
        if client is None:
            raise NotFoundError(f"no client {client_key!r}")
        return client

    def _seed_creators(self) -> None:
        now = self.clock.now()
        for settings in self.config.creators:
            self._creators.add(settings, now)

    def _task(self, publish_id: str) -> PublishTask:
        task = self._publisher.task(publish_id)
        if task is None:
            raise NotFoundError(f"no publish task {publish_id!r}")
        return task

    def _upload_task(self, upload_id: str) -> PublishTask:
        task = self._publisher.task_by_upload_id(upload_id)
        if task is None:
            raise UploadError(404, "no valid upload task for this URL")
        return task

    def _record(self, task: PublishTask, now: float) -> PublicationRecord:
        return publication_record(task, self._publisher.view(task, now))

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

    # -- PULL_FROM_URL ---------------------------------------------------------------

    def _start_pull(self, task: PublishTask) -> None:
        """Download in this process only (the one that took the init); tasks are looked up
        by id each time, since a reload replaces the model's objects."""
        if task.pull_urls:
            self._downloads.start(
                task.publish_id,
                task.pull_urls,
                on_bytes=partial(self._pulled, task.publish_id),
                on_finished=partial(self._pull_finished, task.publish_id),
            )

    def _pulled(self, publish_id: str, count: int) -> bool:
        """Progress, in this process's model (committed with the next operation)."""
        with self._lock:
            task = self._publisher.task(publish_id)
            if task is None or task.failed_at is not None:
                return False
            task.downloaded_bytes += count
            return True

    async def _pull_finished(self, publish_id: str, succeeded: bool, total: int) -> None:
        """The download's outcome, committed to the shared state (retried while it is down)."""
        for attempt in range(PULL_RESULT_RETRIES):
            try:
                async with self.synced():
                    self._apply_pull_result(publish_id, succeeded, total)
                return
            except Exception as exc:
                log.warning(
                    "sandbox.pull.result_not_saved publish_id=%s attempt=%d error=%s",
                    publish_id,
                    attempt + 1,
                    type(exc).__name__,
                )
                await asyncio.sleep(0.5 * 2**attempt)

    def _apply_pull_result(self, publish_id: str, succeeded: bool, total: int) -> None:
        with self._lock:
            task = self._publisher.task(publish_id)
            if task is None:
                return
            now = self.clock.now()
            if not succeeded:
                photo = task.media_type is MediaType.PHOTO
                reason = FailReason.PHOTO_PULL_FAILED if photo else FailReason.VIDEO_PULL_FAILED
                self._publisher.fail(task, reason, now)
            elif task.failed_at is None:
                task.downloaded_bytes = max(task.downloaded_bytes, total)
                task.transfer_done_at = now


def _require_scope(caller: Caller, any_of: tuple[Scope, ...]) -> None:
    if not any(scope in caller.scopes for scope in any_of):
        needed = " or ".join(any_of)
        raise ApiError("scope_not_authorized", f"The user did not authorize the scope {needed}.")

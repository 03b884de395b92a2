"""`Emulator`: the whole emulated TikTok state, plus the hooks tests use to inspect and script it.

All state lives in memory behind one re-entrant lock that is never held across an
`await`, so it is safe both for concurrent requests on the event loop and for tests that
call these methods from another thread while a server runs.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
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
from .uploads import ChunkTicket, UploadSigner, abort_chunk, begin_chunk, commit_chunk
from .webhooks import WebhookEvent, WebhookSender, unsent_events


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self._lock = threading.RLock()
        self._clients = {client.client_key: client for client in self.config.clients}
        self._creators = CreatorDirectory()
        self._oauth = OAuthServer(self.config, self._find_client)
        self._publisher = Publisher(self.config, UploadSigner(self.config.signing_secret))
        self._limiter = SlidingWindowLimiter(self.config.rate_limits)
        self._faults = FaultBook()
        self._requests: deque[RequestRecord] = deque(maxlen=self.config.max_recorded_requests)
        self._downloads = Downloads(self.config.pull_transport, self.config.pull_timeout_seconds)
        self._loose_events: list[WebhookEvent] = []
        self._webhooks = (
            WebhookSender(
                self.config.webhook_url, self._new_webhook_events, self.config.webhook_transport
            )
            if self.config.webhook_url
            else None
        )
        self._seed_creators()

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
            if client is not None and revoked:
                self._loose_events.append(
                    WebhookEvent(
                        client_key=client_key,
                        client_secret=client.client_secret,
                        event="authorization.removed",
                        user_openid=ids.open_id(client_key, username),
                        content={"reason": 1},
                    )
                )
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
            self._loose_events.clear()
            self._creators.clear()
            self.clock.reset()
            self._seed_creators()

    async def aclose(self) -> None:
        """Stop background downloads and webhook deliveries."""
        await self._downloads.aclose()
        if self._webhooks is not None:
            await self._webhooks.aclose()

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
            return begin_chunk(task.upload, headers, self.clock.now())

    def commit_chunk(self, ticket: ChunkTicket, received_bytes: int) -> tuple[bool, int, int]:
        """Returns (complete, bytes received so far, total) for the 206/201 response."""
        with self._lock:
            task = self._upload_task(ticket.upload_id)
            upload = task.upload
            if upload is None:
                raise UploadError(404, "no valid upload task for this URL")
            complete = commit_chunk(upload, ticket, received_bytes)
            if complete:
                task.transfer_done_at = self.clock.now()
                task.media_sha256 = upload.hasher.hexdigest()
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
        """Start the webhook loop from inside the serving event loop (mounts get no lifespan)."""
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

    def _new_webhook_events(self) -> list[WebhookEvent]:
        with self._lock:
            events, self._loose_events = self._loose_events, []
            now = self.clock.now()
            views = [(task, self._publisher.view(task, now)) for task in self._publisher.tasks()]
            return events + unsent_events(views, self._clients)

    # -- PULL_FROM_URL ---------------------------------------------------------------

    def _start_pull(self, task: PublishTask) -> None:
        if task.pull_urls:
            self._downloads.start(
                task.publish_id,
                task.pull_urls,
                on_bytes=partial(self._pulled, task),
                on_finished=partial(self._pull_finished, task),
            )

    def _pulled(self, task: PublishTask, count: int) -> bool:
        with self._lock:
            if task.failed_at is not None:
                return False
            task.downloaded_bytes += count
            return True

    def _pull_finished(self, task: PublishTask, succeeded: bool) -> None:
        with self._lock:
            now = self.clock.now()
            if not succeeded:
                photo = task.media_type is MediaType.PHOTO
                reason = FailReason.PHOTO_PULL_FAILED if photo else FailReason.VIDEO_PULL_FAILED
                self._publisher.fail(task, reason, now)
            elif task.failed_at is None:
                task.transfer_done_at = now


def _require_scope(caller: Caller, any_of: tuple[Scope, ...]) -> None:
    if not any(scope in caller.scopes for scope in any_of):
        needed = " or ".join(any_of)
        raise ApiError("scope_not_authorized", f"The user did not authorize the scope {needed}.")

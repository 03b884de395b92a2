"""`HarnessHooks`: what tests and the sandbox pages use to inspect and script the emulator.

A mixin of `Emulator`: these hooks read and change the same state the routes do, under
the same lock, so they live on the one object; this module keeps them apart from the
operations TikTok's API exposes.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from tiktimer.kit.offset_clock import Clock

from . import ids
from .accounts import CreatorDirectory
from .config import ClientConfig, CreatorSettings, EmulatorConfig
from .enums import IN_FLIGHT_STATUSES, FailReason, PrivacyLevel, PublishStatus
from .errors import NotFoundError
from .faults import Fault, FaultBook
from .models import PublishTask
from .oauth import OAuthServer
from .publishing import Publisher
from .pulls import Downloads
from .rate_limits import SlidingWindowLimiter
from .records import PublicationRecord, RequestRecord, publication_record
from .upload_host import UploadHost
from .webhooks import Outbox, WebhookEvent, WebhookSender


class HarnessHooks:
    """Test hooks over the state `Emulator` builds (the attributes declared here)."""

    config: EmulatorConfig
    clock: Clock
    _lock: threading.RLock
    _clients: dict[str, ClientConfig]
    _creators: CreatorDirectory
    _oauth: OAuthServer
    _publisher: Publisher
    _limiter: SlidingWindowLimiter
    _faults: FaultBook
    _requests: deque[RequestRecord]
    _downloads: Downloads
    _uploads: UploadHost
    _outbox: Outbox
    _webhooks: WebhookSender | None

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
            self._uploads.clear()
            self._creators.clear()
            self.clock.reset()
            self._seed_creators()

    def webhook_deliveries(self) -> list[WebhookEvent]:
        """Webhook events the receiver acknowledged with HTTP 200, in delivery order."""
        return list(self._webhooks.delivered) if self._webhooks is not None else []

    # -- internals -------------------------------------------------------------------

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

    def _record(self, task: PublishTask, now: float) -> PublicationRecord:
        return publication_record(task, self._publisher.view(task, now))

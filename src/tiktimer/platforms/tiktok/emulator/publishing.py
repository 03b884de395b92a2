"""Content Posting: creator_info, the three inits, status and cancel, with TikTok's refusals.

Parameter problems are checked first (400), then the creator's and client's standing
(403), in the order the reference lists them (§4.1–4.6, §7, §8.1).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from . import ids
from .accounts import DAY_SECONDS, privacy_options
from .chunks import ChunkPlan
from .config import ClientConfig, EmulatorConfig
from .enums import (
    FailReason,
    MediaType,
    PostMode,
    PrivacyLevel,
    PublishStatus,
    Source,
)
from .errors import ApiError
from .lifecycle import StatusView, status_of
from .models import Creator, PublishRecords, PublishTask, Upload
from .oauth import Caller
from .post_params import (
    check_length,
    check_photo_params,
    check_photo_ux,
    check_video_ux,
    video_source,
)
from .schemas import ContentInit, DirectVideoInit, InboxVideoInit, VideoPostInfo
from .text import VIDEO_TITLE_MAX
from .uploads import UploadSigner
from .url_rules import is_verified_url


class Publisher:
    def __init__(
        self,
        config: EmulatorConfig,
        signer: UploadSigner,
        *,
        abandon_pulls_after: float | None = None,
    ) -> None:
        self._config = config
        self._signer = signer
        # With a shared state, the process downloading a PULL_FROM_URL may die: a download
        # unfinished this long after its init has failed, whoever asks.
        self._abandon_pulls_after = abandon_pulls_after
        self._records = PublishRecords()
        self._tasks = self._records.tasks
        self._uploads = self._records.uploads
        self._scripted_failures: deque[str] = deque()

    def records(self) -> PublishRecords:
        return self._records

    def prune(self, horizon: float) -> None:
        """Forget tasks created before `horizon` (a shared state keeps them two days)."""
        old = [pid for pid, task in self._tasks.items() if task.created_at < horizon]
        for publish_id in old:
            task = self._tasks.pop(publish_id)
            if task.upload is not None:
                self._uploads.pop(task.upload.upload_id, None)

    def restore(self, records: PublishRecords) -> None:
        """Adopt persisted tasks; scripted failures are this process's test hooks and stay."""
        self._records = records
        self._tasks = records.tasks
        self._uploads = records.uploads

    # -- creator_info ----------------------------------------------------------------

    def creator_info(self, caller: Caller, creator: Creator, now: float) -> dict[str, Any]:
        """Cap conditions come back with HTTP 200 and a non-ok code, on purpose (§4.1)."""
        creator.creator_info_at[caller.client.client_key] = now
        if refusal := self._standing_refusal(caller, creator, now):
            raise ApiError(refusal.code, refusal.message, status=200)
        settings = creator.settings
        return {
            "creator_avatar_url": _avatar_url(settings.username),
            "creator_username": settings.username,
            "creator_nickname": settings.display_name or settings.username,
            "privacy_level_options": list(privacy_options(creator, caller.client, self._config)),
            "comment_disabled": settings.comment_disabled,
            "duet_disabled": settings.duet_disabled or settings.is_private,
            "stitch_disabled": settings.stitch_disabled or settings.is_private,
            "max_video_post_duration_sec": settings.max_video_post_duration_sec,
        }

    # -- inits -----------------------------------------------------------------------

    def init_direct_video(
        self, caller: Caller, creator: Creator, body: DirectVideoInit, now: float, upload_base: str
    ) -> tuple[PublishTask, dict[str, Any]]:
        post = body.post_info or VideoPostInfo()
        plan, video_url = video_source(body.source_info, self._config)
        check_length("post_info.title", post.title, VIDEO_TITLE_MAX)
        privacy = self._direct_post_checks(caller, creator, post.privacy_level, now)
        if self._config.strict_ux_rules:
            check_video_ux(post, privacy, creator)
        self._check_ownership(caller.client, (video_url,) if video_url else ())
        task = self._new_task(caller, creator, MediaType.VIDEO, PostMode.DIRECT_POST, plan, now)
        task.title = post.title
        task.privacy_level = privacy if caller.client.audited else PrivacyLevel.SELF_ONLY
        task.requested_privacy_level = privacy
        task.post_info = post.model_dump(exclude_unset=True)
        task.pull_urls = (video_url,) if video_url else ()
        return task, self._init_data(task, upload_base)

    def init_inbox_video(
        self, caller: Caller, creator: Creator, body: InboxVideoInit, now: float, upload_base: str
    ) -> tuple[PublishTask, dict[str, Any]]:
        plan, video_url = video_source(body.source_info, self._config)
        self._inbox_checks(creator, now)
        self._check_ownership(caller.client, (video_url,) if video_url else ())
        task = self._new_task(caller, creator, MediaType.VIDEO, PostMode.MEDIA_UPLOAD, plan, now)
        task.post_info_ignored = body.post_info is not None
        task.pull_urls = (video_url,) if video_url else ()
        return task, self._init_data(task, upload_base)

    def init_photo(
        self, caller: Caller, creator: Creator, body: ContentInit, now: float
    ) -> tuple[PublishTask, dict[str, Any]]:
        check_photo_params(body)
        mode = PostMode(body.post_mode)
        post, source = body.post_info, body.source_info
        if mode is PostMode.DIRECT_POST:
            privacy = self._direct_post_checks(caller, creator, post.privacy_level, now)
            if self._config.strict_ux_rules:
                check_photo_ux(post.brand_content_toggle, post.disable_comment, privacy, creator)
        else:
            self._inbox_checks(creator, now)
            privacy = None
        self._check_ownership(caller.client, tuple(source.photo_images))
        task = self._new_task(caller, creator, MediaType.PHOTO, mode, None, now)
        task.title = post.title
        task.description = post.description
        task.requested_privacy_level = privacy
        if privacy is not None:
            task.privacy_level = privacy if caller.client.audited else PrivacyLevel.SELF_ONLY
        task.post_info = post.model_dump(exclude_unset=True)
        task.pull_urls = tuple(source.photo_images)
        return task, {"publish_id": task.publish_id}

    # -- status, cancel --------------------------------------------------------------

    def status(self, caller: Caller, publish_id: str, now: float) -> dict[str, Any]:
        task = self._owned_task(caller, publish_id)
        view = self.view(task, now)
        if view.status is PublishStatus.FAILED:
            # Real FAILED bodies may carry only these two fields (§4.5).
            return {"status": view.status.value, "fail_reason": view.fail_reason}
        progress_key = "uploaded_bytes" if task.source is Source.FILE_UPLOAD else "downloaded_bytes"
        return {
            "status": view.status.value,
            "publicaly_available_post_id": list(view.post_ids),
            progress_key: task.transferred_bytes,
        }

    def cancel(self, caller: Caller, publish_id: str, now: float) -> PublishTask:
        task = self._owned_task(caller, publish_id)
        if (
            task.source is not Source.PULL_FROM_URL
            or task.transfer_done_at is not None
            or task.failed_at is not None
        ):
            raise ApiError("publish_not_cancellable", "This publish can no longer be cancelled.")
        self.fail(task, FailReason.PUBLISH_CANCELLED, now)
        return task

    def view(self, task: PublishTask, now: float) -> StatusView:
        abandon = self._abandon_pulls_after
        if (
            abandon is not None
            and task.source is Source.PULL_FROM_URL
            and task.transfer_done_at is None
            and task.failed_at is None
            and now > task.created_at + abandon
        ):
            photo = task.media_type is MediaType.PHOTO
            reason = FailReason.PHOTO_PULL_FAILED if photo else FailReason.VIDEO_PULL_FAILED
            return StatusView(PublishStatus.FAILED, reason)
        return status_of(
            task,
            now,
            processing_seconds=self._config.processing_seconds,
            moderation_seconds=self._config.moderation_seconds,
        )

    # -- bookkeeping -----------------------------------------------------------------

    def task(self, publish_id: str) -> PublishTask | None:
        return self._tasks.get(publish_id)

    def tasks(self) -> list[PublishTask]:
        return list(self._tasks.values())

    def task_by_upload_id(self, upload_id: str) -> PublishTask | None:
        publish_id = self._uploads.get(upload_id)
        return self._tasks.get(publish_id) if publish_id else None

    def task_for_upload(self, upload_id: str, token: str) -> PublishTask | None:
        """The task behind a genuine upload URL; None means 404 on the upload host."""
        task = self.task_by_upload_id(upload_id)
        if task is None or task.upload is None or task.failed_at is not None:
            return None
        return task if self._signer.is_genuine(upload_id, token) else None

    def script_failures(self, fail_reason: str, count: int) -> None:
        self._scripted_failures.extend([fail_reason] * count)

    def clear_scripted_failures(self) -> None:
        self._scripted_failures.clear()

    @staticmethod
    def fail(task: PublishTask, reason: str, now: float) -> None:
        if task.failed_at is None:
            task.failed_at = now
            task.fail_reason = reason

    def clear(self) -> None:
        self._tasks.clear()
        self._uploads.clear()
        self._scripted_failures.clear()

    # -- checks ----------------------------------------------------------------------

    def _standing_refusal(self, caller: Caller, creator: Creator, now: float) -> ApiError | None:
        if creator.settings.banned:
            return ApiError(
                "spam_risk_user_banned_from_posting", "This creator is banned from posting."
            )
        if self.direct_posts_today(creator, now) >= self._config.daily_post_cap:
            return ApiError("spam_risk_too_many_posts", "This creator reached the daily post cap.")
        cap = self._active_user_cap(caller.client)
        active = self._active_users(caller.client.client_key, now)
        if cap is not None and creator.username not in active and len(active) >= cap:
            return ApiError(
                "reached_active_user_cap", "This client reached its daily active-user cap."
            )
        return None

    def _direct_post_checks(
        self, caller: Caller, creator: Creator, requested: str | None, now: float
    ) -> PrivacyLevel:
        if refusal := self._standing_refusal(caller, creator, now):
            raise refusal
        if not caller.client.audited and not creator.settings.is_private:
            raise ApiError(
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts.",
            )
        options = privacy_options(creator, caller.client, self._config)
        if requested not in options:
            raise ApiError(
                "privacy_level_option_mismatch",
                f"privacy_level must be one of {', '.join(options)}.",
            )
        return PrivacyLevel(requested)

    def _inbox_checks(self, creator: Creator, now: float) -> None:
        if creator.settings.banned:
            raise ApiError(
                "spam_risk_user_banned_from_posting", "This creator is banned from posting."
            )
        if self._pending_shares(creator.username, now) >= self._config.pending_share_cap:
            raise ApiError(
                "spam_risk_too_many_pending_share", "Too many pending inbox shares in 24 hours."
            )

    def _check_ownership(self, client: ClientConfig, urls: tuple[str, ...]) -> None:
        for url in urls:
            if not is_verified_url(
                url,
                prefixes=client.verified_url_prefixes,
                domains=client.verified_domains,
                allow_insecure=client.allow_insecure_pull_urls,
            ):
                raise ApiError(
                    "url_ownership_unverified",
                    f"The URL {url} is not on a verified domain or URL prefix.",
                )

    def _owned_task(self, caller: Caller, publish_id: str) -> PublishTask:
        task = self._tasks.get(publish_id)
        if task is None:
            raise ApiError("invalid_publish_id", "The publish_id does not exist.")
        if task.client_key != caller.client.client_key or task.username != caller.username:
            raise ApiError(
                "token_not_authorized_for_specified_publish_id",
                "This token is not authorized for the publish_id.",
            )
        return task

    # -- counting --------------------------------------------------------------------

    def _recent(self, now: float) -> list[PublishTask]:
        return [task for task in self._tasks.values() if task.created_at > now - DAY_SECONDS]

    def direct_posts_today(self, creator: Creator, now: float) -> int:
        """Direct posts in the rolling 24 h, shared across every client the creator uses."""
        seeded = sum(1 for at in creator.seeded_post_times if at > now - DAY_SECONDS)
        return seeded + sum(
            1
            for task in self._recent(now)
            if task.username == creator.username and task.mode is PostMode.DIRECT_POST
        )

    def _active_users(self, client_key: str, now: float) -> set[str]:
        return {
            task.username
            for task in self._recent(now)
            if task.client_key == client_key and task.mode is PostMode.DIRECT_POST
        }

    def _active_user_cap(self, client: ClientConfig) -> int | None:
        if client.active_user_cap is not None or client.audited:
            return client.active_user_cap
        return self._config.unaudited_active_user_cap

    def _pending_shares(self, username: str, now: float) -> int:
        return sum(
            1
            for task in self._recent(now)
            if task.username == username
            and task.mode is PostMode.MEDIA_UPLOAD
            and task.user_posted_at is None
            and self.view(task, now).status is not PublishStatus.FAILED
        )

    # -- creation --------------------------------------------------------------------

    def _new_task(
        self,
        caller: Caller,
        creator: Creator,
        media: MediaType,
        mode: PostMode,
        plan: ChunkPlan | None,
        now: float,
    ) -> PublishTask:
        source = Source.FILE_UPLOAD if plan is not None else Source.PULL_FROM_URL
        last_info = creator.creator_info_at.get(caller.client.client_key)
        task = PublishTask(
            publish_id=ids.publish_id(media, mode, source),
            client_key=caller.client.client_key,
            username=creator.username,
            open_id=caller.open_id,
            media_type=media,
            mode=mode,
            source=source,
            created_at=now,
            creator_info_age=None if last_info is None else now - last_info,
            post_id=ids.post_id(),
            scripted_fail_reason=(
                self._scripted_failures.popleft() if self._scripted_failures else None
            ),
        )
        if plan is not None:
            upload_id = ids.upload_id()
            expires_at = now + self._config.upload_url_lifetime_seconds
            task.upload = Upload(upload_id=upload_id, plan=plan, expires_at=expires_at)
            self._uploads[upload_id] = task.publish_id
        self._tasks[task.publish_id] = task
        return task

    def _init_data(self, task: PublishTask, upload_base: str) -> dict[str, Any]:
        if task.upload is None:
            return {"publish_id": task.publish_id}
        upload = task.upload
        token = self._signer.token(upload.upload_id, upload.expires_at)
        url = f"{upload_base}/upload/video/?upload_id={upload.upload_id}&upload_token={token}"
        return {"publish_id": task.publish_id, "upload_url": url}


def _avatar_url(username: str) -> str:
    return f"https://p16-sign.tiktokcdn.com/emulator/{username}.jpeg"

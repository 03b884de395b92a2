"""The steps both paths of a run end in, each one guarded write and its state event.

A step that finds the claim gone logs `scheduler.claim_lost` and changes nothing: another
worker or the user has the post.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from tiktimer.accounts.tokens import AccountUnusable
from tiktimer.kit.time import utc_now
from tiktimer.platforms.contract import ErrorKind, Platform, PublishError, PublishJob
from tiktimer.posts.machine.context import MachineContext
from tiktimer.posts.machine.events import state_changed
from tiktimer.posts.machine.polling import not_confirmed_message
from tiktimer.posts.pacing.window import Slot
from tiktimer.posts.queue.records import AttemptOutcome, Claim, Stage

log = logging.getLogger("tiktimer.scheduler")

_ErrorHandler = Callable[[PublishError], Awaitable[None]]

PUBLISHING = "publishing"


class RunSteps:
    """One post's run: its state, and the steps that end it (see `run.PostRun`)."""

    def __init__(self, context: MachineContext, claim: Claim, platform: Platform) -> None:
        self.context = context
        self.claim = claim
        self.post_id = claim.post_id
        self.attempt_id: int | None = None
        self.attempt_number = claim.attempt_count
        self.publish_id = claim.publish_id
        self.stage = claim.stage
        self.platform = platform
        # The slots taken with the attempt, first bucket (the init) first.
        self.start_slots: list[Slot] = []
        # The first status check's slot, when it came with the attempt (`may_await_check`).
        self.check_slot: Slot | None = None

    async def _retry_or_fail(self, error: PublishError) -> None:
        context = self.context
        if context.retry.exhausted(self.attempt_number):
            await self._fail(
                error.code or "attempts_exhausted",
                f"Gave up after {self.attempt_number} attempts. {error.message}",
                error.log_id,
            )
            return
        if error.kind is ErrorKind.reinitialize:
            delay = error.retry_after or 0.0
            outcome = AttemptOutcome.reinitialize
        else:
            delay = context.retry.delay(self.attempt_number, error.retry_after)
            outcome = AttemptOutcome.retry
        now = utc_now()
        at = now + timedelta(seconds=delay)
        if await context.queue.steps.retry_later(
            self.post_id,
            context.worker_id,
            self.attempt_id,
            now,
            at=at,
            outcome=outcome,
            code=error.code,
            message=error.message,
            log_id=error.log_id,
        ):
            state_changed(
                self.post_id,
                self._label(),
                "scheduled",
                str(outcome),
                code=error.code,
                retry_in=f"{delay:.1f}s",
                attempt=self.attempt_number,
            )
        else:
            self._lost("retry")

    async def _check_later(
        self,
        waited: float,
        *,
        delay: float | None = None,
        platform_status: str | None = None,
        uploaded: bool = False,
    ) -> None:
        """Release the claim until the next check (`uploaded`: also record `confirming`)."""
        gap = self.context.poll.next_delay(waited)
        if delay is not None:
            gap = max(gap, delay)
        now = utc_now()
        if not await self.context.queue.steps.await_verdict(
            self.post_id,
            self.context.worker_id,
            now + timedelta(seconds=gap),
            now,
            uploaded=uploaded,
            platform_status=platform_status,
        ):
            self._lost("check_later")

    async def _give_up(self) -> None:
        timeout = timedelta(seconds=self.context.poll.timeout_seconds)
        message = not_confirmed_message(timeout, self.platform.title)
        if await self.context.queue.steps.give_up_waiting(
            self.post_id, self.context.worker_id, self.attempt_id, message, utc_now()
        ):
            state_changed(self.post_id, self._label(), "unconfirmed", "no_verdict_in_time")
        else:
            self._lost("give_up")

    # -- accounts ------------------------------------------------------------------------

    async def _refresh_then(
        self, on_transient: _ErrorHandler, *, check: bool = False, uploaded: bool = False
    ) -> bool:
        """Refresh the account's token (one refresher per account across all workers).

        True when refreshed; otherwise the post has been dealt with: failed when the
        account needs its owner, `on_transient` for a refresh that failed for now.
        """
        account_id = self.claim.account_id
        title = self.platform.title
        if self.context.accounts is None or account_id is None:
            await self._reauthorize(
                PublishError(ErrorKind.reauthorize, f"The {title} access token was refused.")
            )
            return False
        try:
            await self.platform.refresh(account_id)
        except AccountUnusable as exc:
            await self._fail(
                "account_unusable", f"The {title} account must be reconnected: {exc.reason}."
            )
            return False
        except Exception as exc:
            log.warning(
                "scheduler.refresh.failed post_id=%d account_id=%d error=%s",
                self.post_id,
                account_id,
                type(exc).__name__,
            )
            await on_transient(
                PublishError(
                    ErrorKind.retry,
                    f"Refreshing the {title} access token failed; trying again later.",
                    code="token_refresh_failed",
                )
            )
            return False
        log.info("scheduler.refreshed post_id=%d account_id=%d", self.post_id, account_id)
        if check:
            await self._check_later(0.0, delay=0.0, uploaded=uploaded)
        return True

    async def _reauthorize(self, error: PublishError) -> None:
        account_id = self.claim.account_id
        if self.context.accounts is not None and account_id is not None:
            await self.context.accounts.mark_reauth_required(account_id, error.message)
        await self._fail(error.code or "reauthorize", error.message, error.log_id)

    # -- helpers -------------------------------------------------------------------------

    async def _fail(self, code: str, message: str, log_id: str | None = None) -> None:
        if await self.context.queue.steps.fail(
            self.post_id,
            self.context.worker_id,
            self.attempt_id,
            utc_now(),
            code=code,
            message=message,
            log_id=log_id,
        ):
            state_changed(self.post_id, self._label(), "failed", code, log_id=log_id)
        else:
            self._lost("fail")

    def _job(self) -> PublishJob:
        return PublishJob(
            post_id=self.post_id,
            attempt_id=self.attempt_id or 0,
            user_id=self.claim.user_id,
            account_id=self.claim.account_id,
            platform=self.claim.platform,
        )

    def _moved(self, stage: Stage, reason: str, **extra: object) -> None:
        state_changed(self.post_id, self._label(), f"{PUBLISHING}:{stage}", reason, **extra)
        self.stage = stage

    def _label(self) -> str:
        return f"{PUBLISHING}:{self.stage}"

    def _lost(self, step: str) -> None:
        log.info(
            "scheduler.claim_lost post_id=%d step=%s worker=%s: another worker or the user has it",
            self.post_id,
            step,
            self.context.worker_id,
        )

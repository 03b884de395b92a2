"""The state machine: a new attempt (`_publish`) or a check of an uploaded one (`_confirm`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from tiktimer.db.availability import database_unavailable
from tiktimer.kit.instruments import RATE_LIMIT_WAITS
from tiktimer.kit.time import utc_now
from tiktimer.platforms.contract import ErrorKind, OutcomeState, PublishError, PublishOutcome
from tiktimer.platforms.registry import UnknownPlatform
from tiktimer.posts.machine.context import LeaseLost, MachineContext
from tiktimer.posts.machine.events import state_changed
from tiktimer.posts.machine.steps import PUBLISHING, RunSteps
from tiktimer.posts.pacing.window import Slot
from tiktimer.posts.queue.records import Claim, Paced, Stage

log = logging.getLogger("tiktimer.scheduler")


async def run_post(context: MachineContext, claim: Claim) -> None:
    try:
        platform = context.platforms.get(claim.platform)
    except UnknownPlatform as exc:
        await _refuse(context, claim, str(exc))
        return
    await PostRun(context, claim, platform).run()


async def _refuse(context: MachineContext, claim: Claim, reason: str) -> None:
    """Not a platform this process has (e.g. `fake` outside sandbox mode): the post fails
    once, with the reason, instead of being reclaimed forever."""
    if await context.queue.steps.fail(
        claim.post_id,
        context.worker_id,
        claim.running_attempt_id,
        utc_now(),
        code="platform_unavailable",
        message=reason,
    ):
        state_changed(claim.post_id, PUBLISHING, "failed", "platform_unavailable")


class PostRun(RunSteps):
    """One claimed post, walked through the steps of the diagram in `scheduler.machine`."""

    async def run(self) -> None:
        if self.claim.publish_id is None:
            await self._publish()
        else:
            await self._confirm()

    # -- a new attempt -------------------------------------------------------------------

    async def _publish(self) -> None:
        claim, context = self.claim, self.context
        block = claim.blocked(self.platform.title)
        if block is not None:
            await self._fail("account_unusable", block)
            return
        if context.retry.exhausted(claim.attempt_count):
            last = f" The last error was: {claim.last_error}" if claim.last_error else ""
            await self._fail(
                "attempts_exhausted", f"Gave up after {claim.attempt_count} attempts.{last}"
            )
            return
        assert claim.account_id is not None  # blocked() said so
        # Every call the platform's start makes is paced with the attempt, in one grant, and
        # so is the first status check when the run may make it itself.
        buckets = self.platform.start_buckets(claim.post_mode)
        status = self.platform.status_bucket
        check = status if context.may_await_check is not None and status not in buckets else None
        # The check's slot is stamped for when the check is planned: no re-stamp then.
        ahead = {check: context.poll.first_seconds} if check else {}
        granted = (*buckets, check) if check else buckets
        pace = context.pacer.transactional(claim.account_id, *granted, ahead=ahead)
        if pace is None and not await self._pace_init():
            return
        previous = claim.previous_worker or "a worker"
        started = await context.queue.steps.start_attempt(
            claim,
            context.worker_id,
            utc_now(),
            interrupted=f"{previous} stopped before {self.platform.title} returned a publish "
            "id; the attempt was started over",
            pace=pace,
        )
        if started is None:
            self._lost("start")
            return
        if isinstance(started, Paced):
            retry_in = f"{started.wait:.1f}s"
            state_changed(self.post_id, self._label(), "scheduled", "rate_paced", retry_in=retry_in)
            return
        self._keep_slots(claim.account_id, buckets, check, started.slot_refs or {})
        self.attempt_id, self.attempt_number = started.attempt_id, started.number
        self._moved(Stage.initializing, "attempt_started", attempt=started.number)
        await self._start()

    def _keep_slots(
        self, account_id: int, buckets: tuple[str, ...], check: str | None, refs: Mapping[str, str]
    ) -> None:
        """The slots granted with the attempt: the start's, and the first check's (stamped
        for when that check is planned)."""
        pacer = self.context.pacer
        self.start_slots += [
            pacer.slot(account_id, bucket, refs[bucket]) for bucket in buckets if bucket in refs
        ]
        if check and check in refs:
            ahead = self.context.poll.first_seconds
            self.check_slot = pacer.slot(account_id, check, refs[check], ahead=ahead)

    async def _start(self) -> None:
        refreshed = False
        while True:
            try:
                # The slots taken with the attempt; after a refresh the publisher paces anew.
                slots = () if refreshed else self.start_slots
                with self.context.pacer.prepaid(*slots):
                    await self.platform.start(self._job(), self._store_publish_id)
            except LeaseLost:
                raise
            except PublishError as error:
                if error.kind is ErrorKind.refresh and not refreshed and self.publish_id is None:
                    refreshed = True
                    if await self._refresh_then(self._retry_or_fail):
                        continue
                    return
                await self._start_failed(error)
                return
            except Exception as exc:  # a bug or a broken dependency: the post is never lost
                _log_crash("scheduler.publish.crashed", self.post_id, exc)
                applied = self.publish_id is not None
                await self._start_failed(_unexpected(exc, maybe_applied=applied))
                return
            break
        await self._uploaded()

    async def _store_publish_id(self, publish_id: str, log_id: str | None) -> None:
        """The publisher's `on_publish_id`: committed before the upload starts."""
        assert self.attempt_id is not None
        stored = await self.context.queue.steps.store_publish_id(
            self.post_id, self.attempt_id, self.context.worker_id, publish_id, log_id, utc_now()
        )
        if not stored:
            self._lost("publish_id")
            raise LeaseLost(f"post {self.post_id}: claim lost before the upload")
        self.publish_id = publish_id
        self._moved(Stage.uploading, "publish_id", publish_id=publish_id, log_id=log_id)
        if self.context.on_initiated is not None:
            self.context.on_initiated(self.post_id)

    async def _uploaded(self) -> None:
        context = self.context
        first = context.poll.first_seconds
        if context.may_await_check is not None and context.may_await_check(self.post_id):
            # The claim stays with this run through the first check: no release and no
            # new claim, and its status slot came with the attempt. The stage stays
            # `uploading` in the table until then; should this worker die meanwhile, the
            # post is recovered by a check all the same (it has its publish id).
            self._moved(Stage.confirming, "uploaded")
            await asyncio.sleep(first)
            slot, self.check_slot = self.check_slot, None
            await self._check(first, slot, stage_recorded=False)
            return
        now = utc_now()
        check_at = now + timedelta(seconds=first)
        if await context.queue.steps.await_verdict(
            self.post_id, context.worker_id, check_at, now, uploaded=True
        ):
            self._moved(Stage.confirming, "uploaded")
        else:
            self._lost("uploaded")

    async def _start_failed(self, error: PublishError) -> None:
        if self.publish_id is not None and error.maybe_applied:
            # The upload may have reached the platform even though the call failed: find
            # out by checking its status instead of publishing a second time.
            await self._uploaded()
            return
        match error.kind:
            case ErrorKind.retry | ErrorKind.reinitialize:
                await self._retry_or_fail(error)
            case ErrorKind.refresh | ErrorKind.reauthorize:
                await self._reauthorize(error)
            case ErrorKind.fail:
                await self._fail(error.code or "rejected", error.message, error.log_id)

    # -- checking an uploaded publication -----------------------------------------------

    async def _confirm(self) -> None:
        claim = self.claim
        assert self.publish_id is not None
        if claim.previous_worker is not None:
            log.warning(
                "scheduler.recover post_id=%d publish_id=%s stage=%s lost_worker=%s: "
                "checking the platform, not publishing again",
                self.post_id,
                self.publish_id,
                claim.stage,
                claim.previous_worker,
            )
        self.attempt_id = claim.running_attempt_id
        now = utc_now()
        waited = (now - (claim.stage_at or now)).total_seconds()
        wait, slot = await self._status_slot()
        if wait > 0:
            await self._check_later(waited, delay=wait)
            return
        await self._check(waited, slot)

    async def _check(
        self, waited: float, slot: Slot | None, *, stage_recorded: bool = True
    ) -> None:
        """One status check with its slot, and what follows from the answer. Until
        `stage_recorded`, the table still says `uploading`: waiting on records `confirming`."""
        context = self.context
        assert self.publish_id is not None
        try:
            with context.pacer.prepaid(slot):
                outcome = await self.platform.check(self._job(), self.publish_id)
        except LeaseLost:
            raise
        except PublishError as error:
            await self._check_failed(error, waited, stage_recorded)
            return
        except Exception as exc:
            _log_crash("scheduler.check.crashed", self.post_id, exc)
            await self._check_later(waited, uploaded=not stage_recorded)
            return
        if outcome.state is OutcomeState.processing:
            if context.poll.expired(waited):
                await self._give_up()
            else:
                await self._check_later(
                    waited, platform_status=outcome.platform_status, uploaded=not stage_recorded
                )
            return
        await self._settle(outcome)

    async def _settle(self, outcome: PublishOutcome) -> None:
        """The platform's verdict, unless a webhook applied it first."""
        settled = await self.context.queue.steps.settle(self.post_id, outcome, utc_now())
        target = "failed" if outcome.state is OutcomeState.failed else "published"
        if settled:
            state_changed(
                self.post_id,
                self._label(),
                target,
                f"platform_{outcome.state}",
                platform_status=outcome.platform_status,
                fail_reason=outcome.fail_reason,
                log_id=outcome.log_id,
            )
        else:
            log.info("scheduler.settled_elsewhere post_id=%d (webhook first)", self.post_id)

    async def _status_slot(self) -> tuple[float, Slot | None]:
        """A slot of the platform's status bucket for one check, or how long to wait."""
        bucket, account_id = self.platform.status_bucket, self.claim.account_id
        if account_id is None or bucket is None:
            return 0.0, None
        return await self.context.pacer.reserve(account_id, bucket)

    async def _check_failed(
        self, error: PublishError, waited: float, stage_recorded: bool = True
    ) -> None:
        uploaded = not stage_recorded
        match error.kind:
            case ErrorKind.retry:
                if self.context.poll.expired(waited):
                    await self._give_up()
                else:
                    await self._check_later(waited, delay=error.retry_after, uploaded=uploaded)
            case ErrorKind.refresh:
                await self._refresh_then(
                    lambda _: self._check_later(waited, uploaded=uploaded),
                    check=True,
                    uploaded=uploaded,
                )
            case ErrorKind.reinitialize:
                # The platform dropped this publication (e.g. FAILED: internal): upload again.
                await self._retry_or_fail(error)
            case ErrorKind.reauthorize:
                await self._reauthorize(error)
            case ErrorKind.fail:
                await self._fail(error.code or "rejected", error.message, error.log_id)

    # -- pacing --------------------------------------------------------------------------

    async def _pace_init(self) -> bool:
        """Take the first start bucket's slot (the init) for the account, or hand the post
        back until one frees up."""
        account_id = self.claim.account_id
        assert account_id is not None
        buckets = self.platform.start_buckets(self.claim.post_mode)
        if not buckets:
            return True
        for _ in range(3):
            wait, slot = await self.context.pacer.reserve(account_id, buckets[0])
            if wait <= 0:
                self.start_slots = [slot] if slot is not None else []
                return True
            if wait > self.context.max_pacing_wait:
                break
            RATE_LIMIT_WAITS.observe(wait)
            await asyncio.sleep(wait)
        now = utc_now()
        if await self.context.queue.steps.defer(
            self.post_id, self.context.worker_id, now + timedelta(seconds=wait), now
        ):
            state_changed(
                self.post_id, self._label(), "scheduled", "rate_paced", retry_in=f"{wait:.1f}s"
            )
        else:
            self._lost("defer")
        return False


def _unexpected(exc: Exception, *, maybe_applied: bool) -> PublishError:
    return PublishError(
        ErrorKind.retry,
        f"Publishing stopped on an unexpected error ({type(exc).__name__}); trying again later.",
        code="internal_error",
        maybe_applied=maybe_applied,
    )


def _log_crash(event: str, post_id: int, exc: Exception) -> None:
    """A database outage is expected weather (one warning line); anything else is a bug."""
    if database_unavailable(exc):
        log.warning(
            "%s post_id=%d error=database unavailable (%s)", event, post_id, type(exc).__name__
        )
    else:
        log.exception("%s post_id=%d", event, post_id)

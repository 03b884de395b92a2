"""The claim loop: claim due posts in batches, run each as its own task, keep the leases.

Modelled on procrastinate's worker: a fixed number of slots (`concurrency`); the loop only
claims as many posts as there are free slots, and every claimed post starts at once. One
statement claims up to `batch_size` posts. A post's slot is free again once its publish id
is stored (the init is what must be on time): its upload goes on beside the next claims,
up to another `concurrency` uploads per worker, so a due post's init never waits for other
posts' uploads. Once uploaded, a post waits for its first status check in its own task,
claim kept, counted in neither (up to `AWAITING_PER_SLOT` × `concurrency` of them; beyond
that it is released until the check, as later checks are). Between rounds the loop sleeps
until the earliest of: a wake-up (LISTEN/NOTIFY or in-process), a freed slot, the next known
due time, the poll interval.

Leases are renewed for every post in flight every third of the lease. A post whose renewal
did not come back (the user took it back, or the lease ran out while the database was
unreachable) has its task cancelled: a worker never uploads past its lease, which is what
makes it safe for another worker to recover the post.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from datetime import timedelta

from tiktimer.kit.time import utc_now
from tiktimer.logging import post_id_var, worker_id_var
from tiktimer.posts.machine.context import LeaseLost, MachineContext
from tiktimer.posts.machine.events import state_changed
from tiktimer.posts.machine.run import run_post
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.records import Claim, Stage
from tiktimer.posts.queue.wakeup import Wakeup

log = logging.getLogger("tiktimer.scheduler")

PRUNE_EVERY_SECONDS = 60.0
FORGET_WORKERS_AFTER = timedelta(hours=1)
# Posts awaiting their first status check in their task, per slot of concurrency.
AWAITING_PER_SLOT = 5


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class DispatcherOptions:
    concurrency: int = 20
    batch_size: int = 25
    poll_seconds: float = 1.0
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    shutdown_grace_seconds: float = 20.0


@dataclass
class _Slot:
    task: asyncio.Task[None]
    since: float
    deadline: float


@dataclass
class Dispatcher:
    context: MachineContext
    options: DispatcherOptions = field(default_factory=DispatcherOptions)
    wakeup: Wakeup = field(default_factory=Wakeup)

    def __post_init__(self) -> None:
        self.queue: PostQueue = self.context.queue
        self.worker_id = self.context.worker_id
        self._slots: dict[int, _Slot] = {}
        self._initiated: set[int] = set()  # in flight, past the init (uploading)
        self._awaiting: set[int] = set()  # of those, uploaded: waiting for the first check
        self.context = replace(
            self.context, on_initiated=self._on_initiated, may_await_check=self._may_await_check
        )
        self._stopping = asyncio.Event()
        self._lease = timedelta(seconds=self.options.lease_seconds)
        self.started_at = utc_now()

    @property
    def in_flight(self) -> int:
        return len(self._slots)

    def stop(self) -> None:
        """Stop claiming; `run` then lets in-flight posts finish within the grace period."""
        if not self._stopping.is_set():
            log.info("scheduler.stopping worker=%s in_flight=%d", self.worker_id, self.in_flight)
        self._stopping.set()
        self.wakeup.set()

    async def run(self) -> None:
        # Every task started below (helpers, one per post) copies this context: their log
        # lines carry the worker id.
        worker_id_var.set(self.worker_id)
        log.info(
            "scheduler.started worker=%s concurrency=%d batch=%d",
            self.worker_id,
            self.options.concurrency,
            self.options.batch_size,
        )
        await self._beat()
        helpers = [
            asyncio.create_task(self._keep_leases(), name="tiktimer-leases"),
            asyncio.create_task(self._keep_heartbeat(), name="tiktimer-heartbeat"),
        ]
        try:
            while not self._stopping.is_set():
                await self._round()
        finally:
            await self._shutdown(helpers)

    def _free(self) -> int:
        concurrency = self.options.concurrency
        starting = len(self._slots) - len(self._initiated)
        uploading = len(self._initiated) - len(self._awaiting)
        return min(concurrency - starting, 2 * concurrency - starting - uploading)

    def _may_await_check(self, post_id: int) -> bool:
        if post_id not in self._initiated:
            return False
        if len(self._awaiting) >= AWAITING_PER_SLOT * self.options.concurrency:
            return False
        self._awaiting.add(post_id)
        self.wakeup.set()  # its upload slot is free
        return True

    def _on_initiated(self, post_id: int) -> None:
        if post_id in self._slots:
            self._initiated.add(post_id)
            self.wakeup.set()  # a slot is free for the next due post

    async def _round(self) -> None:
        free = self._free()
        timeout = self.options.poll_seconds
        if free > 0:
            wanted = min(free, self.options.batch_size)
            try:
                claims = await self.queue.claim(self.worker_id, wanted, utc_now(), self._lease)
            except Exception as exc:  # the database is away: keep trying, never exit
                log.warning("scheduler.claim.failed error=%s", _short(exc))
                await self.wakeup.wait(self.options.poll_seconds)
                return
            for claim in claims:
                self._spawn(claim)
            if len(claims) == wanted:
                return  # there may be more due right now
            timeout = min(timeout, await self._until_next_due())
        await self.wakeup.wait(timeout)

    async def _until_next_due(self) -> float:
        try:
            due = await self.queue.next_due(utc_now())
        except Exception:
            due = None
        if due is None:
            return self.options.poll_seconds
        return max(0.0, (due - utc_now()).total_seconds())

    def _spawn(self, claim: Claim) -> None:
        # The claim's lines name the post, and so does its task (it copies this context).
        token = post_id_var.set(claim.post_id)
        try:
            self._announce(claim)
            task = asyncio.create_task(self._run_one(claim), name=f"tiktimer-post-{claim.post_id}")
        finally:
            post_id_var.reset(token)
        now = asyncio.get_running_loop().time()
        self._slots[claim.post_id] = _Slot(task, since=now, deadline=now + self._fence())
        self._initiated.discard(claim.post_id)
        self._awaiting.discard(claim.post_id)
        task.add_done_callback(lambda _: self._finished(claim.post_id, task))

    def _announce(self, claim: Claim) -> None:
        if claim.fresh:
            state_changed(
                claim.post_id,
                "scheduled",
                f"publishing:{Stage.claimed}",
                "due",
                worker=self.worker_id,
            )
        elif claim.previous_worker is not None:
            stage = f"publishing:{claim.stage}"
            state_changed(
                claim.post_id,
                stage,
                stage,
                "lease_expired",
                worker=self.worker_id,
                previous_worker=claim.previous_worker,
            )
        else:  # a status check: no state change
            log.debug("scheduler.check post_id=%d worker=%s", claim.post_id, self.worker_id)

    async def _run_one(self, claim: Claim) -> None:
        try:
            await run_post(self.context, claim)
        except LeaseLost as exc:
            log.info("scheduler.lease_lost post_id=%d: %s", claim.post_id, exc)
        except Exception as exc:
            # Usually the database went away mid-step. Nothing is lost: the lease expires
            # and the post is recovered (checked, if it has a publish id).
            log.warning("scheduler.post.aborted post_id=%d error=%s", claim.post_id, _short(exc))

    def _finished(self, post_id: int, task: asyncio.Task[None]) -> None:
        slot = self._slots.get(post_id)
        if slot is not None and slot.task is task:
            del self._slots[post_id]
            self._initiated.discard(post_id)
            self._awaiting.discard(post_id)
        self.wakeup.set()  # a slot is free

    # -- leases --------------------------------------------------------------------------

    def _fence(self) -> float:
        """How long a task may run on one renewal: the lease minus a safety margin."""
        lease = self.options.lease_seconds
        return lease - min(5.0, lease * 0.2)

    async def _keep_leases(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.options.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            if not self._slots:
                continue
            began = loop.time()
            try:
                held: set[int] | None = await self.queue.renew(
                    self.worker_id, utc_now() + self._lease
                )
            except Exception as exc:
                log.warning("scheduler.renew.failed error=%s", _short(exc))
                held = None
            self._fence_slots(began, held)

    def _fence_slots(self, began: float, held: set[int] | None) -> None:
        now = asyncio.get_running_loop().time()
        for post_id, slot in list(self._slots.items()):
            if held is not None and post_id in held:
                slot.deadline = began + self._fence()
            elif held is not None and slot.since < began and not slot.task.done():
                log.warning("scheduler.lease.gone post_id=%d: stopping its task", post_id)
                slot.task.cancel()
            elif now > slot.deadline and not slot.task.done():
                log.warning("scheduler.lease.expired post_id=%d: stopping its task", post_id)
                slot.task.cancel()

    # -- heartbeat -----------------------------------------------------------------------

    async def _beat(self) -> None:
        try:
            await self.queue.heartbeat(
                self.worker_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                concurrency=self.options.concurrency,
                in_flight=len(self._slots),
                now=utc_now(),
                started_at=self.started_at,
            )
        except Exception as exc:
            log.warning("scheduler.heartbeat.failed error=%s", _short(exc))

    async def _keep_heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        pruned = loop.time()
        while True:
            await asyncio.sleep(self.options.heartbeat_seconds)
            await self._beat()
            if loop.time() - pruned >= PRUNE_EVERY_SECONDS:
                pruned = loop.time()
                try:
                    now = utc_now()
                    await self.queue.prune_workers(now - FORGET_WORKERS_AFTER)
                    await self.context.pacer.prune(now)
                except Exception as exc:
                    log.warning("scheduler.prune.failed error=%s", _short(exc))

    # -- shutdown ------------------------------------------------------------------------

    async def _shutdown(self, helpers: list[asyncio.Task[None]]) -> None:
        grace = self.options.shutdown_grace_seconds
        tasks = [slot.task for slot in self._slots.values()]
        if tasks:
            log.info("scheduler.draining in_flight=%d grace=%.0fs", len(tasks), grace)
            _, pending = await asyncio.wait(tasks, timeout=grace)
            held = [post_id for post_id, slot in self._slots.items() if slot.task in pending]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if held:
                try:
                    reset = await self.queue.release(self.worker_id, held, utc_now())
                    for post_id in reset:
                        state_changed(post_id, "publishing", "scheduled", "worker_shutdown")
                    log.info(
                        "scheduler.released posts=%d requeued=%d (the rest are checked)",
                        len(held),
                        len(reset),
                    )
                except Exception as exc:
                    log.warning("scheduler.release.failed error=%s: leases expire", _short(exc))
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        try:
            await self.queue.forget_worker(self.worker_id)
        except Exception as exc:
            log.warning("scheduler.forget.failed error=%s", _short(exc))
        log.info("scheduler.stopped worker=%s", self.worker_id)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

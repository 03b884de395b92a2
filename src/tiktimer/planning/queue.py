"""An account's posting queue: weekly slots, add to the queue, share next, move, re-flow.

Every change takes the account's queue row first (`lock_queue`), so two requests on one
queue never hand out the same slot. Times move only through guarded writes
(`UPDATE … WHERE status = 'scheduled'`): a post a worker has claimed in the meantime keeps
its time, and its time stays taken.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import Principal
from tiktimer.errors import Conflict, NotFound
from tiktimer.models import PostingQueue, PostStatus, QueuedPost
from tiktimer.planning.queue_state import QueueState, load_state, lock_queue, owned_account
from tiktimer.planning.wallclock import zone
from tiktimer.posts import transitions
from tiktimer.posts.schemas import PostUpdate
from tiktimer.posts.service import PostService


async def set_slots(
    session: AsyncSession,
    user: Principal,
    account_id: int,
    *,
    timezone: str | None,
    slots: list[tuple[int, int]],
) -> None:
    """Replace the weekly slots (and the zone, None: the owner's); posts keep their times."""
    await owned_account(session, user.id, account_id)
    if timezone is not None:
        zone(timezone)  # UnknownZone for a bad name
    queue = await lock_queue(session, account_id)
    queue.timezone = timezone
    queue.slots = [list(slot) for slot in sorted(set(slots))]
    await session.flush()


async def state_of(
    session: AsyncSession, user: Principal, account_id: int, now: datetime, *, lock: bool
) -> QueueState:
    await owned_account(session, user.id, account_id)
    queue = await lock_queue(session, account_id) if lock else None
    if queue is None:
        queue = await session.get(PostingQueue, account_id)
    return await load_state(session, queue, account_id, user.timezone, now)


async def add(
    session: AsyncSession,
    posts: PostService,
    user: Principal,
    account_id: int,
    post_id: int,
    *,
    head: bool,
    now: datetime,
) -> datetime:
    """Put one of the user's posts in the queue: the next free slot, or (`head`) the first
    slot with every other queued post moved one slot later. The post is scheduled through
    `PostService.update`, so pre-flight runs as for any edit. Returns its time."""
    state = await state_of(session, user, account_id, now, lock=False)
    if await transitions.status_of(session, post_id, owner=user.id) is None:
        raise NotFound("Post not found")  # first: nothing about another's post shows
    if await session.get(QueuedPost, post_id) is not None:
        raise Conflict("The post is already in a queue")
    tentative = state.free_slots(now, 1, ignore_movable=head)
    if not tentative:
        raise Conflict("The queue has no free slot: add slots first")
    update = PostUpdate(scheduled_time=tentative[0], draft=False, social_account_id=account_id)
    await posts.update(session, user.id, user.timezone, post_id, update)
    queue = await lock_queue(session, account_id)
    session.add(QueuedPost(post_id=post_id, account_id=account_id, queued_at=now))
    await session.flush()
    state = await load_state(session, queue, account_id, user.timezone, now)
    others = [pid for pid, _ in state.movable if pid != post_id]
    if head:
        await _reflow(session, posts, state, [post_id, *others], now)
    else:
        state.movable = [(pid, at) for pid, at in state.movable if pid != post_id]
        free = state.free_slots(now, 1, ignore_movable=False)
        if tentative[0] not in free and free:
            await _move_to(session, post_id, free[0], now)
            tentative = free
    await _announce(session, posts, now)
    return tentative[0]


async def remove(
    session: AsyncSession,
    posts: PostService,
    user: Principal,
    account_id: int,
    post_id: int,
    *,
    reflow: bool,
    now: datetime,
) -> None:
    """Take a post out of the queue; a scheduled one goes back to draft (never one being
    published). With `reflow`, the posts after it move up into the freed slots."""
    await owned_account(session, user.id, account_id)
    queue = await lock_queue(session, account_id)
    queued = await session.get(QueuedPost, post_id)
    owner_status = await transitions.status_of(session, post_id, owner=user.id)
    if queued is None or queued.account_id != account_id or owner_status is None:
        raise NotFound("The post is not in this queue")
    status = await transitions.status_of(session, post_id, owner=user.id)
    if status == PostStatus.publishing:
        raise Conflict("The post is being published and stays where it is")
    await transitions.transition(
        session, post_id, (PostStatus.scheduled,), PostStatus.draft, owner=user.id
    )
    await session.execute(delete(QueuedPost).where(QueuedPost.post_id == post_id))
    if reflow:
        state = await load_state(session, queue, account_id, user.timezone, now)
        await _reflow(session, posts, state, [pid for pid, _ in state.movable], now)


async def move(
    session: AsyncSession,
    posts: PostService,
    user: Principal,
    account_id: int,
    post_id: int,
    *,
    position: int,
    now: datetime,
) -> None:
    """Move a queued post to `position` (0: next) among the movable ones, and re-flow."""
    await owned_account(session, user.id, account_id)
    queue = await lock_queue(session, account_id)
    state = await load_state(session, queue, account_id, user.timezone, now)
    order = [pid for pid, _ in state.movable]
    if post_id not in order:
        raise Conflict("Only a scheduled post in this queue that is still ahead can move")
    order.remove(post_id)
    order.insert(min(position, len(order)), post_id)
    await _reflow(session, posts, state, order, now)


async def reflow(
    session: AsyncSession, posts: PostService, user: Principal, account_id: int, now: datetime
) -> int:
    """Give the movable posts, in their order, the first free slots from now on (closing
    the gaps removals left, following new slots). Returns how many posts moved."""
    await owned_account(session, user.id, account_id)
    queue = await lock_queue(session, account_id)
    state = await load_state(session, queue, account_id, user.timezone, now)
    return await _reflow(session, posts, state, [pid for pid, _ in state.movable], now)


async def _reflow(
    session: AsyncSession, posts: PostService, state: QueueState, order: list[int], now: datetime
) -> int:
    current = dict(state.movable)
    times = state.free_slots(now, len(order), ignore_movable=True)
    if len(times) < len(order):
        raise Conflict("The queue has fewer slots ahead than posts: add slots first")
    moved = 0
    for post_id, at in zip(order, times, strict=True):
        if current.get(post_id) != at and await _move_to(session, post_id, at, now):
            moved += 1
    await _announce(session, posts, now)
    return moved


async def _move_to(session: AsyncSession, post_id: int, at: datetime, now: datetime) -> bool:
    """A scheduled post's new time, in one guarded write (a claimed post is left alone)."""
    return await transitions.transition(
        session,
        post_id,
        (PostStatus.scheduled,),
        PostStatus.scheduled,
        scheduled_time=at,
        next_attempt_at=None,
        updated_at=now,
    )


async def _announce(session: AsyncSession, posts: PostService, now: datetime) -> None:
    """Wake the dispatchers if a post now comes due soon (they poll anyway)."""
    if posts.due_signal is not None:
        await posts.due_signal.post_due(session, now)

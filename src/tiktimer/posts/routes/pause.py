"""Pause and resume: one post, or every post of an account (see `posts.pausing`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tiktimer.accounts.schemas import AccountIdPath, AccountRead
from tiktimer.accounts.service import to_read
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.time import utc_now
from tiktimer.posts import pausing
from tiktimer.posts.dependencies import PostIdPath
from tiktimer.posts.routes.queue import SignalDep, read_post
from tiktimer.posts.schemas import PostRead

router = APIRouter(tags=["publishing"], responses=errors(401, 404, 422))


@router.post("/posts/{post_id}/pause", response_model=PostRead, responses=errors(409))
async def pause_post(post_id: PostIdPath, user: CurrentUser, session: SessionDep) -> Response:
    """Hold a scheduled post: it is not published until it is resumed."""
    await pausing.pause_post(session, user.id, post_id, utc_now())
    return await read_post(session, user.id, post_id, 200)


@router.post("/posts/{post_id}/resume", response_model=PostRead, responses=errors(409))
async def resume_post(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, signal: SignalDep
) -> Response:
    """Put a paused post back in the queue; due longer ago than its window → `missed`."""
    now = utc_now()
    await pausing.resume_post(session, user.id, post_id, now)
    await signal.post_due(session, now)
    return await read_post(session, user.id, post_id, 200)


@router.post("/api/v1/accounts/{account_id}/pause", response_model=AccountRead)
async def pause_account(
    account_id: AccountIdPath, user: CurrentUser, session: SessionDep
) -> AccountRead:
    """Hold every post of the account: due posts wait, nothing is lost."""
    account = await pausing.set_account_paused(session, user.id, account_id, utc_now(), paused=True)
    return to_read(account)


@router.post("/api/v1/accounts/{account_id}/resume", response_model=AccountRead)
async def resume_account(
    account_id: AccountIdPath, user: CurrentUser, session: SessionDep, signal: SignalDep
) -> AccountRead:
    """Publish the account's posts again; those due longer ago than their window → `missed`."""
    now = utc_now()
    account = await pausing.set_account_paused(session, user.id, account_id, now, paused=False)
    await signal.post_due(session, now)
    return to_read(account)

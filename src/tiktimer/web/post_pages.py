"""The post page: preview, settings, the live timeline of attempts, and the valid actions.

Each action calls what its JSON route calls (`PostService.update`, `cancel`, `delete`,
`publish_now` and `retry`), so a refusal reads the same in both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from tiktimer.auth.dependencies import Principal
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound, TiktimerError
from tiktimer.web.domain import (
    PostIdPath,
    PostServiceDep,
    PostUpdate,
    SignalDep,
    pause_post,
    resume_post,
)
from tiktimer.web.reads import attempts, post_of
from tiktimer.web.render import accounts_of, field_messages, render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)
Action = Literal["publish", "retry", "pause", "resume", "cancel", "delete"]

#: Which actions each status allows (the services' rules: posts.service, scheduler.endpoints).
ACTIONS: dict[str, tuple[str, ...]] = {
    "draft": ("edit", "reschedule", "publish", "cancel", "delete"),
    "scheduled": ("edit", "reschedule", "publish", "pause", "cancel", "delete"),
    "paused": ("edit", "reschedule", "resume", "publish", "cancel", "delete"),
    "missed": ("edit", "reschedule", "publish", "cancel", "delete"),
    "failed": ("edit", "retry", "cancel", "delete"),
    "cancelled": ("edit", "reschedule", "publish", "delete"),
    "unconfirmed": ("retry", "delete"),
    "published": ("delete",),
    "publishing": (),
}
LIVE = frozenset({"scheduled", "publishing", "unconfirmed"})


def tiktok_link(post: dict[str, Any], username: str | None) -> str | None:
    post_id = post.get("platform_post_id")
    if not post_id:
        return None
    return f"https://www.tiktok.com/@{username or 'user'}/video/{post_id}"


async def _context(request: Request, user: Principal, post_id: int, session: Any) -> dict[str, Any]:
    post = await post_of(request, user, post_id)
    if post is None:
        raise NotFound("Post not found")
    accounts = await accounts_of(request, session, user.id)
    account = next((a for a in accounts if a.id == post["social_account_id"]), None)
    return {
        "post": post,
        "account": account,
        "accounts": accounts,
        "attempts": await attempts(request, user, post_id),
        "actions": ACTIONS.get(post["status"], ()),
        "live": post["status"] in LIVE,
        "link": tiktok_link(post, account.username if account else None),
    }


@router.get("/posts/{post_id}")
async def post_page(
    request: Request,
    post_id: PostIdPath,
    user: WebUser,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    context = await _context(request, user, post_id, session)
    return await render(request, "post.html", user=user, error=error, **context)


@router.get("/posts/{post_id}/timeline")
async def post_timeline(
    request: Request, post_id: PostIdPath, user: WebUser, session: SessionDep
) -> Response:
    """The live part of the page, polled by post.js while the post is on its way."""
    context = await _context(request, user, post_id, session)
    response = await render(request, "_timeline.html", user=user, **context)
    response.headers["X-Post-Status"] = context["post"]["status"]
    return response


def _back(post_id: int, error: str | None = None) -> Response:
    suffix = f"?error={quote(error)}" if error else ""
    return RedirectResponse(f"{APP_PATH}/posts/{post_id}{suffix}", status_code=303)


@router.post("/posts/{post_id}/reschedule", dependencies=[CsrfChecked])
async def reschedule(
    post_id: PostIdPath,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
    when: Annotated[str, Form(max_length=32)],
) -> Response:
    """A new wall-clock time in the user's zone, validated as `PATCH /posts/{id}` does."""
    try:
        data = PostUpdate(scheduled_time=datetime.fromisoformat(when))
        await posts.update(session, user.id, user.timezone, post_id, data)
    except (ValueError, ValidationError):
        return _back(post_id, "Choose a valid date and time.")
    except TiktimerError as exc:
        await session.rollback()
        return _back(post_id, " ".join(sum(field_messages(exc.detail).values(), [])))
    return _back(post_id)


@router.post("/posts/{post_id}/{action}", dependencies=[CsrfChecked])
async def act(
    post_id: PostIdPath,
    action: Action,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
    signal: SignalDep,
) -> Response:
    try:
        if action == "publish":
            await posts.publish_now(session, user.id, post_id)
        elif action == "retry":
            await posts.retry(session, user.id, post_id)
        elif action == "pause":
            await pause_post(post_id, user, session)
        elif action == "resume":
            await resume_post(post_id, user, session, signal)
        elif action == "cancel":
            await posts.cancel(session, user.id, post_id)
        else:
            await posts.delete(session, user.id, post_id)
            return RedirectResponse(f"{APP_PATH}/calendar?deleted=1", status_code=303)
    except TiktimerError as exc:
        await session.rollback()
        return _back(post_id, " ".join(sum(field_messages(exc.detail).values(), [])))
    return _back(post_id)

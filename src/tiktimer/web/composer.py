"""The composer: TikTok's posting UX rules (shared/tiktok-api.md §8.3) around `PostService`.

The page asks TikTok for fresh creator_info every time it renders (the API's own
`creator_info`), fills the privacy dropdown from it with no default, and starts every
interaction off. Submitting calls `PostService.create` / `update`, the API's pre-flight
included; its refusals come back as messages next to the fields they name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tiktimer.auth.dependencies import Principal
from tiktimer.db.session import SessionDep
from tiktimer.errors import TiktimerError
from tiktimer.kit.time import utc_now
from tiktimer.web.domain import (
    ComposerRules,
    CreatorInfoRead,
    PostCreate,
    PostService,
    PostServiceDep,
    PostUpdate,
    PublishingComponents,
    PublishingDep,
    creator_info,
)
from tiktimer.web.reads import media_of, post_of
from tiktimer.web.recurrence_form import CHOICES as REPEAT_CHOICES
from tiktimer.web.recurrence_form import repeat_rule, save_series
from tiktimer.web.render import accounts_of, field_messages, local_time, render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)
Mode = Literal["now", "schedule", "inbox", "draft"]
#: A "publish now" post is created due this far ahead (pre-flight enforced), then made due.
NOW_LEAD = timedelta(minutes=1)
DISCLOSE_PROMPT = ComposerRules().commercial_content_prompt


async def _creator(
    user: Principal, parts: PublishingComponents, account_id: int | None
) -> tuple[CreatorInfoRead | None, str | None]:
    """Fresh creator_info, as `GET /api/v1/accounts/{id}/creator-info` answers it (UX rule 1)."""
    if account_id is None:
        return None, None
    try:
        return await creator_info(account_id, user, parts), None
    except TiktimerError as exc:
        return None, str(exc.detail)


async def _page(
    request: Request,
    user: Principal,
    session: AsyncSession,
    parts: PublishingComponents,
    form: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    every = await accounts_of(request, session, user.id)
    accounts = [a for a in every if a.status == "active"]
    chosen = _account_id(form.get("social_account_id"))
    account_id = chosen if chosen is not None else (accounts[0].id if accounts else None)
    creator, creator_error = await _creator(user, parts, account_id)
    media = await media_of(request, user, limit=50)
    return await render(
        request,
        "compose.html",
        user=user,
        accounts=every,
        active_accounts=accounts,
        account_id=account_id,
        creator=creator,
        creator_error=creator_error,
        rules=ComposerRules(),
        repeat_choices=REPEAT_CHOICES,
        media=media,
        form=form,
        errors=errors or {},
        status_code=status_code,
    )


def _account_id(value: object) -> int | None:
    """The form's or query's account id (a string from a form) as a number, if any."""
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[call-overload]
    except ValueError:
        return None


@router.get("/compose")
async def compose_page(
    request: Request,
    user: WebUser,
    session: SessionDep,
    parts: PublishingDep,
    account: int | None = None,
    media: str | None = None,
    post: int | None = None,
) -> Response:
    form: dict[str, Any] = {"social_account_id": account, "media_id": media}
    if post is not None:
        form |= await _form_of_post(request, user, post)
        form["social_account_id"] = account or form.get("social_account_id")
    return await _page(request, user, session, parts, form)


async def _form_of_post(request: Request, user: Principal, post_id: int) -> dict[str, Any]:
    found = await post_of(request, user, post_id)
    if found is None:
        return {}
    when = found["scheduled_time"]
    return {
        **{k: found[k] for k in ("content", "privacy_level", "social_account_id")},
        **{k: found[k] for k in ("allow_comment", "allow_duet", "allow_stitch")},
        **{k: found[k] for k in ("brand_organic_toggle", "brand_content_toggle")},
        "post_id": post_id,
        "media_id": (found["media_ids"] or [None])[0],
        "date": local_time(when, user.timezone, "%Y-%m-%d"),
        "time": local_time(when, user.timezone, "%H:%M"),
        "disclose": found["brand_organic_toggle"] or found["brand_content_toggle"],
        "mode": "inbox" if found["post_mode"] == "inbox" else "schedule",
    }


def _checked(value: str | None) -> bool:
    return value in ("on", "true", "1")


def _fields(raw: dict[str, Any], mode: Mode) -> dict[str, Any]:
    """The form as post fields; the unchecked boxes are explicit False (TikTok: off)."""
    disclose = _checked(raw.get("disclose"))
    fields: dict[str, Any] = {
        "content": raw.get("content") or "",
        "social_account_id": raw.get("social_account_id"),
        "media_ids": [raw["media_id"]] if raw.get("media_id") else [],
        "media_type": "video",
        "post_mode": "inbox" if mode == "inbox" else "direct",
        "privacy_level": raw.get("privacy_level") or None,
        "brand_organic_toggle": disclose and _checked(raw.get("brand_organic_toggle")),
        "brand_content_toggle": disclose and _checked(raw.get("brand_content_toggle")),
    }
    for name in ("allow_comment", "allow_duet", "allow_stitch"):
        fields[name] = _checked(raw.get(name))
    return fields


def _when(raw: dict[str, Any], mode: Mode) -> datetime:
    """The wall-clock time the user chose (read in their zone by the service)."""
    if mode in ("now", "inbox"):  # the date fields are hidden then: they do not count
        return (utc_now() + NOW_LEAD).replace(microsecond=0)
    if not raw.get("date") or not raw.get("time"):
        if mode == "draft":
            return utc_now()
        raise _FormError({"scheduled_time": ["Choose a date and a time."]})
    return datetime.fromisoformat(f"{raw['date']}T{raw['time']}")


class _FormError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def _disclosure(raw: dict[str, Any]) -> None:
    """UX rule 3: with the toggle on, one of the two kinds must be chosen."""
    fields = ("brand_organic_toggle", "brand_content_toggle")
    if _checked(raw.get("disclose")) and not any(_checked(raw.get(f)) for f in fields):
        raise _FormError({"disclose": [DISCLOSE_PROMPT]})


@router.post("/compose", dependencies=[CsrfChecked])
async def submit(
    request: Request,
    user: WebUser,
    session: SessionDep,
    parts: PublishingDep,
    posts: PostServiceDep,
    mode: Annotated[Mode, Form()],
) -> Response:
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    raw["mode"] = mode
    try:
        _disclosure(raw)
        post_id = await _save(session, user, posts, raw, mode, request)
        if mode in ("now", "inbox"):
            await posts.publish_now(session, user.id, post_id)
    except _FormError as exc:
        await session.rollback()
        return await _page(request, user, session, parts, raw, exc.errors, 422)
    except ValidationError as exc:
        await session.rollback()
        errors = field_messages([{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()])
        return await _page(request, user, session, parts, raw, errors, 422)
    except TiktimerError as exc:
        await session.rollback()
        errors = field_messages(exc.detail)
        return await _page(request, user, session, parts, raw, errors, exc.status_code)
    return RedirectResponse(f"{APP_PATH}/posts/{post_id}?created=1", status_code=303)


async def _save(
    session: AsyncSession,
    user: Principal,
    posts: PostService,
    raw: dict[str, Any],
    mode: Mode,
    request: Request,
) -> int:
    fields = _fields(raw, mode)
    when = _when(raw, mode)
    draft = mode == "draft"
    rule = repeat_rule(raw) if mode == "schedule" and not raw.get("post_id") else None
    if rule is not None:
        return await save_series(request, session, user, posts, rule, when, fields)
    if raw.get("post_id"):
        post_id = int(raw["post_id"])
        update = PostUpdate(**fields, scheduled_time=when, draft=draft)
        await posts.update(session, user.id, user.timezone, post_id, update)
        return post_id
    create = PostCreate(**fields, scheduled_time=when, draft=draft)
    post = await posts.create(session, user.id, user.timezone, create)
    return int(post["id"])

"""TikTok publishing routes: the original's multipart post, pre-flight, and creator info.

    POST /api/v1/tiktok/posts/            multipart: content, scheduled_time, video, options
    POST /api/v1/tiktok/posts/validate    JSON like POST /posts/: the checks, nothing saved
    GET  /api/v1/accounts/{id}/creator-info  what the composer needs (TikTok UX rules)

Publishing now (`POST /api/v1/tiktok/posts/{id}/publish`) belongs to the scheduler: it makes
the post due at once and its dispatcher publishes it, the one publishing path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from tiktimer.accounts.schemas import AccountIdPath
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound, TiktimerError, Unprocessable
from tiktimer.idempotency import Replayed, digest_of, idempotent_request
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors, multipart_body
from tiktimer.kit.state import provided
from tiktimer.kit.time import utc_now
from tiktimer.media.service import receive_upload
from tiktimer.platforms.tiktok import facts as load
from tiktimer.platforms.tiktok.budget import account_budget
from tiktimer.platforms.tiktok.preflight import (
    CreatorLookup,
    Issue,
    PostSettings,
    PreflightReport,
    creator_refusal,
)
from tiktimer.posts.dependencies import PostServiceDep
from tiktimer.posts.publish.components import PublishingComponents
from tiktimer.posts.routes.crud import IdempotencyKeyHeader
from tiktimer.posts.routes.tiktok_schemas import CreatorInfoRead, PreflightReportRead
from tiktimer.posts.schemas import PostCreate, PostRead
from tiktimer.posts.service import resolve_schedule

router = APIRouter(tags=["tiktok publishing"], responses=errors(401, 422))

#: Form fields of the multipart post besides the `video` file (the original's names).
MULTIPART_FIELDS = (
    "content",
    "scheduled_time",
    "title",
    "social_account_id",
    "post_mode",
    "privacy_level",
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "video_cover_timestamp_ms",
    "brand_organic_toggle",
    "brand_content_toggle",
    "is_aigc",
    "draft",
    "late_publish_minutes",
    "allow_duplicate",
)
_MULTIPART_DOC = multipart_body(
    ["content", "scheduled_time", "video"],
    {
        "video": {"type": "string", "format": "binary"},
        **{name: {"type": "string"} for name in MULTIPART_FIELDS},
    },
)


class ServiceUnavailable(TiktimerError):
    status_code = 503
    default_detail = "TikTok did not answer; try again shortly"


PublishingDep = Annotated[PublishingComponents, Depends(provided(PublishingComponents))]


@router.post(
    "/api/v1/tiktok/posts/",
    response_model=PostRead,
    status_code=201,
    openapi_extra=_MULTIPART_DOC,
    responses=errors(400, 409, 413, 415),
)
async def create_tiktok_post(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Upload a video and schedule it (private, SELF_ONLY, unless `privacy_level` is given)."""
    received = await receive_upload(request, session, user.id, "video")
    # Keep the upload even if the post is refused below: it is ordinary media, reusable by
    # id and collected when unused (the same bytes again are the same media). Committing
    # also means no transaction stays open while pre-flight asks TikTok for the creator's
    # settings.
    await session.commit()
    data = multipart_post(received.fields, media_id=received.media.id)
    key = idempotent_request(
        idempotency_key,
        user_id=user.id,
        scope="tiktok.posts.create",
        digest=digest_of(received.fields, received.media.sha256),
    )
    try:
        post = await posts.create(session, user.id, user.timezone, data, idempotency=key)
    except Replayed as replay:
        return replay.response()
    response = JSONBytes(post, status_code=201)
    return response if key is None else await key.remember(session, response)


@router.post(
    "/api/v1/tiktok/posts/validate", response_model=PreflightReportRead, responses=errors(400, 413)
)
async def validate_post(
    data: PostCreate, user: CurrentUser, parts: PublishingDep
) -> PreflightReportRead:
    """Run every pre-flight check of a post, as creating it would, without saving anything."""
    validator = parts.validator
    creator = await validator.prefetch(user.id, data.social_account_id)
    media_ids = data.media_ids if data.media_ids is not None else _one(data.media_id)
    at = resolve_schedule(data.scheduled_time, user.timezone)
    async with validator.sessionmaker() as session:
        if data.social_account_id is not None:
            if await load.load_account(session, user.id, data.social_account_id) is None:
                raise Unprocessable(_field_error("social_account_id", "no such connected account"))
        media = await load.load_media(session, user.id, media_ids)
        missing = sorted(set(media_ids) - {m.id for m in media})
        if missing:
            raise Unprocessable(_field_error("media_ids", f"unknown media: {', '.join(missing)}"))
        report = await validator.report(
            session,
            settings_of(data),
            user_id=user.id,
            account_id=data.social_account_id,
            media=media,
            at=at,
            creator=creator,
        )
    if not data.draft and at <= utc_now():
        past = Issue("scheduled_time", "in_past", "The time must be in the future.")
        report = PreflightReport(errors=(*report.errors, past), warnings=report.warnings)
    return PreflightReportRead.of(report)


@router.get(
    "/api/v1/accounts/{account_id}/creator-info",
    response_model=CreatorInfoRead,
    responses=errors(404, 503),
)
async def creator_info(
    account_id: AccountIdPath, user: CurrentUser, parts: PublishingDep
) -> CreatorInfoRead:
    """The creator's current TikTok settings, fresh from TikTok, and the composer's rules."""
    async with parts.sessionmaker() as session:
        account = await load.load_account(session, user.id, account_id)
        if account is None:
            raise NotFound("Account not found")
        budget = await account_budget(
            session,
            account_id=account_id,
            at=utc_now(),
            inbox=False,
            cap=parts.tiktok.daily_post_cap,
            exclude_post_id=None,
        )
    can_direct = "video.publish" in account.scopes
    lookup = None
    if account.status == "active" and can_direct:
        lookup = await parts.creators.lookup(account_id, fresh=True)
        if lookup.unavailable:
            raise ServiceUnavailable()
    info = lookup.info if lookup is not None else None
    reason = _cannot_post_reason(account.status, account.status_reason, can_direct, lookup)
    return CreatorInfoRead(
        account_id=account_id,
        creator_nickname=info.creator_nickname if info else account.display_name,
        creator_username=info.creator_username if info else None,
        creator_avatar_url=info.creator_avatar_url if info else None,
        privacy_level_options=list(info.privacy_level_options) if info else [],
        comment_disabled=info.comment_disabled if info else False,
        duet_disabled=info.duet_disabled if info else False,
        stitch_disabled=info.stitch_disabled if info else False,
        max_video_post_duration_sec=info.max_video_post_duration_sec if info else None,
        can_post=reason is None,
        cannot_post_reason=reason,
        error_code=lookup.error_code if lookup is not None else None,
        can_direct_post=can_direct,
        can_upload_drafts="video.upload" in account.scopes,
        daily_post_cap=budget.cap,
        daily_posts_remaining=max(0, budget.cap - (budget.used - 1)),
    )


def multipart_post(fields: dict[str, str], *, media_id: str) -> PostCreate:
    """The form's text fields as a video `PostCreate` (empty fields count as absent)."""
    unknown = sorted(set(fields) - set(MULTIPART_FIELDS))
    if unknown:
        raise Unprocessable(
            [
                {"loc": ["body", name], "msg": "unexpected field", "type": "extra_forbidden"}
                for name in unknown
            ]
        )
    values: dict[str, Any] = {name: value for name, value in fields.items() if value != ""}
    values.setdefault("privacy_level", "SELF_ONLY")
    values.update(media_id=media_id, media_type="video")
    try:
        return PostCreate.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_input=False)
        ]
        raise Unprocessable(errors) from None


def settings_of(data: PostCreate) -> PostSettings:
    """A request body's TikTok settings, with the defaults a saved post gets."""
    given = {
        name: value
        for name in PostSettings.__dataclass_fields__
        if (value := getattr(data, name, None)) is not None
    }
    given.setdefault("privacy_level", "SELF_ONLY")
    return PostSettings(**given)


def _cannot_post_reason(
    status: str, status_reason: str | None, can_direct: bool, lookup: CreatorLookup | None
) -> str | None:
    if status != "active":
        return f"Reconnect the account first ({status_reason or status})."
    if not can_direct:
        return "The account did not allow direct posting (video.publish); drafts only."
    if lookup is not None and lookup.error_code is not None:
        return creator_refusal(lookup)
    return None


def _one(media_id: str | None) -> list[str]:
    return [media_id] if media_id else []


def _field_error(name: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", name], "msg": message, "type": "value_error"}]

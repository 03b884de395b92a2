"""The checks: each yields (issue, is_error) pairs; none stops the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from tiktimer.media.verdict import MAX_PHOTOS_PER_POST, PHOTO_FORMATS
from tiktimer.platforms.preflight_report import (
    ACCOUNT_REQUIRED,
    MEDIA_REQUIRED,
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_CAPTION_MAX,
    Issue,
    PreflightReport,
)
from tiktimer.platforms.tiktok.preflight.inputs import CreatorLookup, Facts, MediaFacts, PostLike
from tiktimer.platforms.tiktok.schemas import CreatorInfo, utf16_length
from tiktimer.platforms.tiktok.scopes import DIRECT_POST_SCOPE, UPLOAD_SCOPE


def evaluate(post: PostLike, facts: Facts) -> PreflightReport:
    """Judge `post` against `facts`; every failing check is listed, none stops the others."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for check in _CHECKS:
        for issue, is_error in check(post, facts):
            (errors if is_error else warnings).append(issue)
    return PreflightReport(errors=tuple(errors), warnings=tuple(warnings))


_Found = Iterable[tuple[Issue, bool]]


def _error(field_name: str, code: str, message: str) -> tuple[Issue, bool]:
    return Issue(field_name, code, message), True


def _warning(field_name: str, code: str, message: str) -> tuple[Issue, bool]:
    return Issue(field_name, code, message), False


def _direct(post: PostLike) -> bool:
    return post.post_mode != "inbox"


# -- account -----------------------------------------------------------------------------


def _account(post: PostLike, facts: Facts) -> _Found:
    account = facts.account
    if account is None:
        yield _error(
            "social_account_id",
            ACCOUNT_REQUIRED,
            "Choose the TikTok account to post to (social_account_id).",
        )
        return
    if account.status != "active":
        why = account.status_reason or "its access to TikTok ended"
        yield _error(
            "social_account_id",
            "account_unusable",
            f"The TikTok account must be reconnected before it can post ({why}).",
        )
    needed = DIRECT_POST_SCOPE if _direct(post) else UPLOAD_SCOPE
    if needed not in account.scopes:
        what = "post directly" if _direct(post) else "send drafts to the TikTok inbox"
        yield _error(
            "post_mode",
            "scope_missing",
            f"The account did not allow TikTimer to {what} (permission {needed}); "
            "reconnect it and allow that permission.",
        )


# -- creator_info ------------------------------------------------------------------------

_CREATOR_REFUSALS = {
    "spam_risk_too_many_posts": "The creator reached TikTok's daily limit of posts; "
    "TikTok takes new posts again within 24 hours.",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting.",
    "reached_active_user_cap": "This TikTok app reached its daily limit of posting "
    "accounts; try again tomorrow.",
}


def creator_refusal(lookup: CreatorLookup) -> str:
    """Why creator_info says the account cannot post now, in plain words."""
    code = lookup.error_code or "rejected"
    return _CREATOR_REFUSALS.get(code) or (
        f"TikTok says this account cannot post now: {lookup.error_message or code}"
    )


def _creator(post: PostLike, facts: Facts) -> _Found:
    lookup = facts.creator
    if facts.account is None or not _direct(post) or lookup is None:
        return
    if lookup.error_code is not None:
        yield _error("social_account_id", lookup.error_code, creator_refusal(lookup))
        return
    info = lookup.info
    if info is None:
        yield _warning(
            "social_account_id",
            "creator_info_unavailable",
            "TikTok did not answer for the creator's settings; they are checked again "
            "before publishing.",
        )
        return
    yield from _privacy(post, info)
    yield from _interactions(post, info)
    yield from _duration(post, info, facts.media)


def _privacy(post: PostLike, info: CreatorInfo) -> _Found:
    level = post.privacy_level
    if level is None:
        yield _error("privacy_level", "privacy_level_required", "Choose who can see the post.")
    elif not info.allows_privacy(level):
        offered = ", ".join(info.privacy_level_options) or "none"
        yield _error(
            "privacy_level",
            "privacy_level_not_offered",
            f"TikTok does not offer {level} to this creator (offered: {offered}).",
        )


def _interactions(post: PostLike, info: CreatorInfo) -> _Found:
    toggles = [("allow_comment", "comments", post.allow_comment, info.comment_disabled)]
    if post.media_type == "video":  # duet and stitch do not exist for photo posts
        toggles += [
            ("allow_duet", "duets", post.allow_duet, info.duet_disabled),
            ("allow_stitch", "stitches", post.allow_stitch, info.stitch_disabled),
        ]
    for name, what, wanted, disabled in toggles:
        if wanted and disabled:
            yield _error(
                name,
                f"{name.removeprefix('allow_')}_disabled_by_creator",
                f"The creator turned off {what} in TikTok; {name} cannot be on.",
            )


def _duration(post: PostLike, info: CreatorInfo, media: Sequence[MediaFacts]) -> _Found:
    limit = info.max_video_post_duration_sec
    if post.media_type != "video" or limit is None:
        return
    for medium in media:
        duration = medium.duration_sec
        if medium.kind == "video" and duration is not None and duration > limit:
            yield _error(
                "media_ids",
                "duration_too_long",
                f"The video lasts {duration:g} s; this creator may post at most {limit} s.",
            )


# -- media -------------------------------------------------------------------------------


def _media(post: PostLike, facts: Facts) -> _Found:
    media = facts.media
    if not media:
        what = "a video" if post.media_type == "video" else "1 to 35 photos"
        yield _error("media_ids", MEDIA_REQUIRED, f"Attach {what} before the post can publish.")
        return
    for medium in media:
        if medium.status != "ready":
            yield _error("media_ids", "media_deleted", f"Media {medium.id} was deleted.")
    if post.media_type == "video":
        yield from _video_media(media)
    else:
        yield from _photo_media(post, media, facts.photo_urls_https)
    for medium in media:
        for reason in medium.verdict.get("reasons") or ():
            yield _error("media_ids", "media_rejected", f"Media {medium.id}: {reason}.")


def _video_media(media: Sequence[MediaFacts]) -> _Found:
    if len(media) != 1:
        yield _error("media_ids", "one_video", "A video post takes exactly one video.")
    if any(medium.kind != "video" for medium in media):
        yield _error(
            "media_type",
            "media_type_mismatch",
            "The media are not a video; set media_type to photo for a photo post.",
        )


def _photo_media(post: PostLike, media: Sequence[MediaFacts], urls_https: bool) -> _Found:
    if len(media) > MAX_PHOTOS_PER_POST:
        yield _error(
            "media_ids",
            "too_many_photos",
            f"A photo post takes at most {MAX_PHOTOS_PER_POST} photos, not {len(media)}.",
        )
    for medium in media:
        if medium.kind != "image":
            yield _error("media_ids", "not_a_photo", f"Media {medium.id} is not a photo.")
        elif medium.photo_format not in PHOTO_FORMATS:
            yield _error(
                "media_ids",
                "photo_format",
                f"Media {medium.id}: TikTok takes JPEG or WebP photos only.",
            )
    cover = post.photo_cover_index or 0
    if cover >= len(media):
        yield _error(
            "photo_cover_index",
            "photo_cover_index_out_of_range",
            f"photo_cover_index {cover} does not point at one of the {len(media)} photos "
            "(it counts from 0).",
        )
    if not urls_https:
        yield _error(
            "media_type",
            "photo_urls_not_https",
            "TikTok fetches photos only from https:// addresses; set TIKTIMER_MEDIA_PUBLIC_URL "
            "to this server's public https address.",
        )


# -- text and settings -------------------------------------------------------------------


def _text(post: PostLike, facts: Facts) -> _Found:
    if post.media_type == "video" and not _direct(post):
        return  # an inbox video carries no caption (reference §4.3)
    limits: list[tuple[str, str | None, int, str]]
    if post.media_type == "video":
        limits = [("content", post.content, VIDEO_CAPTION_MAX, "caption")]
    else:
        limits = [
            ("title", post.title, PHOTO_TITLE_MAX, "photo title"),
            ("content", post.content, PHOTO_DESCRIPTION_MAX, "photo description"),
        ]
    for name, text, limit, what in limits:
        length = utf16_length(text) if text else 0
        if length > limit:
            yield _error(
                name,
                "text_too_long",
                f"The {what} is {length} characters long as TikTok counts them "
                f"(emoji count twice); the limit is {limit}.",
            )


def _disclosure(post: PostLike, facts: Facts) -> _Found:
    if post.brand_content_toggle and post.privacy_level == "SELF_ONLY" and _direct(post):
        yield _error(
            "privacy_level",
            "branded_content_private",
            "Branded content visibility cannot be set to private.",
        )


def _inbox_notes(post: PostLike, facts: Facts) -> _Found:
    if _direct(post):
        return
    if post.media_type == "video":
        yield _warning(
            "post_mode",
            "inbox_settings_ignored",
            "TikTok takes only the video for an inbox draft: the creator sets the caption, "
            "privacy and interactions in the TikTok app when posting it.",
        )
    else:
        yield _warning(
            "post_mode",
            "inbox_settings_ignored",
            "TikTok takes only the photos, title and description for an inbox draft: the "
            "creator sets privacy and interactions in the TikTok app.",
        )


def _cover(post: PostLike, facts: Facts) -> _Found:
    cover = post.video_cover_timestamp_ms
    if post.media_type != "video" or cover is None:
        return
    durations = [m.duration_sec for m in facts.media if m.duration_sec is not None]
    if durations and cover > durations[0] * 1000:
        yield _warning(
            "video_cover_timestamp_ms",
            "cover_after_end",
            "The cover time is after the end of the video; TikTok will use the first frame.",
        )


def _budget(post: PostLike, facts: Facts) -> _Found:
    budget = facts.budget
    if budget is None or facts.account is None:
        return
    if budget.used > budget.cap:
        what = "posts" if _direct(post) else "inbox drafts"
        yield _error(
            "scheduled_time",
            "daily_budget_exceeded",
            f"TikTok takes at most {budget.cap} {what} per account in 24 hours; "
            f"{budget.used} would fall within 24 hours of each other. Move the post.",
        )
    elif budget.used == budget.cap:
        yield _warning(
            "scheduled_time",
            "daily_budget_full",
            "This post uses the last slot of TikTok's 24-hour limit for this account.",
        )


_CHECKS: tuple[Callable[[PostLike, Facts], _Found], ...] = (
    _account,
    _creator,
    _media,
    _text,
    _disclosure,
    _inbox_notes,
    _cover,
    _budget,
)

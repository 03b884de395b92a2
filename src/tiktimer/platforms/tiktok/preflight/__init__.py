"""Pre-flight: everything TikTok would refuse, found before a rate-limited init is spent.

One pure function, `evaluate`, judges a post against facts gathered elsewhere (the
account row, the media rows, TikTok's creator_info, the posts already scheduled). The same
function runs when a post is created or edited (→ 422 listing every reason), on
`POST /api/v1/tiktok/posts/validate`, and in the publisher right before the init, with a
fresh creator_info (TikTok's UX rules, reference §8.3, ask for re-validation at send time).

Two errors only say the post is incomplete, not wrong: `media_required` and
`account_required`. The original API accepted a post with nothing but a caption and a
time, so those two never block saving; they still block publishing.
"""

from tiktimer.platforms.preflight_report import (
    ACCOUNT_REQUIRED,
    INCOMPLETE,
    MEDIA_REQUIRED,
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_CAPTION_MAX,
    Issue,
    PreflightReport,
)
from tiktimer.platforms.tiktok.preflight.checks import creator_refusal, evaluate
from tiktimer.platforms.tiktok.preflight.inputs import (
    AccountFacts,
    CreatorLookup,
    Facts,
    MediaFacts,
    PostLike,
    PostSettings,
)

__all__ = [
    "ACCOUNT_REQUIRED",
    "INCOMPLETE",
    "MEDIA_REQUIRED",
    "PHOTO_DESCRIPTION_MAX",
    "PHOTO_TITLE_MAX",
    "VIDEO_CAPTION_MAX",
    "AccountFacts",
    "CreatorLookup",
    "Facts",
    "Issue",
    "MediaFacts",
    "PostLike",
    "PostSettings",
    "PreflightReport",
    "creator_refusal",
    "evaluate",
]

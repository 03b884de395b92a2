"""Everything the pages take from the post domain (`posts`), in one place.

When its modules move, only these imports change. The pages call what the JSON API calls:
nothing here is reimplemented.
"""

from __future__ import annotations

from tiktimer.platforms.tiktok.budget import account_budget
from tiktimer.posts import repository as post_repository
from tiktimer.posts.dependencies import PostIdPath, PostServiceDep
from tiktimer.posts.publish.components import PublishingComponents
from tiktimer.posts.queue.history import attempts_of
from tiktimer.posts.routes.pause import pause_account, pause_post, resume_account, resume_post
from tiktimer.posts.routes.queue import SignalDep
from tiktimer.posts.routes.tiktok import PublishingDep, creator_info
from tiktimer.posts.routes.tiktok_schemas import ComposerRules, CreatorInfoRead
from tiktimer.posts.schemas import PostCreate, PostUpdate
from tiktimer.posts.service import PostService

__all__ = [
    "ComposerRules",
    "CreatorInfoRead",
    "PostCreate",
    "PostIdPath",
    "PostService",
    "PostServiceDep",
    "PostUpdate",
    "PublishingComponents",
    "PublishingDep",
    "SignalDep",
    "account_budget",
    "pause_account",
    "pause_post",
    "resume_account",
    "resume_post",
    "attempts_of",
    "creator_info",
    "post_repository",
]

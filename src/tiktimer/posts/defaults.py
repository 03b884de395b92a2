"""What a post gets when the request leaves it out: the user's only TikTok account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.errors import Unprocessable
from tiktimer.models import AccountStatus, SocialAccount

SEVERAL_ACCOUNTS = (
    "you have several TikTok accounts: choose one with social_account_id "
    "(or save the post as a draft)"
)


# Built once: each create without an account runs it, and building the select (and its
# clauses) per call cost more than running it.
_TIKTOK_ACCOUNTS = (
    select(SocialAccount.id)
    .where(
        SocialAccount.user_id == bindparam("user_id"),
        SocialAccount.platform == "tiktok",
        SocialAccount.status != AccountStatus.disconnected,
    )
    .order_by(SocialAccount.id)
)


async def tiktok_accounts(session: AsyncSession, user_id: int) -> list[int]:
    """The user's TikTok accounts that are still connected, oldest first."""
    return list((await session.scalars(_TIKTOK_ACCOUNTS, {"user_id": user_id})).all())


def chosen_account(accounts: list[int], *, draft: bool) -> int | None:
    """The only account; none for several (a scheduled post must then name one → 422)."""
    if len(accounts) == 1:
        return accounts[0]
    if len(accounts) > 1 and not draft:
        raise Unprocessable(several_accounts())
    return None


def several_accounts() -> list[dict[str, Any]]:
    return [
        {"loc": ["body", "social_account_id"], "msg": SEVERAL_ACCOUNTS, "type": "account_required"}
    ]

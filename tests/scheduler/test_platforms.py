"""The scheduler publishes through the registry: a post whose account is on a platform this
process does not have fails once, with a reason, instead of being reclaimed forever."""

from __future__ import annotations

from sqlalchemy import update

from tests.scheduler.conftest import Workers, World, settled
from tiktimer.models import SocialAccount


async def test_a_post_on_a_platform_this_process_lacks_fails_with_the_reason(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    post = await world.read(post_id)
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == post.social_account_id)
            .values(platform="nowhere")
        )
    workers.start()

    [failed] = await settled(world, [post_id])

    assert failed.status == "failed"
    assert failed.last_error_code == "platform_unavailable"
    assert "'nowhere'" in (failed.last_error or "")
    assert world.publications(failed) == []

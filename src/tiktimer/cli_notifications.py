"""`tiktimer notifications send`: one round of the workers' notifications chore, by hand."""

from __future__ import annotations

from tiktimer.config import Settings
from tiktimer.db.dialect import Writes
from tiktimer.db.engine import create_engine
from tiktimer.kit.crypto import TokenCipher
from tiktimer.notifications.delivery import Notifier


async def send_once(settings: Settings) -> int:
    """Route new events and send what is due; how many deliveries were tried."""
    engine = create_engine(settings.database.url)
    try:
        cipher = TokenCipher(settings.auth.token_keys)
        notifier = Notifier(Writes(engine), cipher, settings.server.fetch_policy)
        return await notifier.run_once()
    finally:
        await engine.dispose()

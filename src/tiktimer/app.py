"""The application factory: everything is built from settings once, in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from tiktimer import __version__, exception_handlers
from tiktimer.accounts.connect import ConnectService
from tiktimer.accounts.endpoints import router as accounts_router
from tiktimer.accounts.service import AccountService
from tiktimer.accounts.tokens import AccountTokens
from tiktimer.auth.endpoints import router as auth_router
from tiktimer.auth.service import AuthService
from tiktimer.auth.tokens import AccessTokens
from tiktimer.config import Settings, load_settings
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.db.read import autocommit_engine
from tiktimer.health.endpoints import router as health_router
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.logging import configure_logging, install_request_id_filter
from tiktimer.middleware import RequestIdMiddleware
from tiktimer.platforms.tiktok.connection import SANDBOX_MOUNT, build_tiktok
from tiktimer.posts.endpoints import router as posts_router
from tiktimer.posts.service import PostService
from tiktimer.users.endpoints import router as users_router
from tiktimer.users.service import UserService

log = logging.getLogger("tiktimer")


def create_app(
    settings: Settings | None = None, *, tiktok_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the service. `tiktok_transport` lets tests route TikTok calls in-process."""
    settings = settings or load_settings()
    install_request_id_filter()
    tiktok = build_tiktok(settings, transport=tiktok_transport)
    cipher = TokenCipher(settings.token_keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        await wait_for_database(engine, retries=settings.db_connect_retries)
        passwords = PasswordHashing(settings.password_hash_threads)
        access = AccessTokens(
            settings.jwt_key,
            settings.algorithm,
            timedelta(minutes=settings.access_token_expire_minutes),
        )
        auth = AuthService(
            access,
            passwords,
            timedelta(days=settings.refresh_token_expire_days),
            read_engine=autocommit_engine(engine),
        )
        state = app.state
        state.engine = engine
        state.read_engine = autocommit_engine(engine)
        state.sessionmaker = create_sessionmaker(engine)
        state.access_tokens = access
        state.auth_service = auth
        state.user_service = UserService(passwords, auth)
        state.post_service = PostService()
        state.tiktok = tiktok.client
        state.cipher = cipher
        state.account_tokens = AccountTokens(state.sessionmaker, cipher, tiktok.client)
        state.connect_service = ConnectService(
            tiktok.client, cipher, sandbox=settings.sandbox_enabled
        )
        state.account_service = AccountService(tiktok.client, cipher)
        if settings.sandbox_enabled:
            log.info(
                "app.sandbox TikTok sandbox emulator at %s%s: no real TikTok is contacted",
                settings.public_base_url,
                SANDBOX_MOUNT,
            )
        log.info(
            "app.started database=%s sandbox=%s", engine.dialect.name, settings.sandbox_enabled
        )
        try:
            yield
        finally:
            passwords.close()
            await tiktok.client.aclose()
            if tiktok.sandbox_app is not None:
                await tiktok.sandbox_app.state.emulator.aclose()
            await engine.dispose()

    app = FastAPI(
        title="TikTimer",
        version=__version__,
        description="Schedule TikTok posts and have them published on time, exactly once.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    exception_handlers.install(app)
    app.add_middleware(RequestIdMiddleware)
    for router in (health_router, auth_router, users_router, posts_router, accounts_router):
        app.include_router(router)
    if tiktok.sandbox_app is not None:
        app.mount(SANDBOX_MOUNT, tiktok.sandbox_app)
        app.state.sandbox_emulator = tiktok.sandbox_app.state.emulator
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)

"""The application factory: everything is built from settings once, in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from tiktimer import __version__, exception_handlers
from tiktimer.auth.endpoints import router as auth_router
from tiktimer.auth.service import AuthService
from tiktimer.auth.tokens import AccessTokens
from tiktimer.config import Settings, load_settings
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.db.read import autocommit_engine
from tiktimer.health.endpoints import router as health_router
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.logging import configure_logging, install_request_id_filter
from tiktimer.middleware import RequestIdMiddleware
from tiktimer.posts.endpoints import router as posts_router
from tiktimer.posts.service import PostService
from tiktimer.users.endpoints import router as users_router
from tiktimer.users.service import UserService

log = logging.getLogger("tiktimer")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    install_request_id_filter()

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
        log.info(
            "app.started database=%s sandbox=%s", engine.dialect.name, settings.sandbox_enabled
        )
        try:
            yield
        finally:
            passwords.close()
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
    for router in (health_router, auth_router, users_router, posts_router):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)

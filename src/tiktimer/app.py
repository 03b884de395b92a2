"""The application factory: everything is built from settings once, in the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import Depends, FastAPI

from tiktimer import __version__, exception_handlers
from tiktimer.accounts.connect import ConnectService
from tiktimer.accounts.endpoints import router as accounts_router
from tiktimer.accounts.service import AccountService
from tiktimer.accounts.tokens import AccountTokens
from tiktimer.audit.writer import AuditLog
from tiktimer.auth.endpoints import router as auth_router
from tiktimer.auth.ratelimits import build_credential_limits
from tiktimer.auth.service import AuthService
from tiktimer.auth.tokens import AccessTokens
from tiktimer.browser.cors import install_cors
from tiktimer.browser.docs import docs_router
from tiktimer.browser.headers import SecurityHeadersMiddleware
from tiktimer.config import Settings, load_settings
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.db.read import autocommit_engine
from tiktimer.health.endpoints import router as health_router
from tiktimer.inputs.body import RequestBodyGuard
from tiktimer.inputs.params import refuse_unstorable_text
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.openapi import document_on_bodies, errors
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.kit.redact import install_log_redaction
from tiktimer.kit.time import utc_now
from tiktimer.logging import configure_logging, install_request_id_filter
from tiktimer.media.components import build_media
from tiktimer.media.endpoints import router as media_router
from tiktimer.middleware import RequestIdMiddleware
from tiktimer.platforms.tiktok.connection import SANDBOX_MOUNT, build_tiktok
from tiktimer.platforms.tiktok.sandbox import start_sandbox
from tiktimer.posts.endpoints import router as posts_router
from tiktimer.posts.service import PostService
from tiktimer.publishing.components import build_publishing
from tiktimer.publishing.endpoints import router as publishing_router
from tiktimer.publishing.public_media import router as public_media_router
from tiktimer.scheduler.components import build_scheduler
from tiktimer.scheduler.endpoints import router as scheduler_router
from tiktimer.users.audit_endpoints import router as audit_router
from tiktimer.users.endpoints import router as users_router
from tiktimer.users.service import UserService
from tiktimer.webhooks.endpoints import WebhookSettings
from tiktimer.webhooks.endpoints import router as webhooks_router

log = logging.getLogger("tiktimer")


def create_app(
    settings: Settings | None = None, *, tiktok_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the service. `tiktok_transport` lets tests route TikTok calls in-process."""
    settings = settings or load_settings()
    install_request_id_filter()
    install_log_redaction()
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
        audit_log = AuditLog(engine)
        auth = AuthService(
            access,
            passwords,
            timedelta(days=settings.refresh_token_expire_days),
            read_engine=autocommit_engine(engine),
            audit_log=audit_log,
        )
        state = app.state
        state.engine = engine
        state.read_engine = autocommit_engine(engine)
        state.sessionmaker = create_sessionmaker(engine)
        state.access_tokens = access
        state.credential_limits = build_credential_limits(settings)
        state.auth_service = auth
        state.audit = audit_log
        state.user_service = UserService(passwords, auth)
        media = build_media(settings, state.read_engine)
        state.media = media
        state.storage = media.storage
        state.upload_sessions = media.uploads
        state.media_service = media.service
        state.tiktok = tiktok.client
        state.cipher = cipher
        state.account_tokens = AccountTokens(state.sessionmaker, cipher, tiktok.client)
        state.connect_service = ConnectService(
            tiktok.client, cipher, sandbox=settings.sandbox_enabled
        )
        state.account_service = AccountService(tiktok.client, cipher)
        scheduler = build_scheduler(settings, engine)
        state.scheduler = scheduler
        state.post_queue = scheduler.queue
        state.pacer = scheduler.pacer
        state.due_signal = scheduler.due_signal
        state.health_extras = [
            *getattr(state, "health_extras", ()),
            scheduler.health(state.read_engine),
        ]
        publishing = build_publishing(
            settings,
            sessionmaker=state.sessionmaker,
            client=tiktok.client,
            tokens=state.account_tokens,
            storage=media.storage,
            pacer=scheduler.pacer,
        )
        state.publishing = publishing
        state.media_url_signer = publishing.media_urls
        state.post_service = PostService(publishing.validator, due_signal=scheduler.due_signal)
        state.webhook_settings = WebhookSettings(
            tiktok.client.client_key, tiktok.client_secret, settings.webhook_tolerance_seconds
        )
        if tiktok.sandbox is not None:
            await start_sandbox(tiktok.sandbox)  # fails startup if its state is unreachable
            log.info(
                "app.sandbox TikTok sandbox emulator at %s%s: no real TikTok is contacted",
                settings.public_base_url,
                SANDBOX_MOUNT,
            )
        if settings.run_scheduler:
            sessionmaker = state.sessionmaker
            scheduler.start_in_process(
                platforms_factory=publishing.platforms,
                accounts=state.account_tokens,
                media_gc=lambda: media.gc(sessionmaker, utc_now()),
            )
        log.info(
            "app.started database=%s sandbox=%s scheduler=%s",
            engine.dialect.name,
            settings.sandbox_enabled,
            "in-process" if settings.run_scheduler else "off (dedicated workers)",
        )
        # Everything built so far lives as long as the process: move it out of the
        # collector's sight, so full collections under load stay short (fewer tail spikes).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await scheduler.aclose()
            await state.credential_limits.limiter.aclose()
            await audit_log.aclose()
            passwords.close()
            await tiktok.client.aclose()
            if tiktok.sandbox_app is not None:
                await tiktok.sandbox_app.state.emulator.aclose()
            await media.aclose()
            await engine.dispose()

    app = FastAPI(
        title="TikTimer",
        version=__version__,
        description="Schedule TikTok posts and have them published on time, exactly once.",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry looks up providers on every request; only pay for
        # it when an operator asks for traces and metrics.
        telemetry={"tracing": settings.otel, "metrics": settings.otel, "logs": settings.otel},
        # Any route answers 503 while the database is away (see exception_handlers).
        responses=errors(503),
        # Served by tiktimer.browser.docs from packaged assets (no CDN), under a strict CSP.
        docs_url=None,
        redoc_url=None,
        # NUL in any query, path or form value → 422 (JSON bodies: kit.schemas.StrictInput).
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    exception_handlers.install(app)
    install_cors(app, settings.cors_origins)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        RequestBodyGuard,
        max_json_bytes=settings.max_json_body_kb * 1024,
        stall_seconds=settings.body_timeout_seconds,
    )
    document_on_bodies(app, 408)  # RequestBodyGuard's answer to a stalled body
    app.include_router(docs_router(app.title, app.openapi_url or "/openapi.json"))
    for router in (
        health_router,
        auth_router,
        users_router,
        audit_router,
        posts_router,
        accounts_router,
        media_router,
        publishing_router,
        public_media_router,
        webhooks_router,
        scheduler_router,
    ):
        app.include_router(router)
    if tiktok.sandbox is not None:
        app.mount(SANDBOX_MOUNT, tiktok.sandbox.app)
        app.state.sandbox_emulator = tiktok.sandbox.emulator
        if tiktok.sandbox.webhook_receiver is not None:
            tiktok.sandbox.webhook_receiver.app = app  # webhooks come back in-process
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)

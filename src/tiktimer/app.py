"""The application factory: middleware and routes; the services come from `tiktimer.services`."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import Depends, FastAPI

from tiktimer import __version__, exception_handlers
from tiktimer.accounts.endpoints import router as accounts_router
from tiktimer.accounts.platform_endpoints import router_for as platform_accounts_router
from tiktimer.auth.endpoints import router as auth_router
from tiktimer.browser.cors import install_cors
from tiktimer.browser.docs import docs_router
from tiktimer.browser.headers import SecurityHeadersMiddleware
from tiktimer.config import Settings, load_settings
from tiktimer.health.endpoints import router as health_router
from tiktimer.inputs.body import RequestBodyGuard
from tiktimer.inputs.params import refuse_unstorable_text
from tiktimer.kit.openapi import document_on_bodies, errors
from tiktimer.kit.redact import install_log_redaction
from tiktimer.logging import configure_logging, install_request_id_filter
from tiktimer.media.endpoints import router as media_router
from tiktimer.media.public_urls import router as public_media_router
from tiktimer.metrics.endpoint import router as metrics_router
from tiktimer.metrics.http import HttpMetricsMiddleware
from tiktimer.middleware import RequestIdMiddleware
from tiktimer.notifications.endpoints import router as notifications_router
from tiktimer.planning.routes import ROUTERS as PLANNING_ROUTERS
from tiktimer.platforms.oauth import OAuthSetup
from tiktimer.platforms.registry import oauth_setups
from tiktimer.platforms.tiktok.connection import SANDBOX_MOUNT, TikTokConnection, build_tiktok
from tiktimer.posts.routes.crud import router as posts_router
from tiktimer.posts.routes.importing import router as import_router
from tiktimer.posts.routes.pause import router as pause_router
from tiktimer.posts.routes.queue import router as scheduler_router
from tiktimer.posts.routes.tiktok import router as publishing_router
from tiktimer.services import Services, build_services
from tiktimer.users.audit_endpoints import router as audit_router
from tiktimer.users.endpoints import router as users_router
from tiktimer.web.install import install as install_web
from tiktimer.webhooks.endpoints import router as webhooks_router

log = logging.getLogger("tiktimer")


ROUTERS = (
    health_router,
    auth_router,
    users_router,
    audit_router,
    posts_router,
    import_router,
    accounts_router,
    media_router,
    publishing_router,
    public_media_router,
    webhooks_router,
    scheduler_router,
    pause_router,
    *PLANNING_ROUTERS,
    notifications_router,
    metrics_router,
)


def create_app(
    settings: Settings | None = None, *, tiktok_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the service. `tiktok_transport` lets tests route TikTok calls in-process."""
    settings = settings or load_settings()
    install_request_id_filter()
    install_log_redaction()
    tiktok = build_tiktok(settings, transport=tiktok_transport)
    oauth = oauth_setups(settings, "api")  # other platforms' OAuth (and their sandboxes)
    app = FastAPI(
        title="TikTimer",
        version=__version__,
        description="Schedule TikTok posts and have them published on time, exactly once.",
        lifespan=_lifespan(settings, tiktok, oauth),
        # FastAPI's native OpenTelemetry looks up providers on every request; only pay for
        # it when an operator asks for traces and metrics.
        telemetry={
            "tracing": settings.server.otel,
            "metrics": settings.server.otel,
            "logs": settings.server.otel,
        },
        # Any route answers 503 while the database is away (see exception_handlers).
        responses=errors(503),
        # Served by tiktimer.browser.docs from packaged assets (no CDN), under a strict CSP.
        docs_url=None,
        redoc_url=None,
        # NUL in any query, path or form value → 422 (JSON bodies: kit.schemas.StrictInput).
        dependencies=[Depends(refuse_unstorable_text)],
    )
    _install_middleware(app, settings)
    app.include_router(docs_router(app.title, app.openapi_url or "/openapi.json"))
    for router in ROUTERS:
        app.include_router(router)
    # /api/v1/auth/{name}/… of each other platform this app connects (YouTube…)
    app.include_router(platform_accounts_router(oauth))
    install_web(app)  # the pages under /app, for browsers (tiktimer.web)
    _mount_sandbox(app, tiktok)
    for setup in oauth.values():
        if setup.mount is not None:  # a platform's sandbox: its consent page only
            app.mount(*setup.mount)
    return app


def _lifespan(
    settings: Settings, tiktok: TikTokConnection, oauth: dict[str, OAuthSetup]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the services for the app's life (`app.state.services`, its only key)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_services(settings, "api", tiktok=tiktok, oauth=oauth) as services:
            app.state.services = services
            _log_started(services)
            # Everything built so far lives as long as the process: move it out of the
            # collector's sight, so full collections under load stay short (fewer tail spikes).
            gc.collect()
            gc.freeze()
            yield

    return lifespan


def _log_started(services: Services) -> None:
    settings = services.settings
    if services.connection.sandbox is not None:
        log.info(
            "app.sandbox TikTok sandbox emulator at %s%s: no real TikTok is contacted",
            settings.server.public_base_url,
            SANDBOX_MOUNT,
        )
    log.info(
        "app.started database=%s sandbox=%s scheduler=%s",
        services.engine.dialect.name,
        settings.tiktok.sandbox_enabled,
        "in-process" if settings.scheduler.in_process else "off (dedicated workers)",
    )


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    exception_handlers.install(app)
    install_cors(app, settings.server.cors_origins)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        RequestBodyGuard,
        max_json_bytes=settings.limits.max_json_body_kb * 1024,
        stall_seconds=settings.limits.body_timeout_seconds,
    )
    document_on_bodies(app, 408)  # RequestBodyGuard's answer to a stalled body
    # Outermost of ours, so a request's latency includes every other middleware.
    app.add_middleware(HttpMetricsMiddleware)


def _mount_sandbox(app: FastAPI, tiktok: TikTokConnection) -> None:
    """Sandbox mode: the emulator answers under /sandbox/tiktok on this service."""
    if tiktok.sandbox is None:
        return
    app.mount(SANDBOX_MOUNT, tiktok.sandbox.app)
    if tiktok.sandbox.webhook_receiver is not None:
        tiktok.sandbox.webhook_receiver.app = app  # webhooks come back in-process


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app)."""
    settings = load_settings()
    configure_logging(settings.server.log_level, settings.server.log_format)
    return create_app(settings)

"""The wiring, written once: what `tiktimer serve` and `tiktimer worker` build from settings.

`build_services(settings, role=...)` opens the parts in order (database, TikTok, media,
scheduler, publishing, then the API's own services) and closes them in reverse, also when
start-up fails half-way. The app keeps the result as `app.state.services` (its only key);
endpoints reach a part through the typed dependency declared next to it
(`kit.state.provided`), never by name.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any, Literal, TypeVar

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tiktimer.accounts.connect import ConnectService
from tiktimer.accounts.platform_connect import PlatformConnect
from tiktimer.accounts.service import AccountService
from tiktimer.accounts.tokens import AccountTokens
from tiktimer.audit.writer import AuditLog
from tiktimer.auth.ratelimits import CredentialLimits, build_credential_limits
from tiktimer.auth.service import AuthService
from tiktimer.auth.tokens import AccessTokens
from tiktimer.config import Settings
from tiktimer.db.dialect import Writes, single_writer
from tiktimer.db.engine import create_engine, create_sessionmaker, wait_for_database
from tiktimer.db.read import autocommit_engine
from tiktimer.idempotency import prune_expired
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.passwords import PasswordHashing
from tiktimer.kit.time import utc_now
from tiktimer.media.components import MediaComponents, build_media
from tiktimer.media.public_urls import MediaUrlSigner
from tiktimer.media.service import MediaService
from tiktimer.media.uploads import UploadSessions
from tiktimer.notifications.delivery import Notifier
from tiktimer.notifications.service import NotificationService
from tiktimer.planning.materialise import materialiser_for
from tiktimer.platforms.oauth import OAuthSetup
from tiktimer.platforms.registry import oauth_setups
from tiktimer.platforms.tiktok.client import TikTokClient
from tiktimer.platforms.tiktok.connection import TikTokConnection, build_tiktok
from tiktimer.platforms.tiktok.sandbox import start_sandbox
from tiktimer.posts.dispatch.components import SchedulerComponents, build_scheduler
from tiktimer.posts.pacing.window import SlidingWindowPacer
from tiktimer.posts.publish.components import PublishingComponents, build_publishing
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.service import PostService
from tiktimer.storage import Storage
from tiktimer.users.service import UserService
from tiktimer.webhooks.endpoints import WebhookSettings

log = logging.getLogger("tiktimer")

Role = Literal["api", "worker"]
T = TypeVar("T")
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Services:
    """Everything a process built from settings; the API's own parts are None in a worker."""

    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    cipher: TokenCipher
    connection: TikTokConnection
    account_tokens: AccountTokens
    media: MediaComponents
    scheduler: SchedulerComponents
    publishing: PublishingComponents
    notifier: Notifier
    access_tokens: AccessTokens | None = None
    credential_limits: CredentialLimits | None = None
    audit: AuditLog | None = None
    auth_service: AuthService | None = None
    user_service: UserService | None = None
    connect_service: ConnectService | None = None
    account_service: AccountService | None = None
    post_service: PostService | None = None
    webhook_settings: WebhookSettings | None = None
    notification_service: NotificationService | None = None
    platform_connect: PlatformConnect | None = None
    oauth: dict[str, OAuthSetup] = field(default_factory=dict)  # other platforms' OAuth
    health_extras: list[HealthCheck] = field(default_factory=list)
    _by_type: dict[type, object] = field(default_factory=dict, init=False, repr=False)

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name != "_by_type" and "_by_type" in self.__dict__:
            self._by_type.clear()  # a part was replaced (tests swap the rate limits)

    def provide(self, kind: type[T]) -> T:
        """The one part of type `kind` (what `kit.state.provided(kind)` hands an endpoint)."""
        found = self._by_type.get(kind)
        if found is None:
            matches = {id(v): v for v in self._values() if type(v) is kind}
            if len(matches) != 1:
                raise LookupError(f"{len(matches)} parts of type {kind.__name__} were built")
            found = self._by_type[kind] = next(iter(matches.values()))
        return found  # type: ignore[return-value]

    def _values(self) -> list[object]:
        built = [getattr(self, item.name) for item in fields(self) if item.init]
        return built + [getattr(self, name) for name in _DERIVED]

    # Parts of the components above, by the names endpoints and tests know them.
    @property
    def tiktok(self) -> TikTokClient:
        return self.connection.client

    @property
    def storage(self) -> Storage:
        return self.media.storage

    @property
    def upload_sessions(self) -> UploadSessions:
        return self.media.uploads

    @property
    def media_service(self) -> MediaService:
        return self.media.service

    @property
    def post_queue(self) -> PostQueue:
        return self.scheduler.queue

    @property
    def pacer(self) -> SlidingWindowPacer:
        return self.scheduler.pacer

    @property
    def due_signal(self) -> DueSignal:
        return self.scheduler.due_signal

    @property
    def media_url_signer(self) -> MediaUrlSigner:
        return self.publishing.media_urls

    @property
    def sandbox_emulator(self) -> Any:
        """The sandbox's emulator (tests and tools drive it), or None against real TikTok."""
        sandbox = self.connection.sandbox
        return sandbox.emulator if sandbox is not None else None


_DERIVED = (
    "tiktok",
    "upload_sessions",
    "media_service",
    "post_queue",
    "pacer",
    "due_signal",
    "media_url_signer",
)


def services_of(app: FastAPI) -> Services:
    """The services the app's lifespan built (tests and tools reach parts through this)."""
    services: Services = app.state.services
    return services


@asynccontextmanager
async def build_services(
    settings: Settings,
    role: Role = "api",
    *,
    tiktok: TikTokConnection | None = None,
    oauth: dict[str, OAuthSetup] | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[Services]:
    """Open every part for `role`, in order; close them in reverse on the way out.

    `tiktok` is the connection the app already built (its sandbox is mounted before
    start-up); a worker builds its own, one that leaves webhooks to the API processes.
    `oauth` likewise: the other platforms' OAuth the app built (their sandboxes mounted).
    """
    async with AsyncExitStack() as stack:
        services = await _open_core(stack, settings, role, tiktok, oauth)
        if role == "api":
            await _open_api(stack, services)
        else:
            services.scheduler.start_in_process(
                platforms_factory=services.publishing.platforms,
                accounts=services.account_tokens,
                media_gc=_media_gc(services),
                concurrency=concurrency,
                chores=_chores(services),
            )
        # The dispatcher stops first: it may still be using everything opened above.
        stack.push_async_callback(services.scheduler.stop_in_process)
        yield services


@asynccontextmanager
async def build_command_services(settings: Settings) -> AsyncIterator[Services]:
    """What a one-shot command that creates posts needs (`tiktimer posts import`): the core
    parts and the post service with its pre-flight; no dispatcher, no sign-in parts."""
    async with AsyncExitStack() as stack:
        services = await _open_core(stack, settings, "worker", None, None)
        services.post_service = PostService(
            services.publishing.validator, due_signal=services.due_signal
        )
        yield services


def _opened_oauth(stack: AsyncExitStack, setups: dict[str, OAuthSetup]) -> dict[str, OAuthSetup]:
    """The other platforms' OAuth, closed with the process; their notices logged at start."""
    for setup in setups.values():
        stack.push_async_callback(setup.close)
        if setup.notice:
            log.info("%s", setup.notice)
    return setups


async def _open_core(
    stack: AsyncExitStack,
    settings: Settings,
    role: Role,
    tiktok: TikTokConnection | None,
    oauth: dict[str, OAuthSetup] | None,
) -> Services:
    """What every process needs: database, TikTok and the other platforms' OAuth, tokens,
    media, scheduler, publishing."""
    engine = await _open_database(stack, settings, role)
    connection = await _open_tiktok(stack, settings, role, tiktok)
    setups = _opened_oauth(stack, oauth if oauth is not None else oauth_setups(settings, role))
    providers = {name: setup.provider for name, setup in setups.items()}
    sessionmaker = create_sessionmaker(engine)
    cipher = TokenCipher(settings.auth.token_keys)
    read_engine = autocommit_engine(engine)
    tokens = AccountTokens(sessionmaker, cipher, connection.client, providers)
    media = build_media(settings.storage, settings.media, read_engine)
    stack.push_async_callback(media.aclose)
    scheduler = build_scheduler(settings, engine)
    stack.push_async_callback(scheduler.aclose)
    # Pre-flight's reads outside the request's transaction (the default account, the account
    # for creator_info): on PostgreSQL each is one round trip in autocommit, no BEGIN and
    # ROLLBACK around it; SQLite's reads open no transaction anyway.
    lookups = sessionmaker if single_writer(engine) else create_sessionmaker(read_engine)
    publishing = build_publishing(
        settings,
        sessionmaker=sessionmaker,
        lookups=lookups,
        client=connection.client,
        tokens=tokens,
        storage=media.storage,
        pacer=scheduler.pacer,
    )
    return Services(
        settings=settings,
        engine=engine,
        read_engine=read_engine,
        sessionmaker=sessionmaker,
        cipher=cipher,
        connection=connection,
        account_tokens=tokens,
        media=media,
        scheduler=scheduler,
        publishing=publishing,
        notifier=Notifier(Writes(engine), cipher, settings.server.fetch_policy),
        oauth=setups,
    )


async def _open_database(stack: AsyncExitStack, settings: Settings, role: Role) -> AsyncEngine:
    name = "tiktimer-worker" if role == "worker" else "tiktimer"
    engine = create_engine(
        settings.database.url, pool_size=settings.database.pool_size, application_name=name
    )
    stack.push_async_callback(engine.dispose)
    await wait_for_database(engine, retries=settings.database.connect_retries)
    return engine


async def _open_tiktok(
    stack: AsyncExitStack, settings: Settings, role: Role, tiktok: TikTokConnection | None
) -> TikTokConnection:
    """The TikTok client (and sandbox emulator); the sandbox's state is checked loudly."""
    connection = tiktok or build_tiktok(settings, deliver_webhooks=False)
    if connection.sandbox is not None:
        stack.push_async_callback(connection.sandbox.emulator.aclose)
    stack.push_async_callback(connection.client.aclose)
    if connection.sandbox is not None:
        await start_sandbox(connection.sandbox, role=role)  # fails startup if unreachable
    return connection


async def _open_api(stack: AsyncExitStack, services: Services) -> None:
    """The API's own services: sign-in, users, audit, accounts, posts, webhooks."""
    settings = services.settings
    passwords = PasswordHashing(settings.auth.password_hash_threads)
    stack.callback(passwords.close)
    access = AccessTokens(
        settings.auth.jwt_key,
        settings.auth.algorithm,
        timedelta(minutes=settings.auth.access_token_expire_minutes),
    )
    audit_log = AuditLog(services.engine)
    stack.push_async_callback(audit_log.aclose)
    limits = build_credential_limits(settings.auth, settings.scheduler.redis_url)
    stack.push_async_callback(limits.limiter.aclose)
    auth = AuthService(
        access,
        passwords,
        timedelta(days=settings.auth.refresh_token_expire_days),
        read_engine=services.read_engine,
        audit_log=audit_log,
    )
    _add_api_services(services, access=access, limits=limits, audit_log=audit_log, auth=auth)
    services.user_service = UserService(passwords, auth)
    if settings.scheduler.in_process:
        services.scheduler.start_in_process(
            platforms_factory=services.publishing.platforms,
            accounts=services.account_tokens,
            media_gc=_media_gc(services),
            chores=_chores(services),
        )


def _add_api_services(
    services: Services,
    *,
    access: AccessTokens,
    limits: CredentialLimits,
    audit_log: AuditLog,
    auth: AuthService,
) -> None:
    client, cipher, settings = services.tiktok, services.cipher, services.settings
    services.access_tokens = access
    services.credential_limits = limits
    services.audit = audit_log
    services.auth_service = auth
    services.connect_service = ConnectService(
        client, cipher, sandbox=settings.tiktok.sandbox_enabled
    )
    services.account_service = AccountService(client, cipher)
    services.platform_connect = PlatformConnect(services.account_tokens.providers, cipher)
    services.post_service = PostService(
        services.publishing.validator,
        due_signal=services.due_signal,
        late_publish_minutes=settings.scheduler.late_publish_minutes or None,
        duplicate_window=timedelta(hours=settings.scheduler.duplicate_window_hours),
    )
    services.webhook_settings = WebhookSettings(
        client.client_key,
        services.connection.client_secret,
        settings.tiktok.webhook_tolerance_seconds,
    )
    services.notification_service = NotificationService(cipher, settings.server.fetch_policy)
    services.health_extras.append(services.scheduler.health(services.read_engine))


def _chores(services: Services) -> dict[str, tuple[float, Callable[[], Awaitable[object]]]]:
    """What every dispatcher also runs: notifications at its poll interval, their pruning
    hourly, and recurring series made into posts a horizon ahead."""
    poll = services.settings.scheduler.poll_seconds
    notifier = services.notifier
    return {
        "notifications.deliver": (poll, notifier.run_once),
        "notifications.prune": (3600.0, notifier.prune),
        **_planning_jobs(services),
    }


def _media_gc(services: Services) -> Callable[[], Awaitable[object]]:
    """Media retention with the configured times, and expired idempotency keys, run
    beside every dispatcher."""

    async def collect() -> object:
        report = await services.media.gc(services.sessionmaker, utc_now())
        await prune_expired(services.sessionmaker, utc_now())
        return report

    return collect


def _planning_jobs(services: Services) -> dict[str, tuple[float, Callable[[], Awaitable[object]]]]:
    """Recurring series made into posts a horizon ahead, beside every dispatcher."""
    materialiser = materialiser_for(services.settings, services.due_signal)
    interval = services.settings.planning.series_interval_minutes * 60.0
    return {
        "series.materialise": (interval, lambda: materialiser.all(services.sessionmaker, utc_now()))
    }

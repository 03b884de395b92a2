"""TikTok: credentials (or the sandbox), the API reachable, and a redirect URI TikTok accepts.

Production here means real TikTok (the sandbox off): TikTok's developer portal registers
only HTTPS redirect URIs, and the OAuth callback must come back to the origin browsers use
(`TIKTIMER_PUBLIC_URL`), where the sign-in that started the connection lives.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from tiktimer.config import Settings
from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, short_error, warn

CHECK = "tiktok"
TIMEOUT_SECONDS = 3.0


async def check_tiktok(ctx: DoctorContext) -> list[CheckResult]:
    assert ctx.settings is not None
    tiktok = ctx.settings.tiktok
    if tiktok.sandbox_enabled:
        return [ok(CHECK, "sandbox mode: the built-in emulator stands in for TikTok")]
    missing = [
        name
        for name, value in (
            ("TIKTOK_CLIENT_KEY", tiktok.client_key),
            ("TIKTOK_CLIENT_SECRET", tiktok.client_secret),
        )
        if not value
    ]
    if missing:
        return [
            fail(
                CHECK,
                f"real TikTok without {' and '.join(missing)}",
                "set both from TikTok's developer portal, or TIKTIMER_SANDBOX=true",
            )
        ]
    return [
        ok(CHECK, "credentials set (TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET)"),
        await _reach(tiktok.api_base),
    ]


async def _reach(api_base: str) -> CheckResult:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.get(api_base)
    except httpx.HTTPError as exc:
        return fail(
            CHECK,
            f"{api_base} unreachable: {short_error(exc)}",
            "allow outbound HTTPS to it (DNS, firewall, HTTPS_PROXY), or check TIKTOK_API_BASE",
        )
    return ok(CHECK, f"{api_base} answers (HTTP {response.status_code})")


async def check_redirect(ctx: DoctorContext) -> list[CheckResult]:
    check = "redirect"
    assert ctx.settings is not None
    settings = ctx.settings
    public = settings.server.public_base_url
    redirect = settings.tiktok.callback_url(public)
    problems = _redirect_problems(settings, public, redirect, production=ctx.production)
    if not problems:
        return [ok(check, f"{redirect} is on the public URL's origin")]
    # In sandbox mode the emulator accepts any redirect: worth knowing, not a failure.
    make = fail if ctx.production else warn
    return [make(check, problem, fix) for problem, fix in problems]


def _redirect_problems(
    settings: Settings, public: str, redirect: str, *, production: bool
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if _origin(redirect) != _origin(public):
        shown = urlsplit(public)
        found.append(
            (
                f"redirect URI {redirect} is not on the public URL's origin "
                f"{shown.scheme}://{shown.netloc}",
                "unset TIKTOK_REDIRECT_URI (it follows TIKTIMER_PUBLIC_URL) or make them agree",
            )
        )
    if production and urlsplit(redirect).scheme != "https":
        found.append(
            (
                f"redirect URI {redirect} is plain HTTP; TikTok accepts only HTTPS",
                "serve behind an HTTPS proxy and set TIKTIMER_PUBLIC_URL=https://your.host",
            )
        )
    if production and not settings.server.public_url:
        found.append(
            (
                f"TIKTIMER_PUBLIC_URL is unset (derived: {public})",
                "set TIKTIMER_PUBLIC_URL to the HTTPS address browsers and TikTok use",
            )
        )
    return found


def _origin(url: str) -> str:
    """scheme://host:port with the default port spelt out, so :443 and no port agree."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"

"""The few settings the pages read, named once (from their groups in `tiktimer.config`)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from tiktimer.config import Settings
from tiktimer.kit.state import services


@dataclass(frozen=True, slots=True)
class WebSettings:
    secret: str  # the service's SECRET_KEY (generated into the data dir when unset)
    algorithm: str  # of the API's JWTs; the session cookie uses the same
    session_days: int  # a browser session lasts as long as an API refresh token
    sandbox: bool
    tiktok_auth_url: str  # where the consent form goes (the CSP's form-action)


def web_settings(request: Request) -> WebSettings:
    settings = services(request).provide(Settings)
    return WebSettings(
        secret=settings.auth.jwt_key,
        algorithm=settings.auth.algorithm,
        session_days=settings.auth.refresh_token_expire_days,
        sandbox=settings.tiktok.sandbox_enabled,
        tiktok_auth_url=settings.tiktok.auth_url,
    )

"""JWT access tokens and opaque refresh tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt

from tiktimer.kit.time import utc_now

ACCESS = "access"


class InvalidAccessToken(Exception):
    """Expired, forged, of another type or algorithm: all are a plain 401."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    token_version: int


class AccessTokens:
    def __init__(self, key: str, algorithm: str, lifetime: timedelta) -> None:
        self._key = key
        self._algorithm = algorithm
        self.lifetime = lifetime

    def issue(self, user_id: int, token_version: int) -> str:
        now = utc_now()
        claims = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "type": ACCESS,
            "ver": token_version,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={"require": ["sub", "exp", "iat", "type", "ver"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(str(exc)) from None
        if claims.get("type") != ACCESS:
            raise InvalidAccessToken("not an access token")
        try:
            return AccessClaims(user_id=int(claims["sub"]), token_version=int(claims["ver"]))
        except (TypeError, ValueError):
            raise InvalidAccessToken("malformed claims") from None


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)

"""JWT access tokens and opaque refresh tokens."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
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
    expires_at: int = 0


VERIFIED_CACHE_SIZE = 4096


class AccessTokens:
    def __init__(self, key: str, algorithm: str, lifetime: timedelta) -> None:
        self._key = key
        self._algorithm = algorithm
        self.lifetime = lifetime
        # A signature that verified once verifies forever: clients send the same token on
        # every request, so remember verified tokens and only re-check their expiry.
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

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
        cached = self._verified.get(token)
        if cached is not None:
            if cached.expires_at > time.time():
                self._verified.move_to_end(token)
                return cached
            del self._verified[token]
        claims = self._decode(token)
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def _decode(self, token: str) -> AccessClaims:
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
            return AccessClaims(
                user_id=int(claims["sub"]),
                token_version=int(claims["ver"]),
                expires_at=int(claims["exp"]),
            )
        except (TypeError, ValueError):
            raise InvalidAccessToken("malformed claims") from None


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)

"""The browser half of TikTok's OAuth: PKCE values, the consent URL and the redirect back.

Nothing here talks to TikTok; it is the part a web handler needs before and after the
user's visit to the consent page.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from base64 import urlsafe_b64encode
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import quote, urlencode

from pydantic import SecretStr

from tiktimer.platforms.tiktok.errors import TikTokRejected, error_for_code
from tiktimer.platforms.tiktok.schemas import AuthorizationCallback

DEFAULT_AUTH_URL = "https://www.tiktok.com/v2/auth/authorize/"
DEFAULT_SCOPES: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload")

_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"
_VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def generate_code_verifier(length: int = 64) -> str:
    """A fresh PKCE ``code_verifier``: ``length`` (43-128) chars of ``[A-Za-z0-9-._~]``.

    Use a new one for every authorization request and keep it server-side until the
    code exchange.
    """
    if not 43 <= length <= 128:
        raise ValueError("code_verifier length must be within 43..128")
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))


def code_challenge(code_verifier: str, *, encoding: Literal["hex", "base64url"] = "hex") -> str:
    """The S256 ``code_challenge`` of ``code_verifier``.

    TikTok documents the **lowercase hex** SHA-256 digest (not RFC 7636's base64url);
    ``encoding="base64url"`` exists only as an escape hatch should TikTok's web flow
    ever switch to the RFC form.
    """
    check_verifier(code_verifier)
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    if encoding == "hex":
        return digest.hex()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_state() -> str:
    """An unguessable ``state`` value for CSRF protection of the redirect."""
    return secrets.token_urlsafe(32)


def check_verifier(code_verifier: str) -> None:
    """Refuse a verifier TikTok would refuse, before it leaves this process."""
    if not _VERIFIER_RE.fullmatch(code_verifier):
        raise ValueError("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """The scopes as a tuple, refusing a bare string or names a comma list would break."""
    if isinstance(scopes, str):
        raise TypeError("scopes must be a sequence of scope names, not a string")
    result = tuple(scopes)
    if not result or any(not s or re.search(r"[,\s]", s) for s in result):
        raise ValueError("scopes must be non-empty names without commas or spaces")
    return result


def authorization_url(
    auth_url: str,
    client_key: str,
    redirect_uri: str,
    scopes: Sequence[str],
    *,
    state: str,
    challenge: str,
    disable_auto_auth: bool | None,
) -> str:
    """The consent-page URL, with PKCE always on."""
    params = [
        ("client_key", client_key),
        ("scope", ",".join(scopes)),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    if disable_auto_auth is not None:
        params.append(("disable_auto_auth", "1" if disable_auto_auth else "0"))
    # Commas stay literal: a form decoder reads them the same, a naive one too.
    query = urlencode(params, quote_via=quote, safe=",")
    return f"{auth_url}{'&' if '?' in auth_url else '?'}{query}"


def parse_authorization_callback(
    params: Mapping[str, str], *, expected_state: str
) -> AuthorizationCallback:
    """Validate the (already URL-decoded) query of TikTok's redirect to ``redirect_uri``.

    Raises:
        TikTokRejected: ``state`` does not match (possible CSRF) or ``code`` is missing.
        TikTokReauthorizeRequired: the user denied consent (``error=access_denied``).
        TikTokError: any other ``error`` TikTok put in the redirect.
    """
    state = params.get("state") or ""
    if not expected_state or not hmac.compare_digest(
        state.encode("utf-8"), expected_state.encode("utf-8")
    ):
        raise TikTokRejected(
            "the state of the TikTok redirect does not match the one sent",
            code="state_mismatch",
            hint="start the connection again",
        )
    error = params.get("error")
    if error:
        raise error_for_code(error, params.get("error_description"))
    code = params.get("code")
    if not code:
        raise TikTokRejected("the TikTok redirect carries no code", code="missing_code")
    scopes = tuple(s for s in (params.get("scopes") or "").split(",") if s)
    return AuthorizationCallback(code=SecretStr(code), state=state, granted_scopes=scopes)

"""PKCE as TikTok documents it: code_challenge = lowercase hex SHA-256 of the verifier.

That is not RFC 7636's base64url form (reference §1.5); hex is the one reading TikTok
documents, so a base64url challenge is refused at the authorize step.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SUPPORTED_METHOD = "S256"
_CHALLENGE = re.compile(r"[0-9a-f]{64}")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def is_valid_challenge(challenge: str) -> bool:
    return _CHALLENGE.fullmatch(challenge) is not None


def is_valid_verifier(verifier: str) -> bool:
    return _VERIFIER.fullmatch(verifier) is not None


def challenge_for(verifier: str) -> str:
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def verifier_matches(verifier: str, challenge: str) -> bool:
    if not is_valid_verifier(verifier):
        return False
    return hmac.compare_digest(challenge_for(verifier), challenge)

"""Browser-grade response headers, as pure ASGI so mounted apps (the sandbox) get them too.

Every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
`Referrer-Policy: no-referrer` (the OAuth callback's URL carries a code: it must never leave
in a Referer). HTML pages also get a Content-Security-Policy without inline code except what
carries this response's nonce (`tiktimer.kit.csp`). HTTPS requests (directly, or through a
proxy uvicorn trusts via FORWARDED_ALLOW_IPS) get HSTS. A header the app already set wins.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.kit.csp import existing_nonce

HSTS = b"max-age=31536000"
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP = b"content-security-policy"


def page_policy(nonce: str | None) -> str:
    """The CSP of our server-rendered pages: only what carries the nonce may run or style."""
    inline = f"'nonce-{nonce}'" if nonce else "'none'"
    return (
        f"default-src 'none'; script-src {inline}; style-src {inline}; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def base_headers() -> list[tuple[str, str]]:
    """The headers for responses built outside this middleware (the 500 handler)."""
    return [(name.decode(), value.decode()) for name, value in ALWAYS]


class SecurityHeadersMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Created here so that mounted apps, which copy the scope, share it with us.
        scope.setdefault("state", {})
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_security_headers(
                    list(message.get("headers", [])), scope, https=https
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(
    headers: list[tuple[bytes, bytes]], scope: Scope, *, https: bool
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    for name, value in ALWAYS:
        if name not in present:
            headers.append((name, value))
    if https and b"strict-transport-security" not in present:
        headers.append((b"strict-transport-security", HSTS))
    if _CSP not in present and _is_html(headers):
        headers.append((_CSP, page_policy(existing_nonce(scope)).encode()))
    return headers


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.lower().startswith(b"text/html")
    return False

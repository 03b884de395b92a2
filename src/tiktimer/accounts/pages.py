"""The small HTML pages the OAuth callback renders in the user's browser.

Their one inline `<style>` carries the response's CSP nonce; they have no script. The
confirmation form carries a one-time ticket, never TikTok's code.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from tiktimer.accounts.binding import COOKIE_PATH

CONFIRM_PATH = COOKIE_PATH + "/confirm"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · TikTimer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="{nonce}">
body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
.box{{border:1px solid #ddd;border-radius:8px;padding:1.5rem}}.ok{{color:#0a7d32}}
.bad{{color:#b3261e}}.warn{{color:#8a5a00}}label{{display:block;margin:.75rem 0}}
input[type=text],input[type=password]{{display:block;width:100%;padding:.4rem;box-sizing:border-box}}
button{{padding:.5rem 1rem}}</style></head>
<body><div class="box"><h1 class="{css}">{title}</h1><p>{message}</p>{extra}
<p><a href="/app/accounts">Back to TikTimer</a></p></div></body></html>"""

_CONFIRM_FORM = """<form method="post" action="{action}">
<input type="hidden" name="ticket" value="{ticket}">
<label>TikTimer username or email
<input type="text" name="username" autocomplete="username" required maxlength="320"></label>
<label>Password
<input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in and connect</button></form>"""

_HEADERS = {"Cache-Control": "no-store"}


def result_page(
    title: str,
    message: str,
    *,
    ok: bool,
    nonce: str,
    warning: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    extra = f'<p class="warn">{escape(warning)}</p>' if warning else ""
    return _render(title, message, "ok" if ok else "bad", extra, nonce, status_code)


def confirm_page(ticket: str, *, nonce: str) -> HTMLResponse:
    """Asks the user who started the connection to sign in; anyone else attaches nothing."""
    message = (
        "This browser did not start this connection. To attach the TikTok account you just "
        "chose, sign in as the TikTimer user who started it. If someone sent you this link, "
        "stop here: signing in as yourself attaches nothing."
    )
    form = _CONFIRM_FORM.format(action=escape(CONFIRM_PATH), ticket=escape(ticket))
    return _render("Confirm the connection", message, "warn", form, nonce, 200)


def _render(
    title: str, message: str, css: str, extra: str, nonce: str, status_code: int
) -> HTMLResponse:
    html = _PAGE.format(
        title=escape(title),
        message=escape(message),
        css=css,
        extra=extra,
        nonce=escape(nonce),
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)

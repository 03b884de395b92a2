"""The small HTML page the OAuth callback renders in the user's browser."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · TikTimer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
.box{{border:1px solid #ddd;border-radius:8px;padding:1.5rem}}.ok{{color:#0a7d32}}
.bad{{color:#b3261e}}.warn{{color:#8a5a00}}</style></head>
<body><div class="box"><h1 class="{css}">{title}</h1><p>{message}</p>{extra}
<p><a href="/">Back to TikTimer</a></p></div></body></html>"""


def result_page(
    title: str, message: str, *, ok: bool, warning: str | None = None, status_code: int = 200
) -> HTMLResponse:
    extra = f'<p class="warn">{escape(warning)}</p>' if warning else ""
    html = _PAGE.format(
        title=escape(title),
        message=escape(message),
        css="ok" if ok else "bad",
        extra=extra,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

"""`/docs` (Swagger UI) and `/redoc`, served with assets from the `fastapi-offline` package.

No CDN: the docs work on a machine without internet. The pages carry no inline script, so
their CSP allows scripts from this origin only; both UIs set styles at run time and ReDoc
runs a blob: worker, which the policy allows (nothing else).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

ASSETS_PATH = "/docs/assets"
_PACKAGE_ASSETS = Path(str(files("fastapi_offline") / "static"))
_OWN_ASSETS = Path(__file__).parent / "static"
_ASSETS = {
    "swagger-ui-bundle.js": _PACKAGE_ASSETS / "swagger-ui-bundle.js",
    "swagger-ui.css": _PACKAGE_ASSETS / "swagger-ui.css",
    "redoc.standalone.js": _PACKAGE_ASSETS / "redoc.standalone.js",
    "favicon.png": _PACKAGE_ASSETS / "favicon.png",
    "swagger-init.js": _OWN_ASSETS / "swagger-init.js",
}
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Swagger UI</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script></body></html>"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{assets}/favicon.png"></head>
<body><redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script></body></html>"""


def docs_router(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(template: str, request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        html = template.format(
            title=escape(title),
            assets=escape(root + ASSETS_PATH),
            openapi=escape(root + openapi_url),
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_POLICY})

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(_SWAGGER, request)

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        return page(_REDOC, request)

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> FileResponse:
        path = _ASSETS.get(name)
        if path is None:
            raise HTTPException(status_code=404, detail="Not found")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    return router

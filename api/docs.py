"""/docs (Swagger UI) and /redoc from files on this machine: the assets come pinned in the fastapi-offline wheel,
the pages start them with scripts of our own (no CDN, no inline script), so they render offline and under the CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
OWN_ASSETS = Path(__file__).resolve().parent / "docs_assets"


def vendor_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def _page(title: str, head: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{title}</title>\n<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n{head}</head>\n<body>\n{body}</body>\n</html>\n'
    )


def mount_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets; /openapi.json declares the Bearer key so "Authorize" sends it."""
    app.mount(f"{ASSETS}/vendor", StaticFiles(directory=vendor_dir()), name="docs-vendor")
    app.mount(f"{ASSETS}/own", StaticFiles(directory=OWN_ASSETS), name="docs-own")
    swagger = _page(
        f"{app.title} - Swagger UI",
        f'<link rel="stylesheet" href="{ASSETS}/vendor/swagger-ui.css">\n',
        f'<div id="swagger-ui"></div>\n<script src="{ASSETS}/vendor/swagger-ui-bundle.js"></script>\n'
        f'<script src="{ASSETS}/own/swagger-init.js"></script>\n',
    )
    redoc = _page(
        f"{app.title} - ReDoc",
        "",
        f'<div id="redoc"></div>\n<script src="{ASSETS}/vendor/redoc.standalone.js"></script>\n'
        f'<script src="{ASSETS}/own/redoc-init.js"></script>\n',
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger)

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`sleuth keys create NAME`; not needed while the server has no keys",
                }
            }
            schema["security"] = [{"apiKey": []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

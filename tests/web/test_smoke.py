"""Smoke: the harness starts the real server and drives headless Chromium against it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.conftest import REDOC_LOGO, shot


def test_docs_and_health_in_chromium(page, server):
    health = page.goto(f"{server}/healthz")
    assert health is not None and health.ok
    assert '"status":"ok"' in page.inner_text("body").replace(" ", "")
    assert shot(page, "smoke-healthz").stat().st_size > 0  # Chromium renders the JSON as text: a non-blank picture

    elsewhere: list[str] = []  # any request off this server fails the test: the docs must render with no network

    def offline(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    docs = page.goto(f"{server}/docs")
    assert docs is not None and docs.ok
    assert "Swagger UI" in page.title()
    expect(page.locator(".opblock-summary-path", has_text="/v1/runs").first).to_be_visible(
        timeout=30_000
    )  # rendered from local assets
    redoc = page.goto(f"{server}/redoc")
    assert redoc is not None and redoc.ok
    expect(page.get_by_role("heading", name=re.compile("Sleuth research API"))).to_be_visible(timeout=30_000)
    expect(page.locator("[data-section-id]").first).to_be_attached()
    assert set(elsewhere) <= {REDOC_LOGO} and page.web_errors == []  # the logo is refused by the CSP before any request
    page.goto(f"{server}/docs")
    spec = page.request.get(f"{server}/openapi.json")
    assert spec.ok, spec.status
    assert "/v1/runs" in spec.json()["paths"]
    assert shot(page, "smoke-docs").stat().st_size > 0

"""End-to-end UI fixtures: a live `sleuth serve` on two real filings, a scripted fake LLM, and headless Chromium via Playwright.

Every test in tests/web is marked `web` and is skipped, with the reason, when Debian's Chromium (/usr/bin/chromium,
or SLEUTH_TEST_CHROMIUM) or the `playwright` package is missing. Playwright never downloads a browser here: it drives
the system Chromium through `executable_path`.

    from tests.web.conftest import shot

    def test_something(page, server, fake_llm, llm_script):
        llm_script(lambda body: Reply(content="..."))   # this test only; the default script is restored afterwards
        page.goto("/")                                    # the page's base URL is the server
        shot(page, "something")                           # tests/artifacts/screenshots/something.png
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from embedded.supervisor import free_port
from tests.fakes.fake_llm import FakeLLM, Reply
from tests.live_server import wait_healthy

WEB_TESTS = Path(__file__).resolve().parent
REPO_ROOT = WEB_TESTS.parent.parent
SCREENSHOTS = REPO_ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("SLEUTH_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
SERVER_START_TIMEOUT_S = 180.0  # a loaded 2-core machine (a compile beside the tests) took over 60 s
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

CAPEX_ANSWER = "3M's FY2018 capital expenditure was $1,577 million."
CAPEX_CITATION = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577)"}


def _missing_browser_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the `playwright` package is not installed (pip install -e '.[dev]')"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set SLEUTH_TEST_CHROMIUM)"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "web: end-to-end UI tests in headless Chromium against a live `sleuth serve`")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing_browser_reason()
    for item in items:
        if WEB_TESTS in item.path.parents:
            item.add_marker(pytest.mark.web)
            item.add_marker(pytest.mark.financebench)  # the server serves two real filings (skipped without them)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"_web_report_{report.when}", report)  # lets `page` screenshot a failed test
    return report


# -- the fake model ------------------------------------------------------------------------------------


def default_script(body: dict[str, Any]) -> Reply:
    """RAG (user message starts 'Passages:') answers at once; agentic greps 3M's 10-K first, then answers with a citation."""
    messages = body.get("messages") or []
    user = messages[1].get("content") if len(messages) > 1 and isinstance(messages[1], dict) else None
    answer = Reply(tool_calls=[("answer", {"answer": CAPEX_ANSWER, "citations": [CAPEX_CITATION]})])
    if isinstance(user, str) and user.startswith("Passages:"):
        return answer
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})])
    return answer


@pytest.fixture(scope="package")
def fake_llm() -> Iterator[FakeLLM]:
    """The scripted model the server talks to (default_script); swap the script per test with `llm_script`."""
    with FakeLLM(default_script) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _reset_fake_llm(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each web test starts with the default script and an empty request log, whatever the previous test did."""
    if "fake_llm" not in request.fixturenames:
        yield
        return
    fake: FakeLLM = request.getfixturevalue("fake_llm")
    fake.respond_with(default_script)
    fake.requests.clear()
    yield
    fake.respond_with(default_script)


@pytest.fixture
def llm_script(fake_llm: FakeLLM) -> Callable[[Callable[[dict[str, Any]], Reply | str]], None]:
    """Call with a callable body -> Reply to script the model for this test (restored to default_script afterwards)."""
    return fake_llm.respond_with


# -- the server ----------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def web_data_dir(filings_settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shared 3M_2018_10K + ADOBE_2017_10K data dir (ingested, BM25-indexed), with no API state.

    The copy keeps the server's runs, keys and uploads away from other tests' data, and the API tables that earlier
    tests wrote into the shared catalog are dropped (the server re-creates them empty on start).
    """
    from sqlalchemy import create_engine, text

    from api.models import ApiBase

    target = tmp_path_factory.mktemp("web") / "data"
    shutil.copytree(filings_settings.data_dir, target, ignore=shutil.ignore_patterns("uploads"))
    if filings_settings.database_url is None:  # SQLite inside the data dir: a real copy, so reset its API state
        engine = create_engine(f"sqlite:///{target / 'sleuth.db'}")
        try:
            ApiBase.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS sleuth_api_version"))
        finally:
            engine.dispose()
    return target


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="package")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's stdout+stderr."""
    return tmp_path_factory.mktemp("web-server") / "server.log"


@pytest.fixture(scope="package")
def fake_edgar() -> Iterator[Any]:
    """A local fake SEC EDGAR (recorded responses; the filings from ../shared/edgar when present) the server fetches from."""
    from tests.fakes.fake_edgar import recorded_edgar

    shared = REPO_ROOT.parent / "shared" / "edgar"
    with recorded_edgar(shared if shared.is_dir() else None) as fake:
        yield fake


@pytest.fixture(scope="package")
def server(
    web_data_dir: Path, fake_llm: FakeLLM, filings_settings, server_log: Path, tmp_path_factory, fake_edgar
) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT, no trailing slash) of a live `sleuth serve` on web_data_dir, talking to fake_llm."""
    sleuth = Path(sys.executable).parent / "sleuth"
    if not sleuth.is_file():
        pytest.fail(f"{sleuth} not found: install the project into this environment (pip install -e '.[dev]')")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLEUTH_")}  # nothing from the developer's setup
    env.update(
        SLEUTH_DATA_DIR=str(web_data_dir),
        SLEUTH_LLM_BASE_URL=fake_llm.base_url,
        SLEUTH_LLM_MAX_RETRIES="0",
        SLEUTH_LLM_TIMEOUT_S="30",
        SLEUTH_API_KEY_RATE_PER_MINUTE="100000",
        SLEUTH_EDGAR_WWW_URL=fake_edgar.url,
        SLEUTH_EDGAR_DATA_URL=fake_edgar.url,
        SLEUTH_EDGAR_USER_AGENT="Sleuth Web Tests sleuth-tests@example.com",
        SLEUTH_EDGAR_BACKOFF_S="0.01",
        PYTHONUNBUFFERED="1",
    )
    if filings_settings.database_url:
        env["SLEUTH_DATABASE_URL"] = filings_settings.database_url
    cwd = tmp_path_factory.mktemp("web-cwd")  # no stray .env
    base = f"http://127.0.0.1:{port}"
    with server_log.open("wb") as log:
        proc = subprocess.Popen(
            [str(sleuth), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        problem = wait_healthy(proc, base, SERVER_START_TIMEOUT_S, interval_s=0.1)
    except BaseException:
        _stop(proc)
        raise
    if problem is not None:
        _stop(proc)
        pytest.fail(f"{problem}; last lines of {server_log}:\n{_tail(server_log)}", pytrace=False)
    try:
        yield base
    finally:
        _stop(proc)


# -- the browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (playwright.sync_api.Browser), one for tests/web. Closed after the last UI test: the sync
    API keeps an event loop running in the main thread, where later tests (under xdist, in the same worker) call
    asyncio.run."""
    reason = _missing_browser_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh context and page (1280x800, base URL = server, 10 s default timeout); screenshot on failure.

    JavaScript errors, console errors and failed HTTP responses (by URL) are collected in `page.web_errors` (a list of str).
    """
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    csp: list[str] = []  # the server's Content-Security-Policy refusing something the UI does: fails the test at teardown
    opened.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(msg: Any) -> None:
        # "Failed to load resource" names no URL and may arrive after the test's own checks; the
        # response listener below records every failed request by URL, so only keep other console errors.
        if REDOC_LOGO in msg.text:
            return  # ReDoc's bundle hard-codes its footer logo from its CDN; the CSP blocks it and ReDoc hides the image
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console.{msg.type}: {msg.text} ({msg.location.get('url', '?')})")
        if "Content Security Policy" in msg.text:
            csp.append(msg.text)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            errors.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    opened.on("console", on_console)
    opened.on("response", on_response)
    opened.web_errors = errors
    try:
        yield opened
    finally:
        report = getattr(request.node, "_web_report_call", None)
        if report is not None and report.failed:
            try:
                shot(opened, f"FAILED-{request.node.name}")
            except Exception:  # noqa: BLE001, S110 - a failed screenshot must not hide the test's own failure
                pass
        context.close()
    assert not csp, f"the UI broke the server's Content-Security-Policy: {csp}"


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Screenshot `page` to tests/artifacts/screenshots/<name>.png (git-ignored); returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path

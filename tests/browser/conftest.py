"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, the API under
gunicorn, the streaming job, and Trino, all real (the local stack).

Chromium comes from `make browser-deps` (apt); nothing is downloaded at test time.
"""

import contextlib
import os
import sys
import uuid
from pathlib import Path

import pytest

from questline_devkit.process import free_port
from questline_events import TRINO_CATALOG
from questline_stack.scratch import Scratch

REPO = Path(__file__).resolve().parents[2]
# The API's own integration helper: gunicorn with the package's config, ready when /readyz says so.
sys.path.insert(0, str(REPO / "services" / "game-api" / "tests"))
from api_stack import Gunicorn  # noqa: E402
from browser_stack import STREAM, StreamingJob  # noqa: E402

CHROMIUM = Path(os.environ.get("QUESTLINE_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking switches Chromium keeps calling home, which
# only fails (and floods the logs) on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


# Module scope, not session: Playwright's sync API keeps an asyncio loop running
# in the main thread until it stops, and every later test that calls asyncio.run()
# (the simulator's) would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; each test opens its own context (fresh storage and cookies)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (Debian's chromium package)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary --user-data-dir and deletes it on close.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    # The page's own console errors (a CSP violation, a script error) fail the test that caused them.
    # Chromium also logs every 4xx/5xx answer as an error; those are answers the tests expect.
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot():
    """Save a full-page screenshot under artifacts/screenshots/ and print its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"\n[screenshot] {path}")
        return path

    return take


@pytest.fixture(scope="session")
def names(local_stack):
    """A topic, a database and an HDFS directory of this run only, removed at the end: the
    tests never post to the user's `events` topic nor read the `questline` tables."""
    with Scratch(local_stack, "web") as scratch:
        yield scratch


@pytest.fixture(scope="session")
def pipeline(local_stack, names, tmp_path_factory):
    """The streaming job over the run's topic, into the run's database."""
    pipeline = StreamingJob(local_stack, names, tmp_path_factory.mktemp("stream") / f"{STREAM}.log")
    try:
        yield pipeline
    finally:
        pipeline.stop()


@pytest.fixture(scope="session")
def api(local_stack, names, pipeline, tmp_path_factory):
    """The game API under gunicorn against the stack's Kafka and Trino; the dashboard reads the run's
    database with a short cache. Auth is on with the dev login, as in kind: /play logs in first."""
    from questline_api.auth import new_key

    keys = tmp_path_factory.mktemp("browser-api-keys")
    new_key(keys, "k1")
    server = Gunicorn(
        local_stack.kafka_bootstrap,
        tmp_path_factory.mktemp("browser-api") / "gunicorn.log",
        workers=2,
        **local_stack.trino_env("dashboard"),
        **local_stack.kafka_env("api"),
        QUESTLINE_EVENTS_TOPIC=names.topic,
        QUESTLINE_DATABASE=names.database,
        QUESTLINE_API_DASHBOARD_CACHE_SECONDS="2",
        QUESTLINE_API_AUTH="true",
        QUESTLINE_API_AUTH_KEYS_DIR=str(keys),
        QUESTLINE_API_AUTH_DEV_LOGIN="true",
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def broken_api(tmp_path_factory):
    """The API with nothing behind it: Kafka and Trino on ports where nobody listens."""
    server = Gunicorn(
        f"127.0.0.1:{free_port()}",
        tmp_path_factory.mktemp("broken-api") / "gunicorn.log",
        workers=1,
        QUESTLINE_TRINO_URL=f"http://127.0.0.1:{free_port()}",
        QUESTLINE_API_PRODUCE_TIMEOUT="1",
        QUESTLINE_API_RETRY_AFTER="2",
    ).start(ready_path="/healthz")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def trino_cursor(local_stack, pipeline):
    """A cursor on the run's database."""
    with contextlib.closing(local_stack.trino_connect(catalog=TRINO_CATALOG, schema=pipeline.database)) as conn:
        yield conn.cursor()


@pytest.fixture
def player_id():
    """A player of this test only: runs sharing the stack never see each other's rows."""
    return f"web-{uuid.uuid4().hex[:12]}"

"""Browser test fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Fixtures for every browser test:
- `browser`: one headless Chromium for the whole run (session-scoped).
- `new_page()`: a page in a fresh browser context (own cookies), 1280x860, 10 s default timeout;
  call it more than once to have several people signed in at the same time.
- `page`: one such page.
  Any uncaught script error or failed static file fails the test.
- `signed_in_page(user, password=...)`: a fresh page signed in through the real login form.
- `screenshot(page, name, full_page=True)`: a PNG at tests/artifacts/<name>.png; returns the path.
Mark browser tests with `@pytest.mark.browser`.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make between browser
# steps are still plain synchronous calls, so Django's "async unsafe" guard would only get in the way.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# The live server listens on loopback only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
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
VIEWPORT = {"width": 1280, "height": 860}
DEFAULT_TIMEOUT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
# The password tests.factories.UserFactory gives every user.
FACTORY_PASSWORD = "pass-word-123"


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (Debian's chromium package).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server, transactional_db) -> Iterator[Callable]:
    contexts = []
    # Uncaught script errors and missing static files fail the test: the page would look or act broken.
    problems: list[str] = []

    def make(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or VIEWPORT, base_url=live_server.url)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} for {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "The browser saw problems: " + "; ".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, email: str, password: str) -> None:
    """Sign in through the real login form and wait until the portal has loaded."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def signed_in_page(new_page) -> Callable:
    def make(user, password: str = FACTORY_PASSWORD, viewport: dict | None = None):
        page = new_page(viewport)
        sign_in(page, user.email, password)
        return page

    return make


def take_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Write tests/artifacts/<name>.png (the whole page unless full_page=False) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Animations finished, so a sliding menu is photographed where it ends up.
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


@pytest.fixture
def screenshot() -> Callable:
    return take_screenshot

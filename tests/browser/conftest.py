"""Playwright driving Debian's Chromium against the live test server."""

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (fixtures, assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("HIRETEXT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Generous enough for a loaded machine (parallel runs on two cores); passing steps never wait.
TIMEOUT_MS = int(os.environ.get("HIRETEXT_BROWSER_TIMEOUT_MS", "15000"))
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run ./scripts/ensure-system-deps")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """`new_page()` opens a page in a fresh context (its own cookies) on the live server."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def login(page: Page, email: str, password: str = "pw-123456") -> None:
    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)


def live_search(page: Page, box, text: str, *, typed: bool = False) -> None:
    """Type into a live-search box and wait until the rows answering exactly `text` are shown."""

    def answers(response) -> bool:
        query = parse_qs(urlsplit(response.url).query)
        return response.request.headers.get("hx-request") == "true" and query.get("q") == [text]

    with page.expect_response(answers):
        if typed:
            box.press_sequentially(text, delay=30)
        else:
            box.fill(text)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")

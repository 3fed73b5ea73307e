"""The workspace in a real browser (Playwright driving Debian's chromium) on the real stack.

``UPDATE_SCREENSHOT=1`` also writes the screenshot to ``docs/workspace.png`` (the README's).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, RunningStack
from tests.factories import PAGE_ID, X_ACCOUNT_ID, context_dict
from tests.services import missing_service

CHROMIUM = Path("/usr/bin/chromium")
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
AGENT = "lee_browser"
PASSWORD = "correct horse staple"
ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (.venv/bin/pip install playwright)"
    return None


@pytest.fixture(scope="module")
def page(stack: RunningStack) -> Iterator[Any]:
    """A chromium page; the test skips without the browser, and fails so under CI."""
    missing = _missing()
    if missing:
        missing_service("the browser", missing, "see README.md, Tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1360, "height": 900})
        finally:
            browser.close()


def x_consumer(stack: RunningStack) -> str:
    """A consumer who tweets at the brand, continues in a DM and asks for a person."""
    user = str(uuid.uuid4().int)[:18]
    author = {"id": user, "name": "Pat Example", "handle": "pat_example"}
    sender = f"twitter:{X_ACCOUNT_ID}:{user}"
    tweet = context_dict("tweet", author=author, event_id=f"18740{user}")
    stack.say(sender, "@brightcart my parcel BC-104233 never arrived!!", {"social": tweet})
    for number, text in enumerate(
        ["hi, about my tweet: the parcel never came", "BC-104233", "I want to talk to a person"]
    ):
        dm = context_dict("twitter_dm", author=author, thread_id=user, event_id=f"9{number}{user}")
        stack.say(sender, text, {"social": dm})
    return sender


def test_an_agent_works_a_handoff_in_the_browser(
    stack: RunningStack, page: Any, tmp_path: Path
) -> None:
    stack.bot_cli(
        *("agents", "add", AGENT, "--skill", "deliveries", "--skill", "care_private"),
        *("--password", PASSWORD),
    )
    page.goto(stack.workspace("/"))
    page.fill("#name", AGENT)
    page.fill("#password", PASSWORD)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#work-view:not([hidden])")
    page.check("#online")
    page.wait_for_selector("#online-label:text('Online')")

    # A consumer asks for a person over REST: the queue shows them without a reload.
    sender = f"e2e-browser-{uuid.uuid4().hex[:10]}"
    stack.say(sender, "my package never showed up")
    stack.say(sender, "BC-104233")
    stack.say(sender, "I want to talk to a person")
    entry = page.locator(".entry", has_text="Consumer").first
    entry.wait_for(timeout=15_000)
    assert "waiting" in entry.inner_text()

    entry.click()
    page.wait_for_selector("#accept:not([hidden])")
    assert "Delivery problems with an order number" in page.inner_text("#reason")
    assert "order_number: BC-104233" in page.inner_text("#understood")
    page.click("#accept")
    page.wait_for_selector("#composer:not([hidden])")
    page.fill("#text", "Hi, Lee here: your parcel is with DPD, arriving Friday.")
    page.click("#send")
    page.wait_for_selector(".item.agent:has-text('Lee here')")

    agent_lines = [
        event["text"]
        for event in stack.tracker(sender)["events"]
        if event["event"] == "bot" and (event.get("metadata") or {}).get("origin") == "agent"
    ]
    assert agent_lines == ["Hi, Lee here: your parcel is with DPD, arriving Friday."]
    assert stack.say(sender, "thanks! and /restart") == []  # still the agent's conversation

    page.click("#close")
    page.wait_for_selector("#mine .empty")
    assert [m["text"] for m in stack.say(sender, "where is my order?")] == [ASK_NUMBER]

    # A consumer from X, public and private in one story: accepted, a public reply drafted.
    x_consumer(stack)
    x_entry = page.locator(".entry", has_text="Pat Example").first
    x_entry.wait_for(timeout=15_000)
    x_entry.click()
    page.wait_for_selector("#accept:not([hidden])")
    page.click("#accept")
    page.wait_for_selector("#composer:not([hidden])")
    page.wait_for_selector(".item.consumer .badge.public")
    page.click(".item.consumer >> text=Reply publicly")
    page.fill("#text", "So sorry, Pat! We've sent you a DM with the details.")
    jane = str(uuid.uuid4().int)[:16]
    messenger = context_dict(
        "messenger", thread_id=jane, author={"id": jane, "name": "Jane Doe", "handle": None}
    )
    stack.say(f"facebook:{PAGE_ID}:{jane}", "I want to talk to a human", {"social": messenger})
    page.locator(".entry", has_text="Jane Doe").first.wait_for(timeout=15_000)
    assert page.inner_text("#reply-target").startswith("Public reply to")

    shot = tmp_path / "workspace.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "workspace.png")

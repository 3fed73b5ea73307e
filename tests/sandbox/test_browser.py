"""The consumer UI in a real browser (Playwright driving Debian's chromium).

A consumer comments and writes in Messenger and on X through the page; the test, acting as the
brand through the Graph and X APIs, answers; the page shows each answer where the platform would,
with its PUBLIC or PRIVATE marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import BRAND_X_ID, JANE_PSID, LINEN_POST

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
GRAPH_TOKEN = {"access_token": TEST_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]}
X_HEADERS = {"Authorization": f"Bearer {TEST_SECRETS['X_ACCESS_TOKEN']}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing at /usr/bin/chromium: run `make setup` "
            "(scripts/bootstrap.sh installs it with apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, sandbox: RunningSandbox) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.goto(sandbox.base_url + "/")
    yield opened
    context.close()


def _new_id(before: set[str], after: list[str]) -> str:
    [new] = [item for item in after if item not in before]
    return new


def test_a_comment_gets_its_public_reply_and_a_message_its_private_answer(
    page: Page, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    post = page.locator(f'article[data-post-id="{LINEN_POST}"]')
    post.locator(f'input[data-draft="comment:{LINEN_POST}"]').fill("Is this available in blue?")
    post.get_by_role("button", name="Send").click()
    comment = post.locator(".comment", has_text="Is this available in blue?")
    expect(comment).to_be_visible()
    comment_id = comment.get_attribute("data-comment-id")
    answer = "Hi Jane, it is! Continue in a private message: https://m.me/brightcart?ref=pub-c1"
    httpx.post(
        f"{sandbox.graph_url()}/{comment_id}/comments", params=GRAPH_TOKEN, json={"message": answer}
    ).raise_for_status()

    reply = comment.locator(".replies .comment.page")
    expect(reply).to_contain_text("Hi Jane, it is!")
    expect(reply.locator(".marker")).to_have_text("PUBLIC")

    page.locator("#messenger-text").fill("Where is my order?")
    page.locator("#messenger-form button").click()
    expect(page.locator("#messenger-thread")).to_contain_text("Where is my order?")
    httpx.post(
        f"{sandbox.graph_url()}/me/messages",
        params=GRAPH_TOKEN,
        json={
            "recipient": {"id": JANE_PSID},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "What's your order number?",
                "quick_replies": [
                    {"content_type": "text", "title": "BC-104233", "payload": "ORDER"}
                ],
            },
        },
    ).raise_for_status()

    thread = page.locator("#messenger-thread")
    expect(thread.locator(".msg.theirs")).to_contain_text("What's your order number?")
    expect(page.locator("#messenger h2 .marker")).to_have_text("PRIVATE")
    shot = tmp_path / "sandbox.png"
    page.screenshot(path=str(shot), full_page=True)
    content = page.content()
    for text in ("Is this available in blue?", "Hi Jane, it is!", "What's your order number?"):
        assert text in content
    assert shot.stat().st_size > 10_000


def test_a_quick_reply_chip_and_an_m_me_link_send_their_webhooks(
    page: Page, sandbox: RunningSandbox
) -> None:
    commented = sandbox.client.comment("jane", LINEN_POST, "Help!")
    answer = "We'd like to help: https://m.me/brightcart?ref=pub-42"
    httpx.post(
        f"{sandbox.graph_url()}/{commented.comment_id}/comments",
        params=GRAPH_TOKEN,
        json={"message": answer},
    ).raise_for_status()

    page.get_by_role("button", name="Continue in Messenger").click()
    expect(page.locator("#messenger-thread")).to_contain_text("ref=pub-42")
    [referral] = sandbox.client.deliveries(kind="referral")
    assert referral.json_body()["entry"][0]["messaging"][0]["referral"]["ref"] == "pub-42"

    httpx.post(
        f"{sandbox.graph_url()}/me/messages",
        params=GRAPH_TOKEN,
        json={
            "recipient": {"id": JANE_PSID},
            "message": {
                "text": "Is it about an order?",
                "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "YES"}],
            },
        },
    ).raise_for_status()
    page.locator("#messenger-thread").get_by_role("button", name="Yes").click()
    expect(page.locator("#messenger-thread .msg.mine").last).to_contain_text("Yes")
    [tap] = sandbox.client.deliveries(kind="quick_reply")
    assert tap.json_body()["entry"][0]["messaging"][0]["message"]["quick_reply"] == {
        "payload": "YES"
    }


def test_a_reply_tweet_with_a_dm_link_opens_the_dm_pane_prefilled(
    page: Page, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    before = {post["id"] for post in sandbox.client.state()["timeline"]}
    page.locator("#tweet-text").fill("@Brightcart my order never arrived")
    page.locator("#tweet-form button").click()
    expect(page.locator("#x-posts")).to_contain_text("my order never arrived")
    mention = _new_id(before, [post["id"] for post in sandbox.client.state()["timeline"]])
    link = f"https://x.com/messages/compose?recipient_id={BRAND_X_ID}&text={quote('Order help')}"
    httpx.post(
        f"{sandbox.x_api_url}/2/tweets",
        headers=X_HEADERS,
        json={
            "text": f"Sorry Pat! Let's fix it in private {link}",
            "reply": {"in_reply_to_tweet_id": mention},
        },
    ).raise_for_status()

    reply = page.locator(f'[data-tweet-id="{mention}"] .replies .tweet.brand')
    expect(reply).to_contain_text("Sorry Pat!")
    expect(reply.locator(".marker")).to_have_text("PUBLIC")
    reply.get_by_role("button", name="Send a private message").click()
    expect(page.locator("#dm-text")).to_have_value("Order help")
    page.locator("#dm-form button").click()
    expect(page.locator("#dm-thread")).to_contain_text("Order help")
    page.screenshot(path=str(tmp_path / "sandbox-x.png"), full_page=True)

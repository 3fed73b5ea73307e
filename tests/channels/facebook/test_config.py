from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ConfigurationError
from channels.facebook.config import CtaMode, EditPolicy, FacebookConfig
from tests.channels.facebook.factories import OTHER_PAGE_ID, make_config, page, settings
from tests.factories import PAGE_ID


def test_a_minimal_configuration_gets_the_documented_defaults() -> None:
    config = make_config()

    assert config.graph_version == "v19.0"
    assert config.accept_sha1_only is False
    assert config.edits is EditPolicy.NEW_IF_UNANSWERED
    assert config.max_body_bytes == 1024 * 1024
    [only] = config.pages
    assert (only.enabled, only.public, only.private_replies) == (True, True, True)
    assert only.cta_mode is CtaMode.PRIVATE_REPLY


@pytest.mark.parametrize(
    ("private_replies", "cta", "expected"),
    [
        (True, None, CtaMode.PRIVATE_REPLY),
        (False, None, CtaMode.PUBLIC_LINK),
        (True, "both", CtaMode.BOTH),
        (True, "public_link", CtaMode.PUBLIC_LINK),
        (False, "public_link", CtaMode.PUBLIC_LINK),
    ],
)
def test_the_call_to_action_mode_follows_private_replies_unless_set(
    private_replies: bool, cta: str | None, expected: CtaMode
) -> None:
    options: dict[str, Any] = {"private_replies": private_replies}
    if cta is not None:
        options["cta"] = cta

    config = make_config(pages=[page(**options)])

    assert config.pages[0].cta_mode is expected


def test_pages_are_found_by_id() -> None:
    config = make_config(pages=[page(), page(OTHER_PAGE_ID, enabled=False)])

    assert config.page(OTHER_PAGE_ID) is config.pages[1]
    assert config.page("1") is None


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"app_secret": ""}, "app_secret", "at least 1 character"),
        ({"verify_token": None}, "verify_token", "none is not an allowed value"),
        ({"pages": []}, "pages", "at least 1 items"),
        ({"pages": [page(access_token="")]}, "pages[0].access_token", "at least 1"),
        ({"pages": [page(), {"id": OTHER_PAGE_ID}]}, "pages[1].access_token", "field required"),
        ({"pages": [page(id="brightcart")]}, "pages[0].id", "string does not match"),
        ({"pages": [page(), page()]}, "pages", f"page {PAGE_ID} is listed twice"),
        (
            {"pages": [page(private_replies=False, cta="both")]},
            "pages[0].cta",
            "'both' sends a Private Reply, but private_replies is false",
        ),
        ({"pages": [page(cta="dm")]}, "pages[0].cta", "value is not a valid enumeration"),
        ({"pages": [page(privat_replies=False)]}, "pages[0].privat_replies", "extra fields"),
        ({"edits": "sometimes"}, "edits", "value is not a valid enumeration"),
        ({"graph_url": "graph.facebook.com"}, "graph_url", "expected an http(s) URL"),
        ({"graph_version": "19"}, "graph_version", "string does not match"),
        ({"max_body_bytes": 0}, "max_body_bytes", "greater than 0"),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_file_and_key(
    overrides: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_config(**overrides)

    assert caught.value.file == "credentials.yml"
    assert caught.value.key == f"channels.facebook.FacebookInput.{key}"
    assert str(caught.value).startswith(f"credentials.yml channels.facebook.FacebookInput.{key}: ")
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    values = settings(app_secret="", pages=[page(access_token="")])

    with pytest.raises(ConfigurationError) as caught:
        FacebookConfig.from_credentials(values)

    assert caught.value.key == "channels.facebook.FacebookInput.app_secret"
    assert "also pages[0].access_token:" in str(caught.value)


def test_a_missing_section_says_what_is_expected() -> None:
    with pytest.raises(ConfigurationError, match="expected a mapping with app_secret"):
        FacebookConfig.from_credentials(None)

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.context import Platform, SocialContext, Source, Visibility
from bot.errors import InvalidSocialContext
from tests.factories import SOURCES, context_dict, make_context


@pytest.mark.parametrize("source", SOURCES)
def test_context_round_trips_through_metadata(source: str) -> None:
    context = make_context(source)

    metadata = context.to_metadata()

    assert metadata == {"social": context_dict(source)}
    assert SocialContext.from_metadata(metadata) == context


@pytest.mark.parametrize(
    ("source", "platform", "visibility"),
    [
        ("messenger", Platform.FACEBOOK, Visibility.PRIVATE),
        ("facebook_comment", Platform.FACEBOOK, Visibility.PUBLIC),
        ("facebook_post", Platform.FACEBOOK, Visibility.PUBLIC),
        ("twitter_dm", Platform.TWITTER, Visibility.PRIVATE),
        ("tweet", Platform.TWITTER, Visibility.PUBLIC),
    ],
)
def test_each_source_belongs_to_one_platform_and_visibility(
    source: str, platform: Platform, visibility: Visibility
) -> None:
    context = make_context(source)

    assert (context.source, context.platform, context.visibility) == (
        Source(source),
        platform,
        visibility,
    )
    assert context.is_public is (visibility is Visibility.PUBLIC)


@pytest.mark.parametrize("source", SOURCES)
def test_the_written_out_dict_is_every_field_as_pydantic_sees_it(source: str) -> None:
    # to_dict is written by hand for speed: a field added to the model and not to it fails here.
    context = make_context(source, parent_id=None, referral="ref-1")
    if context.is_public:
        context = make_context(source, parent_id="parent-1")

    assert context.to_dict() == json.loads(context.json())


def test_metadata_uses_the_contract_field_names_and_plain_values() -> None:
    social = make_context("tweet").to_metadata()["social"]

    assert set(social) == {
        "version",
        "platform",
        "visibility",
        "source",
        "account_id",
        "event_id",
        "thread_id",
        "parent_id",
        "author",
        "referral",
    }
    assert set(social["author"]) == {"id", "name", "handle"}
    assert (social["platform"], social["visibility"], social["source"]) == (
        "twitter",
        "public",
        "tweet",
    )


@pytest.mark.parametrize("metadata", [None, {}, {"social": None}, {"is_external": True}])
def test_messages_without_social_context_read_as_none(metadata: dict[str, Any] | None) -> None:
    assert SocialContext.from_metadata(metadata) is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"author": {"name": "Jane"}}, "author.id", "field required"),
        ({"event_id": ""}, "event_id", "at least 1"),
        ({"visibility": "secret"}, "visibility", "not a valid enumeration member"),
        ({"platform": "twitter"}, "platform", "belongs to 'facebook'"),
        ({"visibility": "public"}, "visibility", "is private, not public"),
        ({"parent_id": "123"}, "parent_id", "must be null for a private message"),
        ({"version": 2}, "version", "expected 1, got 2"),
    ],
)
def test_invalid_context_names_the_wrong_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidSocialContext) as caught:
        SocialContext.from_metadata({"social": context_dict("messenger", **overrides)})

    assert field in caught.value.fields
    assert f"social.{field}: " in str(caught.value)
    assert message in str(caught.value)


def test_social_metadata_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidSocialContext, match="expected an object, got str"):
        SocialContext.from_metadata({"social": "public"})


def test_fields_added_by_newer_writers_are_ignored() -> None:
    raw = context_dict("tweet", language="en", campaign="spring")

    context = SocialContext.from_metadata({"social": raw})

    assert context == make_context("tweet")


def test_context_is_immutable() -> None:
    context = make_context()

    with pytest.raises(TypeError):
        context.thread_id = "other"  # type: ignore[misc]


_ids = st.text(alphabet="0123456789abcdef_", min_size=1, max_size=30)


@given(source=st.sampled_from(SOURCES), event_id=_ids, name=st.none() | st.text(max_size=40))
def test_any_valid_context_survives_the_round_trip(
    source: str, event_id: str, name: str | None
) -> None:
    base = context_dict(source)
    context = make_context(source, event_id=event_id, author={**base["author"], "name": name})

    assert SocialContext.from_metadata(context.to_metadata()) == context

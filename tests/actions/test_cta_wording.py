"""The call to action's wording in domain.yml, as Rasa picks it per channel and ``cta_mode``; and
the README's recipe for languages, applied to the same responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.public_thread import CTA_RESPONSE

ROOT = Path(__file__).resolve().parents[2]
SLOTS = {
    "cta_name": "Jane",
    "cta_link": "https://m.me/brightcart?ref=pub-1",
    "cta_comment": "where is my order?",
}
# The README's recipe for a second language: every Facebook variation names its language and
# the page mode it is for (conditions are equalities, all must hold, and any matching conditional
# variation of the channel beats the unconditional ones); X needs no mode, so its English wording
# may stay unconditional.
LANGUAGES = """
responses:
  utter_public_to_private:
    - channel: facebook
      condition:
        - {type: slot, name: language, value: de}
        - {type: slot, name: cta_mode, value: private_reply}
      text: >-
        Hallo {cta_name}, danke für deinen Kommentar ("{cta_comment}"). Antworte einfach auf
        diese Nachricht, wir kümmern uns persönlich darum.
    - channel: facebook
      condition:
        - {type: slot, name: language, value: de}
        - {type: slot, name: cta_mode, value: public_link}
      text: "Hallo {cta_name}, schreib uns bitte eine private Nachricht: {cta_link}"
    - channel: facebook
      condition:
        - {type: slot, name: language, value: en}
        - {type: slot, name: cta_mode, value: private_reply}
      text: >-
        Hi {cta_name}, thanks for your comment on our post ("{cta_comment}"). Just reply to this
        message and we'll pick it up from there.
    - channel: facebook
      condition:
        - {type: slot, name: language, value: en}
        - {type: slot, name: cta_mode, value: public_link}
      text: "Hi {cta_name}, thanks for reaching out! Please send us a private message: {cta_link}"
    - channel: twitter
      condition:
        - {type: slot, name: language, value: de}
      text: "{cta_name} das tut uns leid! Schreib uns bitte eine DM: {cta_link}"
    - channel: twitter
      text: "{cta_name} sorry to hear that! Please send us a DM: {cta_link}"
    - text: "Hi {cta_name}, please continue in a private message: {cta_link}"
"""


@pytest.fixture(scope="module")
def responses() -> dict[str, list[dict[str, Any]]]:
    return dict(Domain.load(ROOT / "domain.yml").responses)


def wording(responses: dict[str, list[dict[str, Any]]], channel: str, **slots: Any) -> str:
    generator = TemplatedNaturalLanguageGenerator(responses)
    message = generator.generate_from_slots(CTA_RESPONSE, {**SLOTS, **slots}, channel)
    assert message is not None
    return str(message["text"])


@pytest.mark.parametrize(
    ("channel", "mode", "start"),
    [
        ("facebook", "private_reply", 'Hi Jane, thanks for your comment on our post ("where is my'),
        ("facebook", "public_link", "Hi Jane, thanks for reaching out!"),
        ("facebook", "both", "Hi Jane, thanks for reaching out!"),
        ("twitter", "public_link", "Jane sorry to hear that!"),
        ("rest", "public_link", "Hi Jane, we'd like to help with this."),
    ],
)
def test_the_wording_follows_the_channel_and_the_page_s_mode(
    responses: dict[str, list[dict[str, Any]]], channel: str, mode: str, start: str
) -> None:
    text = wording(responses, channel, cta_mode=mode)

    assert text.startswith(start)
    assert "{" not in text
    assert mode == "private_reply" or SLOTS["cta_link"] in text


@pytest.mark.parametrize(
    ("channel", "language", "mode", "start"),
    [
        ("facebook", "de", "private_reply", "Hallo Jane, danke für deinen Kommentar"),
        ("facebook", "de", "public_link", "Hallo Jane, schreib uns bitte"),
        ("facebook", "en", "private_reply", "Hi Jane, thanks for your comment"),
        ("facebook", "en", "public_link", "Hi Jane, thanks for reaching out!"),
        ("twitter", "de", "public_link", "Jane das tut uns leid!"),
        ("twitter", "en", "public_link", "Jane sorry to hear that!"),
    ],
)
def test_the_readme_s_language_recipe_picks_one_wording(
    channel: str, language: str, mode: str, start: str
) -> None:
    responses = dict(Domain.from_yaml(LANGUAGES).responses)

    texts = {wording(responses, channel, cta_mode=mode, language=language) for _ in range(20)}

    [text] = texts
    assert text.startswith(start)

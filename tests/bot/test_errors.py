"""The exception tree's own behaviour: what a refusal of a webhook request says."""

from __future__ import annotations

import pytest

from bot.errors import BadSignature, InboundError, MalformedPayload, PayloadTooLarge


@pytest.mark.parametrize(
    "error_class", [InboundError, BadSignature, MalformedPayload, PayloadTooLarge]
)
def test_a_refusal_that_quotes_too_much_of_the_request_is_cut_saying_so(
    error_class: type[InboundError],
) -> None:
    error = error_class("object: expected 'page', got '" + "z" * 5000 + "'")

    message = str(error)

    assert message.startswith("object: expected 'page', got 'zzz")
    assert len(message) < InboundError.MAX_MESSAGE + 40
    assert message.endswith("... (4531 more characters)")


def test_a_short_refusal_is_kept_whole() -> None:
    assert str(MalformedPayload("the body is not JSON")) == "the body is not JSON"

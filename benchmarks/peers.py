"""Rasa's built-in Facebook channel, as the benchmark's peer, pointed at the sandbox's Graph API.

The built-in channel sends through the ``fbmessenger`` package, whose Graph base URL is an
attribute of its client (``MessengerClient.graph_url``); ``BENCH_BUILTIN_GRAPH_URL`` replaces it.
Nothing else of the channel changes: it is measured as Rasa ships it.
"""

from __future__ import annotations

import os
from typing import Any

import fbmessenger
from rasa.core.channels.facebook import FacebookInput

__all__ = ["BuiltinFacebookInput"]

_client_init = fbmessenger.MessengerClient.__init__


def _sandboxed_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _client_init(self, *args, **kwargs)
    graph_url = os.environ.get("BENCH_BUILTIN_GRAPH_URL")
    if graph_url:
        self.graph_url = graph_url


fbmessenger.MessengerClient.__init__ = _sandboxed_init  # type: ignore[method-assign]


class BuiltinFacebookInput(FacebookInput):  # type: ignore[misc]
    """Rasa's ``facebook`` channel at ``/webhooks/facebook_builtin/webhook``."""

    @classmethod
    def name(cls) -> str:
        return "facebook_builtin"

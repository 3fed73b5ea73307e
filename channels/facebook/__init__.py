"""The Facebook channel: Messenger and Page posts and comments, public or private.

In credentials.yml, under ``channels.facebook.FacebookInput:`` (see ``config.py``). Modules:
``config`` (settings), ``wire`` (webhook models), ``verify`` (handshake, signatures),
``normalise`` (deliveries → events), ``graph`` (Graph API client and its error map), ``render``
(responses → Send API messages), ``window`` (messaging windows), ``sender`` (the brand's
operations, also for the workspace), ``output`` and ``input`` (Rasa's channel classes).
"""

from __future__ import annotations

from channels.facebook.input import FacebookInput
from channels.facebook.output import FacebookOutput
from channels.facebook.sender import FacebookSender

__all__ = ["FacebookInput", "FacebookOutput", "FacebookSender"]

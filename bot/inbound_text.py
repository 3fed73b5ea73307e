"""What consumers type, made safe for Rasa: the ``/intent`` syntax is neutralised.

Rasa reads a text that starts with ``/`` (after whitespace) as a command: ``/restart`` restarts the
conversation, ``/request_human{"x": 1}`` sets an intent and entities. A consumer on a social
network must not drive the bot that way, so the channels pass every consumer-typed text through
``neutralise_commands``. Quick-reply and postback payloads the bot itself offered are not
consumer-typed and stay as they are.
"""

from __future__ import annotations

__all__ = ["COMMAND_PREFIX", "neutralise_commands"]

COMMAND_PREFIX = "/"
_LOOKALIKE_SLASH = "\u2215"  # DIVISION SLASH: looks like "/", is not Rasa's command prefix


def neutralise_commands(text: str) -> str:
    """The text without its leading ``/`` characters, so Rasa's NLU reads it as words.

    ``"/restart"`` → ``"restart"``; ``"  //human"`` → ``"human"``; a text of slashes only becomes
    a look-alike slash. Texts not starting with ``/`` are returned unchanged.
    """
    stripped = text.lstrip()
    if not stripped.startswith(COMMAND_PREFIX):
        return text
    words = stripped.lstrip(COMMAND_PREFIX).lstrip()
    return words or _LOOKALIKE_SLASH

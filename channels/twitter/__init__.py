"""The X (Twitter) channel: mentions, replies and DMs, public and private, on both webhook formats.

``credentials.yml`` names it ``channels.twitter.TwitterInput``; see ``config.py`` for its keys.
``XSender`` offers the same operations to callers without Rasa (the agents' workspace).
"""

from channels.twitter.input import TwitterInput
from channels.twitter.output import TwitterOutput
from channels.twitter.sender import XSender

__all__ = ["TwitterInput", "TwitterOutput", "XSender"]

"""The X (Twitter) channel: mentions, replies and DMs, public and private, on both webhook formats.

``credentials.yml`` names it ``channels.twitter.TwitterInput``; see ``config.py`` for its keys.
"""

from channels.twitter.input import TwitterInput

__all__ = ["TwitterInput"]

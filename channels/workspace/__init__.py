"""The agents' workspace: a web page and a JSON API served by the Rasa server."""

from channels.workspace.channel import WorkspaceInput

__all__ = ["WorkspaceInput"]

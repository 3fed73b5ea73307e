"""The base of every X wire model: parsed once at the edge, unknown fields ignored, immutable."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A shape X sends; fields X adds later are ignored, never fatal."""

    class Config:
        extra = "ignore"
        allow_mutation = False

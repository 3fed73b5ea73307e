"""The package's public surface: what credentials.yml, Rasa and the workspace import."""

from __future__ import annotations

import importlib

import pytest

import channels.twitter

MODULES = [
    "wire",
    "api",
    "config",
    "input",
    "links",
    "normalise",
    "options",
    "output",
    "sender",
    "verify",
    "wire_aaa",
    "wire_xaa",
]


def test_the_package_exports_the_channel_classes() -> None:
    assert channels.twitter.__all__ == ["TwitterInput", "TwitterOutput", "XSender"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_an_explicit_surface_of_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"channels.twitter.{name}")

    assert module.__all__
    assert [n for n in module.__all__ if not hasattr(module, n)] == []

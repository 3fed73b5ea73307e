"""A burst: many consumer events at once, each in its own delivery, all queued before any goes out.

A platform under load does not wait for one webhook call to end before it sends the next event:
the deliverer's senders then take the queued deliveries N at a time. ``POST .../burst`` checks
every element against the world as it is before the burst (a bad one answers 400 naming
``events[i]``, and nothing changes), then creates the events in order and queues their deliveries.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from sandbox.control_http import ControlError
from sandbox.world import UnknownPersona

__all__ = ["burst_elements", "check_each"]

Checked = TypeVar("Checked")


def burst_elements(data: dict[str, Any], kinds: Collection[str]) -> list[dict[str, Any]]:
    """The ``events`` of a burst: a non-empty list of objects whose ``kind`` is one of ``kinds``.

    Raises:
        ControlError: naming the list, or the element, that is wrong.
    """
    elements = data.get("events")
    if not isinstance(elements, list) or not elements:
        raise ControlError("events: a non-empty list of {kind, ...} objects is required")
    for index, element in enumerate(elements):
        if not isinstance(element, dict) or element.get("kind") not in kinds:
            raise ControlError(f"events[{index}].kind: expected one of {', '.join(kinds)}")
    return elements


def check_each(
    elements: list[dict[str, Any]], check: Callable[[dict[str, Any]], Checked]
) -> list[Checked]:
    """``check`` of every element, in order, before anything is done with any of them.

    Raises:
        ControlError: 400 naming the first element ``check`` refused (``events[i].field: ...``).
    """
    checked = []
    for index, element in enumerate(elements):
        try:
            checked.append(check(element))
        except ControlError as exc:
            raise ControlError(f"events[{index}].{exc}") from exc
        except (UnknownPersona, ValueError) as exc:
            raise ControlError(f"events[{index}]: {exc}") from exc
    return checked

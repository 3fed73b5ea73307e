"""The call to action's limits at the output boundary, next to the guard (defence in depth).

``PublicThreadPolicy`` keeps to them when it decides; this is the same rule where messages leave,
for what bypasses the policy: a ``FollowupAction``, an action that utters the call to action's
response, the REST API, a reminder. A call to action to a public target is refused when

- its author is the brand's own account (a page or account never invites itself), or
- the outbound log shows one sent to the same author in the same thread within the cooldown.

The log is the social store's, so the limit holds across replicas and restarts. The cooldown is
the policy's ``cta_cooldown_hours`` (``bot.runtime.call_to_action``) unless one is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.context import Visibility
from bot.errors import CtaLimitReached, OutboundRefused, StoreError
from bot.guard import Origin, Target
from bot.outbound import OutboundLog
from bot.runtime import call_to_action

__all__ = ["CtaLimiter", "cta_refusal"]

logger = logging.getLogger(__name__)


def cta_refusal(
    target: Target, last_sent: datetime | None, now: datetime, cooldown: timedelta
) -> str | None:
    """Why a call to action must not go to ``target``, or None when it may.

    Args:
        target: where the call to action would go.
        last_sent: when its author last got one in the same thread (the outbound log), if ever.
        now: the current time.
        cooldown: one call to action per author and thread within this window.
    """
    if target.visibility is not Visibility.PUBLIC:
        return None
    if target.user_id and target.user_id == target.account_id:
        return f"a call to action is never sent to the brand's own account {target.account_id}"
    if last_sent is not None and now - last_sent < cooldown:
        return (
            f"{target.conversation_id} got a call to action in thread {target.thread_id} at "
            f"{last_sent.isoformat(timespec='seconds')}: one per author and thread in "
            f"{cooldown.total_seconds() / 3600:g} h"
        )
    return None


class CtaLimiter:
    """Answers whether a call to action may go, from the outbound log.

    Args:
        outbound: the outbound log the channels record every send in.
        cooldown: the window; by default the process's, read at each check, which
            ``PublicThreadPolicy`` sets from its ``cta_cooldown_hours`` when the model loads.
        clock: the current UTC time; by default the outbound log's, so both agree.
    """

    def __init__(
        self,
        outbound: OutboundLog,
        *,
        cooldown: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.outbound = outbound
        self._cooldown = cooldown
        self._clock = clock or outbound.clock

    @property
    def cooldown(self) -> timedelta:
        """The window in force now."""
        return call_to_action().cooldown if self._cooldown is None else self._cooldown

    def refusal(self, target: Target) -> OutboundRefused | None:
        """The refusal of a call to action to ``target``, or None. Blocking: reads the store.

        When the outbound log cannot be read the call to action is refused: one invitation too
        few is better than one too many in public.
        """
        if target.visibility is not Visibility.PUBLIC:
            return None
        try:
            last = (
                None
                if target.user_id == target.account_id
                else self.outbound.last_cta(target.conversation_id, target.thread_id)
            )
        except StoreError as error:
            logger.exception("the calls to action of %s could not be read", target.conversation_id)
            return OutboundRefused(
                f"the call to action's limits could not be checked: {error}",
                origin=Origin.CTA.value,
                target=target.visibility.value,
            )
        reason = cta_refusal(target, last, self._clock(), self.cooldown)
        if reason is None:
            return None
        return CtaLimitReached(reason, origin=Origin.CTA.value, target=target.visibility.value)

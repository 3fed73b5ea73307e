"""``Workspace``: what agents do, free of HTTP: sign in, see queues, accept, reply, close.

The web routes (``channels.workspace.channel``) are a thin translation of this class. Rights are
checked here: an agent sees and accepts handoffs of their skills (an admin: all); only the agent
who holds a handoff (or an admin) acts on it. Errors are ``bot.errors``: ``NotAuthenticated``,
``AccessDenied`` (another skill), ``InvalidInput``, ``HandoffNotFound``, ``HandoffConflict``
("already taken by Sam"), ``PlatformError`` subclasses from the platform.

An agent's message is delivered by the platform's ``AgentDelivery``, then appended to the
conversation's tracker as a bot utterance with metadata ``{"origin": "agent", "agent": name}``
(the transcript stays whole), and recorded in the outbound log, sent or failed. Accepting pauses
the bot (``ConversationPaused``, ``handoff_active: assigned``); closing resumes it
(``ConversationResumed``, ``handoff_active`` cleared) and may let it ask a closing question.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
)

from bot.errors import (
    AccessDenied,
    HandoffConflict,
    InvalidInput,
    NotAuthenticated,
    PlatformError,
    StoreError,
)
from bot.guard import Origin
from bot.handoff.agents import AgentDirectory, AgentRecord, AgentStatus, TokenKind
from bot.handoff.clock import Clock, utcnow
from bot.handoff.delivery import Delivered, DeliveryRegistry
from bot.handoff.handoffs import HandoffRecord, HandoffStatus, HandoffStore
from bot.handoff.policy import ACTIVE_SLOT, OUTCOME_SLOT
from bot.handoff.sign_in_limit import SignInLimiter
from bot.handoff.silence import ASSIGNED, QUEUED
from bot.identities import IdentityLinks
from bot.outbound import OutboundLog, OutboundStatus
from bot.routing import RoutingFile
from channels.workspace.requests import (
    CloseRequest,
    CtaRequest,
    LikeRequest,
    ReplyRequest,
    TransferRequest,
)
from channels.workspace.stories import Conversations, ConversationStories, off_loop

__all__ = ["Conversations", "Workspace"]

logger = logging.getLogger(__name__)


class Workspace:
    """The agents' operations.

    Args:
        handoffs: the store's handoffs.
        agents: the store's agents.
        routing: the routing file (skills, capacities).
        conversations: Rasa's conversations.
        deliveries: the platforms' deliveries.
        outbound: where agents' sends are recorded; None records nothing.
        links: identity links, to show a Facebook commenter's public and private conversations
            as one story; None shows the handoff's conversation only.
        closing_response: what the bot may ask after a close; None never asks.
        session_ttl: how long a browser session lasts.
        sign_in_limiter: limits failed sign-ins per agent name and client address; None: no
            limit.
        clock: the current time.
    """

    def __init__(
        self,
        *,
        handoffs: HandoffStore,
        agents: AgentDirectory,
        routing: RoutingFile,
        conversations: Conversations,
        deliveries: DeliveryRegistry,
        outbound: OutboundLog | None = None,
        links: IdentityLinks | None = None,
        closing_response: str | None = "utter_anything_else",
        session_ttl: timedelta = timedelta(hours=12),
        sign_in_limiter: SignInLimiter | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.handoffs = handoffs
        self.agents = agents
        self.routing = routing
        self.conversations = conversations
        self.deliveries = deliveries
        self.outbound = outbound
        self.links = links
        self.closing_response = closing_response
        self.session_ttl = session_ttl
        self.sign_in_limiter = sign_in_limiter
        self._clock = clock
        self._skills = {skill.name: skill for skill in routing.skills}
        self.stories = ConversationStories(handoffs, conversations, outbound, links, clock)

    # --- who ------------------------------------------------------------------------------

    async def sign_in(
        self, name: str, password: str, address: str | None = None
    ) -> tuple[AgentRecord, str]:
        """The agent and a new session token.

        Args:
            address: the client's address, for the limit of failed sign-ins.

        Raises:
            NotAuthenticated: the name or the password is wrong (which one is not said).
            SignInThrottled: too many failed sign-ins for the name or the address lately.
        """
        limiter = self.sign_in_limiter
        if limiter is not None:
            await off_loop(limiter.check, name, address)
        agent = await off_loop(self.agents.authenticate, name, password)
        if agent is None:
            if limiter is not None:
                await off_loop(limiter.failed, name, address)
            raise NotAuthenticated("wrong name or password")
        if limiter is not None:
            await off_loop(limiter.succeeded, name)
        token = await off_loop(
            self.agents.issue_token, agent.id, TokenKind.SESSION, self.session_ttl
        )
        logger.info("workspace: %s signed in", agent.name)
        return agent, token

    async def sign_out(self, token: str) -> None:
        """Ends a session (or revokes an API token)."""
        await off_loop(self.agents.revoke_token, token)

    async def agent_for(self, token: str | None) -> AgentRecord:
        """The agent of a session cookie or API token.

        Raises:
            NotAuthenticated: no token, or an unknown or expired one.
        """
        if not token:
            raise NotAuthenticated(
                "sign in first: no session cookie or 'Authorization: Bearer' token"
            )
        agent = await off_loop(self.agents.agent_for_token, token)
        if agent is None:
            raise NotAuthenticated("the session or token is unknown or expired: sign in again")
        return agent

    async def me(self, agent: AgentRecord) -> dict[str, Any]:
        """The agent, the skills they see and every skill (for transfers)."""
        return {
            **agent.as_json(),
            "visible_skills": self._visible(agent),
            "all_skills": list(self._skills),
        }

    async def set_status(self, agent: AgentRecord, status: AgentStatus) -> dict[str, Any]:
        """Online (takes new conversations) or offline."""
        changed = await off_loop(self.agents.set_status, agent.id, status)
        logger.info("workspace: %s is %s", agent.name, status.value)
        return await self.me(changed)

    # --- queues ---------------------------------------------------------------------------

    def _visible(self, agent: AgentRecord) -> list[str]:
        return [name for name in self._skills if agent.works(name)]

    def _check_skill(self, agent: AgentRecord, skill: str) -> None:
        if skill not in self._skills:
            raise InvalidInput(
                f"unknown skill {skill!r}: expected one of {', '.join(self._skills)}",
                field="skill",
            )
        if not agent.works(skill):
            raise AccessDenied(f"{agent.name} does not work the {skill} skill")

    async def queues(self, agent: AgentRecord, skill: str | None = None) -> dict[str, Any]:
        """The queues of the agent's skills (or of ``skill``), and the handoffs they hold.

        Raises:
            AccessDenied: ``skill`` is not one of the agent's.
        """
        if skill is not None:
            self._check_skill(agent, skill)
        names = [skill] if skill is not None else self._visible(agent)
        queued = await off_loop(self.handoffs.queue, names)
        mine = await off_loop(self.handoffs.assigned_to, agent.id)
        loads = await off_loop(
            self.handoffs.loads, {name: self._skills[name].capacity_per_agent for name in names}
        )
        now = self._clock()
        skills = []
        for name in names:
            waiting = [record for record in queued if record.skill == name]
            skills.append(
                {
                    "name": name,
                    "open": self._skills[name].is_open(now),
                    "agents_online": loads[name].agents_online,
                    "queued": [
                        {**record.as_json(now), "position": position}
                        for position, record in enumerate(waiting, start=1)
                    ],
                }
            )
        return {
            "skills": skills,
            "mine": [record.as_json(now) for record in mine],
            "now": now.isoformat(),
        }

    # --- one handoff ----------------------------------------------------------------------

    async def _readable(self, agent: AgentRecord, handoff_id: int) -> HandoffRecord:
        record = await off_loop(self.handoffs.get, handoff_id)
        if not agent.works(record.skill) and record.agent_id != agent.id:
            raise AccessDenied(
                f"handoff {handoff_id} is in the {record.skill} skill, which {agent.name} does "
                "not work"
            )
        return record

    async def _held(self, agent: AgentRecord, handoff_id: int) -> HandoffRecord:
        record = await self._readable(agent, handoff_id)
        if record.status is HandoffStatus.QUEUED:
            raise HandoffConflict("the handoff is waiting in the queue: accept it first")
        if record.status is not HandoffStatus.ASSIGNED:
            raise HandoffConflict(f"the handoff is {record.status.value}")
        if record.agent_id != agent.id and not agent.is_admin:
            raise HandoffConflict(
                f"the handoff is assigned to {record.agent_name}", holder=record.agent_name
            )
        return record

    async def conversation(self, agent: AgentRecord, handoff_id: int) -> dict[str, Any]:
        """Everything an agent needs to take over: who, why, what the bot understood, the story.

        Raises:
            AccessDenied: the handoff is in a skill the agent does not work.
            HandoffNotFound: no such handoff.
        """
        record = await self._readable(agent, handoff_id)
        holds = record.status is HandoffStatus.ASSIGNED and (
            record.agent_id == agent.id or agent.is_admin
        )
        view = await self.stories.view(record, holds=holds)
        public = any(
            item.get("visibility") == "public" and item["from"] == "consumer"
            for item in view["timeline"]
        )
        view["actions"] = {
            "accept": record.status is HandoffStatus.QUEUED,
            "reply_private": holds,
            "reply_public": holds and public,
            "cta": holds and public,
            "like": holds and public and record.platform == "facebook",
            "transfer": holds
            or (record.status is HandoffStatus.QUEUED and agent.works(record.skill)),
            "close": holds,
        }
        view["all_skills"] = list(self._skills)
        return view

    async def version(self, agent: AgentRecord, handoff_id: int) -> str:
        """A marker that changes whenever the conversation view would."""
        return await self.stories.version(await self._readable(agent, handoff_id))

    # --- acting ---------------------------------------------------------------------------

    async def accept(self, agent: AgentRecord, handoff_id: int) -> dict[str, Any]:
        """Takes the handoff: the bot pauses; the consumer's messages reach the agent.

        Raises:
            AccessDenied: another skill's handoff.
            HandoffConflict: another agent was faster ("already taken by Sam"), or the agent
                holds as many conversations as the skill allows.
        """
        record = await self._readable(agent, handoff_id)
        capacity = (
            self._skills[record.skill].capacity_per_agent if record.skill in self._skills else None
        )
        accepted = await off_loop(self.handoffs.accept, handoff_id, agent, capacity)
        await self.conversations.append(
            accepted.conversation_id, [ConversationPaused(), SlotSet(ACTIVE_SLOT, ASSIGNED)]
        )
        logger.info("workspace: %s accepted handoff %d", agent.name, handoff_id)
        return accepted.as_json(self._clock())

    async def reply(
        self, agent: AgentRecord, handoff_id: int, request: ReplyRequest
    ) -> dict[str, Any]:
        """Sends the agent's message in private, or in public under a consumer's message.

        Raises:
            InvalidInput: ``in_reply_to`` is not a public message of this conversation.
            OutsideMessagingWindow: Messenger's window is closed (the message says why).
            PlatformError: the platform refused the message.
        """
        record = await self._held(agent, handoff_id)
        delivery = self.deliveries.get(record.platform)
        if request.visibility == "private":
            await self.stories.check_window(record)
            return await self._send(
                agent,
                record,
                record.conversation_id,
                "private",
                request.text,
                delivery.reply_private(record.conversation_id, request.text),
                in_reply_to=None,
            )
        assert request.in_reply_to is not None  # the request model requires it in public
        target = await self.stories.public_message(record, request.in_reply_to)
        return await self._send(
            agent,
            record,
            target,
            "public",
            request.text,
            delivery.reply_public(target, request.in_reply_to, request.text, request.mention),
            in_reply_to=request.in_reply_to,
        )

    async def send_cta(
        self, agent: AgentRecord, handoff_id: int, request: CtaRequest
    ) -> dict[str, Any]:
        """Invites the consumer to continue in private, under their public message."""
        record = await self._held(agent, handoff_id)
        target = await self.stories.public_message(record, request.in_reply_to)
        delivery = self.deliveries.get(record.platform)
        return await self._send(
            agent,
            record,
            target,
            "public",
            None,
            delivery.send_cta(target, request.in_reply_to),
            in_reply_to=request.in_reply_to,
            origin=Origin.CTA,
        )

    async def like(
        self, agent: AgentRecord, handoff_id: int, request: LikeRequest
    ) -> dict[str, Any]:
        """Likes a public message of the consumer, as the brand."""
        record = await self._held(agent, handoff_id)
        target = await self.stories.public_message(record, request.object_id, field="object_id")
        delivery = self.deliveries.get(record.platform)
        try:
            delivered = await delivery.like(target, request.object_id)
        except PlatformError as error:
            await self._record_send(agent, record, target, "public", None, error=error, kind="like")
            raise
        await self._record_send(agent, record, target, "public", None, delivered=delivered)
        await off_loop(self.handoffs.record, record.id, "liked", agent, object_id=request.object_id)
        return {"delivered": asdict(delivered)}

    async def transfer(
        self, agent: AgentRecord, handoff_id: int, request: TransferRequest
    ) -> dict[str, Any]:
        """Puts the handoff in another skill's queue with a note; the bot stays quiet.

        Raises:
            InvalidInput: an unknown skill.
            HandoffConflict: another agent holds it.
        """
        if request.skill not in self._skills:
            raise InvalidInput(
                f"unknown skill {request.skill!r}: expected one of {', '.join(self._skills)}",
                field="skill",
            )
        record = await self._readable(agent, handoff_id)
        if record.status is HandoffStatus.QUEUED and not agent.works(record.skill):
            raise AccessDenied(f"{agent.name} does not work the {record.skill} skill")
        moved = await off_loop(
            self.handoffs.transfer, handoff_id, agent, request.skill, request.note
        )
        if record.status is HandoffStatus.ASSIGNED:
            # Waiting again: the consumer may leave the queue, so Rasa must predict again.
            await self.conversations.append(
                moved.conversation_id, [ConversationResumed(), SlotSet(ACTIVE_SLOT, QUEUED)]
            )
        logger.info(
            "workspace: %s transferred handoff %d to %s", agent.name, handoff_id, request.skill
        )
        return moved.as_json(self._clock())

    async def close(
        self, agent: AgentRecord, handoff_id: int, request: CloseRequest
    ) -> dict[str, Any]:
        """Ends the handoff and gives the conversation back to the bot.

        Raises:
            HandoffConflict: another agent holds it, or it is not assigned.
        """
        record = await self._readable(agent, handoff_id)
        closed = await off_loop(self.handoffs.close, handoff_id, agent)
        await self.conversations.append(
            closed.conversation_id,
            [ConversationResumed(), SlotSet(ACTIVE_SLOT, None), SlotSet(OUTCOME_SLOT, None)],
        )
        asked = None
        if request.closing_question and self.closing_response:
            asked = await self.conversations.say(closed.conversation_id, self.closing_response)
        logger.info(
            "workspace: %s closed handoff %d (was %s)", agent.name, handoff_id, record.status.value
        )
        return {**closed.as_json(self._clock()), "closing_question": asked}

    # --- helpers --------------------------------------------------------------------------

    async def _send(
        self,
        agent: AgentRecord,
        record: HandoffRecord,
        target: str,
        visibility: str,
        text: str | None,
        sending: Any,
        *,
        in_reply_to: str | None,
        origin: Origin = Origin.AGENT,
    ) -> dict[str, Any]:
        try:
            delivered: Delivered = await sending
        except PlatformError as error:
            await self._record_send(
                agent, record, target, visibility, text, error=error, origin=origin
            )
            await off_loop(
                self.handoffs.record,
                record.id,
                "send_failed",
                agent,
                error=str(error),
                error_type=type(error).__name__,
            )
            raise
        sent = delivered.text or text
        await self.conversations.append(
            target,
            [
                BotUttered(
                    sent,
                    metadata={
                        "origin": "agent",
                        "agent": agent.name,
                        "visibility": visibility,
                        "kind": delivered.kind,
                        "in_reply_to": in_reply_to,
                        "platform_message_id": delivered.platform_message_id,
                    },
                )
            ],
        )
        await self._record_send(
            agent, record, target, visibility, sent, delivered=delivered, origin=origin
        )
        await off_loop(self.handoffs.record, record.id, "replied", agent, visibility=visibility)
        return {"delivered": asdict(delivered)}

    async def _record_send(
        self,
        agent: AgentRecord,
        record: HandoffRecord,
        target: str,
        visibility: str,
        text: str | None,
        *,
        delivered: Delivered | None = None,
        error: PlatformError | None = None,
        origin: Origin = Origin.AGENT,
        kind: str = "message",
    ) -> None:
        if self.outbound is None:
            return
        try:
            await off_loop(
                lambda: self.outbound.record(  # type: ignore[union-attr]
                    sender_id=target,
                    platform=record.platform,
                    account_id=record.account_id or "",
                    origin=origin.value,
                    visibility=visibility,
                    kind=delivered.kind if delivered else kind,
                    target_id=delivered.target_id if delivered else None,
                    text=text,
                    status=OutboundStatus.SENT if delivered else OutboundStatus.FAILED,
                    platform_message_id=delivered.platform_message_id if delivered else None,
                    error=error,
                )
            )
        except StoreError:
            logger.exception("recording %s's message to %s failed", agent.name, target)

"""An agent's work through the real routes: queues, accept, the conversation, replies, close."""

from __future__ import annotations

import asyncio
import time

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, UserUttered

from bot.errors import OutsideMessagingWindow
from bot.outbound import OutboundLog, OutboundStatus
from tests.channels.workspace.conftest import PRIVATE, PUBLIC, REST_SENDER, Workbench
from tests.factories import context_dict

COMMENT = context_dict("facebook_comment")


async def test_an_agent_signs_in_with_a_password_and_the_cookie_carries_the_session(
    bench: Workbench,
) -> None:
    wrong = await bench.request("post", "/api/session", json={"name": "sam", "password": "nope"})
    right = await bench.request(
        "post", "/api/session", json={"name": "sam", "password": "sam's password"}
    )
    cookie = right.headers["set-cookie"]
    token = right.json["token"]
    me = await bench.request("get", "/api/me", cookies={"workspace_session": token})
    out = await bench.request("delete", "/api/session", cookies={"workspace_session": token})
    after = await bench.request("get", "/api/me", cookies={"workspace_session": token})

    assert wrong.status == 401
    assert wrong.json == {"error": "wrong name or password"}
    assert right.json["agent"]["name"] == "sam"
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/webhooks/workspace" in cookie
    assert me.json["visible_skills"] == ["care_private"]
    assert me.json["all_skills"] == ["care_private", "care_public", "deliveries"]
    assert out.status == 200
    assert after.status == 401


async def test_each_agent_sees_their_skills_queues_and_an_admin_sees_all(bench: Workbench) -> None:
    await bench.consumer_says(PRIVATE, "my parcel never came", "delivery_problem")
    record = await bench.hand_over()
    await bench.hand_over("facebook:1:2", skill="deliveries")

    sam = await bench.request("get", "/api/queues", "sam")
    kim = await bench.request("get", "/api/queues", "kim")
    boss = await bench.request("get", "/api/queues", "boss")

    [care] = sam.json["skills"]
    assert care["name"] == "care_private"
    [entry] = care["queued"]
    assert (entry["id"], entry["position"], entry["platform"], entry["visibility"]) == (
        record.id,
        1,
        "facebook",
        "private",
    )
    assert entry["priority"] == 2
    assert entry["consumer"]["name"] == "Jane Doe"
    assert entry["waiting_seconds"] >= 0
    assert [skill["name"] for skill in kim.json["skills"]] == ["deliveries"]
    assert [len(skill["queued"]) for skill in boss.json["skills"]] == [1, 0, 1]


async def test_accept_pauses_the_bot_and_a_second_agent_is_told_who_was_faster(
    bench: Workbench,
) -> None:
    record = await bench.hand_over()

    first, second = await asyncio.gather(
        bench.request("post", f"/api/handoffs/{record.id}/accept", "sam"),
        bench.request("post", f"/api/handoffs/{record.id}/accept", "ann"),
    )

    statuses = sorted([first.status, second.status])
    assert statuses == [200, 409]
    winner, loser = (first, second) if first.status == 200 else (second, first)
    assert loser.json["error"] == f"already taken by {winner.json['agent']}"
    assert loser.json["holder"] == winner.json["agent"]
    events = await bench.tracker_events(PRIVATE)
    assert any(isinstance(event, ConversationPaused) for event in events)
    assert await bench.slot(PRIVATE, "handoff_active") == "assigned"


async def test_the_conversation_view_tells_who_why_what_was_understood_and_the_whole_story(
    bench: Workbench,
) -> None:
    await bench.consumer_says(
        PUBLIC, "where is my parcel?!", "delivery_problem", source="facebook_comment"
    )
    await bench.consumer_says(PRIVATE, "about my comment: BC-104233", "inform", referral="pub-1")
    record = await bench.hand_over()
    bench.channel.workspace(bench.app).links.link(  # type: ignore[union-attr]
        platform="facebook",
        account_id=COMMENT["account_id"],
        public_user_id="7788990011223344",
        private_user_id="6543210987654321",
        via="referral",
    )

    view = (await bench.request("get", f"/api/handoffs/{record.id}", "sam")).json

    assert view["reason"] == "request_human"
    assert view["rule"] == "Delivery problems with an order number"
    assert view["consumer"]["name"] == "Jane Doe"
    assert view["consumer"]["conversation_ids"] == [PRIVATE, PUBLIC]
    assert [item["text"] for item in view["timeline"] if item["from"] == "consumer"] == [
        "where is my parcel?!",
        "about my comment: BC-104233",
    ]
    comment = view["timeline"][0]
    assert comment["visibility"] == "public"
    assert comment["parent"]["is_thread_root"] is True
    assert comment["intent"]["name"] == "delivery_problem"
    assert [intent["name"] for intent in view["understood"]["intents"]] == ["inform"]
    assert view["window"]["kind"] == "standard"
    assert view["actions"]["accept"] is True
    assert view["actions"]["reply_private"] is False  # not accepted yet
    assert view["handoff"]["position"] == 1


async def test_private_and_public_replies_reach_the_platform_and_the_transcript(
    bench: Workbench,
) -> None:
    await bench.consumer_says(PRIVATE, "hello?", "greet")
    await bench.consumer_says(PRIVATE, "still nothing", "complaint", source="facebook_comment")
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    private = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "Hi Jane, Sam here."}
    )
    public = await bench.request(
        "post",
        f"/api/handoffs/{record.id}/reply",
        "sam",
        json={
            "text": "we're on it",
            "visibility": "public",
            "in_reply_to": COMMENT["event_id"],
            "mention": True,
        },
    )
    liked = await bench.request(
        "post", f"/api/handoffs/{record.id}/like", "sam", json={"object_id": COMMENT["event_id"]}
    )
    invited = await bench.request(
        "post", f"/api/handoffs/{record.id}/cta", "sam", json={"in_reply_to": COMMENT["event_id"]}
    )

    assert [answer.status for answer in (private, public, liked, invited)] == [200] * 4
    assert bench.delivery.calls == [
        ("reply_private", PRIVATE, "Hi Jane, Sam here."),
        ("reply_public", PRIVATE, COMMENT["event_id"], "we're on it", True),
        ("like", PRIVATE, COMMENT["event_id"]),
        ("send_cta", PRIVATE, COMMENT["event_id"]),
    ]
    said = [event for event in await bench.tracker_events(PRIVATE) if isinstance(event, BotUttered)]
    assert [
        (
            event.text,
            event.metadata["origin"],
            event.metadata["agent"],
            event.metadata["visibility"],
        )
        for event in said
    ] == [
        ("Hi Jane, Sam here.", "agent", "sam", "private"),
        ("Jane, we're on it", "agent", "sam", "public"),
        ("Hi Jane, please DM us: https://m.me/x", "agent", "sam", "public"),
    ]
    sent = OutboundLog(bench.store).for_conversation(PRIVATE)
    assert [(item.origin, item.kind, item.status) for item in sent] == [
        ("agent", "message", OutboundStatus.SENT),
        ("agent", "comment", OutboundStatus.SENT),
        ("agent", "like", OutboundStatus.SENT),
        ("cta", "comment", OutboundStatus.SENT),
    ]
    view = (await bench.request("get", f"/api/handoffs/{record.id}", "sam")).json
    public_reply = next(
        item for item in view["timeline"] if item.get("text") == "Jane, we're on it"
    )
    assert public_reply["parent"]["text"] == "still nothing"


async def test_a_platform_refusal_is_explained_recorded_and_shown(bench: Workbench) -> None:
    await bench.consumer_says(PRIVATE, "hello?", "greet")
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")
    bench.delivery.fail_with = OutsideMessagingWindow(
        "(#10) This message is sent outside of allowed window.", platform="facebook", code=10
    )

    answer = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "Are you there?"}
    )
    view = (await bench.request("get", f"/api/handoffs/{record.id}", "sam")).json

    assert answer.status == 422
    assert answer.json == {"error": "(#10) This message is sent outside of allowed window."}
    [failed] = [item for item in view["timeline"] if item.get("status") == "failed"]
    assert (failed["text"], failed["error_type"]) == ("Are you there?", "OutsideMessagingWindow")
    assert not any(isinstance(event, BotUttered) for event in await bench.tracker_events(PRIVATE))


async def test_past_messengers_seven_days_the_reply_is_refused_before_any_call(
    bench: Workbench,
) -> None:
    await bench.consumer_says(PRIVATE, "hello?", "greet", timestamp=time.time() - 8 * 86400)
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    answer = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "Sorry for the wait"}
    )

    assert answer.status == 422
    assert "last Messenger message was 8 days ago" in answer.json["error"]
    assert "HUMAN_AGENT" in answer.json["error"]
    assert bench.delivery.calls == []


async def test_a_transfer_requeues_in_the_other_skill_with_the_note(bench: Workbench) -> None:
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    moved = await bench.request(
        "post",
        f"/api/handoffs/{record.id}/transfer",
        "sam",
        json={"skill": "deliveries", "note": "parcel lost by the carrier"},
    )
    kim = await bench.request("get", "/api/queues", "kim")
    sam_reads = await bench.request("get", f"/api/handoffs/{record.id}", "sam")

    assert moved.json["skill"] == "deliveries"
    assert moved.json["transfer_note"] == "parcel lost by the carrier"
    assert kim.json["skills"][0]["queued"][0]["id"] == record.id
    assert sam_reads.status == 403  # no longer sam's skill
    assert await bench.slot(PRIVATE, "handoff_active") == "queued"
    assert isinstance((await bench.tracker_events(PRIVATE))[-2], ConversationResumed)


async def test_close_resumes_the_bot_which_asks_its_closing_question(bench: Workbench) -> None:
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    others = await bench.request("post", f"/api/handoffs/{record.id}/close", "ann")
    closed = await bench.request("post", f"/api/handoffs/{record.id}/close", "sam")
    again = await bench.request("post", f"/api/handoffs/{record.id}/close", "sam")

    assert others.status == 409
    assert others.json["error"] == "the handoff is assigned to sam"
    assert closed.status == 200
    assert closed.json["status"] == "closed"
    assert closed.json["closing_question"] == "Is there anything else I can help you with?"
    assert again.status == 409
    events = await bench.tracker_events(PRIVATE)
    assert any(isinstance(event, ConversationResumed) for event in events)
    assert await bench.slot(PRIVATE, "handoff_active") is None
    assert events[-3].action_name == "utter_anything_else"
    assert events[-1].action_name == "action_listen"


async def test_close_without_the_closing_question(bench: Workbench) -> None:
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    closed = await bench.request(
        "post", f"/api/handoffs/{record.id}/close", "sam", json={"closing_question": False}
    )

    assert closed.json["closing_question"] is None
    assert not any(isinstance(event, BotUttered) for event in await bench.tracker_events(PRIVATE))


async def test_over_rest_the_reply_goes_into_the_tracker_and_public_actions_are_refused(
    bench: Workbench,
) -> None:
    await bench.consumer_says(REST_SENDER, "I want a human", "request_human", source=None)
    record = await bench.hand_over(REST_SENDER, platform="rest")
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    reply = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "Sam here, hello!"}
    )
    like = await bench.request(
        "post", f"/api/handoffs/{record.id}/like", "sam", json={"object_id": "anything"}
    )

    assert reply.status == 200
    assert reply.json["delivered"]["kind"] == "tracker"  # the REST channel cannot push
    said = [
        event for event in await bench.tracker_events(REST_SENDER) if isinstance(event, BotUttered)
    ]
    assert [(event.text, event.metadata["origin"]) for event in said] == [
        ("Sam here, hello!", "agent")
    ]
    assert like.status == 400
    assert like.json["field"] == "object_id"


async def test_a_platform_without_a_delivery_is_explained(bench: Workbench) -> None:
    record = await bench.hand_over("twitter:2244994945:1205290247124217856", platform="twitter")
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    answer = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "hello"}
    )

    assert answer.status == 422
    assert answer.json["error"].startswith("agents cannot reach twitter conversations")


async def test_an_unexpected_failure_is_a_500_without_a_trace(bench: Workbench) -> None:
    await bench.consumer_says(PRIVATE, "hello?", "greet")
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")
    bench.delivery.fail_with = RuntimeError("boom: secret internals")

    answer = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "hello"}
    )

    assert answer.status == 500
    assert answer.json == {"error": "internal error; see the server log"}


async def test_live_updates_stream_the_queues_and_the_conversation(bench: Workbench) -> None:
    record = await bench.hand_over()

    answer = await bench.request(
        "get", f"/api/events?limit=2&handoff={record.id}", "sam", timeout=10
    )

    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in answer.text.split("\n\n") if block]
    assert blocks[0].startswith("event: queues\ndata: ")
    assert f'"id": {record.id}' in blocks[0]
    assert blocks[1].startswith("event: conversation\ndata: ")


class PushingInput(InputChannel):
    """A channel whose conversations can be written to at any time (unlike REST)."""

    def __init__(self) -> None:
        self.output = CollectingOutputChannel()

    @classmethod
    def name(cls) -> str:
        return "pushing"

    def get_output_channel(self) -> CollectingOutputChannel:
        return self.output


async def test_where_the_conversations_channel_can_push_the_reply_is_pushed(
    bench: Workbench,
) -> None:
    pushing = PushingInput()
    bench.app.ctx.input_channels = [*bench.app.ctx.input_channels, pushing]
    tracker = await bench.agent.tracker_store.get_or_create_tracker(REST_SENDER)
    tracker.update(UserUttered("agent!", {"name": "request_human"}, input_channel="pushing"))
    await bench.agent.tracker_store.save(tracker)
    record = await bench.hand_over(REST_SENDER, platform="rest")
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")

    reply = await bench.request(
        "post", f"/api/handoffs/{record.id}/reply", "sam", json={"text": "Sam here."}
    )
    closed = await bench.request("post", f"/api/handoffs/{record.id}/close", "sam")

    assert reply.json["delivered"]["kind"] == "message"
    assert closed.json["closing_question"] == "Is there anything else I can help you with?"
    assert [message["text"] for message in pushing.output.messages] == [
        "Sam here.",
        "Is there anything else I can help you with?",
    ]

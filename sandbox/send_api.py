"""The Messenger Send API: validation, messaging windows, Private Replies, echoes.

``POST /{page-id}/messages`` (or ``/me/messages``) with ``recipient: {id}`` sends into a Messenger
thread; ``recipient: {comment_id}`` or ``{post_id}`` sends a Private Reply to a comment or a visitor
post, and answers with the commenter's PSID. Every message sent is echoed to the webhook.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.api_errors import GraphError
from sandbox.api_gate import ApiAnswer, ApiRequest
from sandbox.core import DeliveryOptions, Sandbox
from sandbox.facebook_events import echo_event, messaging_entry, page_delivery
from sandbox.world import FacebookPersona, MessengerMessage, UnknownPersona

__all__ = ["send", "validate_message"]

DAY = 86400.0
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
MAX_BUTTON_TEXT = 640
MAX_BUTTON_TITLE = 20
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
MESSAGE_TAGS = ("HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")
SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen")
MEDIA_TYPES = ("image", "audio", "video", "file")


def _invalid(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, f"(#100) {message}", subcode=subcode)


def _outside_window() -> GraphError:
    return GraphError(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)


def _unavailable() -> GraphError:
    return GraphError(551, "(#551) This person isn't available right now.", subcode=1545041)


def _object_param(params: dict[str, Any], name: str) -> Any:
    # Form-encoded calls carry nested objects as JSON strings.
    value = params.get(name)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _invalid(f"param {name} must be a JSON object") from exc
    return value


def _validate_quick_replies(replies: Any) -> None:
    if not isinstance(replies, list) or not replies:
        raise _invalid("param message[quick_replies] must be a non-empty array")
    if len(replies) > MAX_QUICK_REPLIES:
        raise _invalid(f"param message[quick_replies] must have at most {MAX_QUICK_REPLIES} items")
    for index, reply in enumerate(replies):
        if not isinstance(reply, dict):
            raise _invalid(f"param message[quick_replies][{index}] must be an object")
        if reply.get("content_type", "text") != "text":
            continue  # user_phone_number / user_email carry no title
        if len(str(reply.get("title", ""))) > MAX_QUICK_REPLY_TITLE:
            raise _invalid(
                f"param message[quick_replies][{index}][title] must be at most "
                f"{MAX_QUICK_REPLY_TITLE} characters"
            )
        if len(str(reply.get("payload", ""))) > MAX_PAYLOAD:
            raise _invalid(
                f"param message[quick_replies][{index}][payload] must be at most "
                f"{MAX_PAYLOAD} characters"
            )


def _validate_buttons(payload: dict[str, Any]) -> None:
    text, buttons = payload.get("text"), payload.get("buttons")
    if not isinstance(text, str) or not text:
        raise _invalid("param message[attachment][payload][text] is required")
    if len(text) > MAX_BUTTON_TEXT:
        raise _invalid(
            f"param message[attachment][payload][text] must be at most {MAX_BUTTON_TEXT} characters"
        )
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise _invalid("param message[attachment][payload][buttons] must have 1 to 3 buttons")
    for index, button in enumerate(buttons):
        where = f"message[attachment][payload][buttons][{index}]"
        if not isinstance(button, dict) or button.get("type") not in ("postback", "web_url"):
            raise _invalid(f"param {where}[type] must be postback or web_url")
        if not button.get("title") or len(str(button["title"])) > MAX_BUTTON_TITLE:
            raise _invalid(f"param {where}[title] must be 1 to {MAX_BUTTON_TITLE} characters")
        if button["type"] == "web_url" and not button.get("url"):
            raise _invalid(f"param {where}[url] is required for a web_url button")
        if button["type"] == "postback" and len(str(button.get("payload", ""))) > MAX_PAYLOAD:
            raise _invalid(f"param {where}[payload] must be at most {MAX_PAYLOAD} characters")


def _validate_attachment(attachment: Any) -> None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        raise _invalid("param message[attachment] must have a type and a payload")
    kind, payload = attachment.get("type"), attachment["payload"]
    if kind in MEDIA_TYPES:
        if not payload.get("url") and not payload.get("attachment_id"):
            raise _invalid("param message[attachment][payload][url] is required")
    elif kind == "template":
        if payload.get("template_type") == "button":
            _validate_buttons(payload)
        elif payload.get("template_type") != "generic":
            raise _invalid("param message[attachment][payload][template_type] is not supported")
    else:
        raise _invalid(
            f"param message[attachment][type] must be one of {', '.join(MEDIA_TYPES)}, template"
        )


def validate_message(message: Any) -> None:
    """Checks a Send API ``message`` as Meta does.

    Raises:
        GraphError: code 100 naming the parameter that is wrong.
    """
    if not isinstance(message, dict):
        raise _invalid("param message must be an object")
    text, attachment = message.get("text"), message.get("attachment")
    if (text is None) == (attachment is None):
        raise _invalid("param message must have exactly one of text or attachment")
    if text is not None:
        if not isinstance(text, str) or not text:
            raise _invalid("param message[text] must be a non-empty UTF-8 encoded string")
        if len(text) > MAX_TEXT:
            raise _invalid(
                f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
            )
    else:
        _validate_attachment(attachment)
    if "quick_replies" in message:
        _validate_quick_replies(message["quick_replies"])


def _check_window(sandbox: Sandbox, psid: str, messaging_type: Any, tag: Any) -> None:
    if messaging_type not in MESSAGING_TYPES:
        raise _invalid("param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG")
    if messaging_type == "MESSAGE_TAG" and tag not in MESSAGE_TAGS:
        raise _invalid(f"param tag must be one of {', '.join(MESSAGE_TAGS)} with MESSAGE_TAG")
    last = sandbox.world.last_consumer_message.get(psid)
    age = None if last is None else sandbox.clock.now() - last
    if messaging_type == "MESSAGE_TAG" and tag != "HUMAN_AGENT":
        return  # the other tags are for updates outside the window
    allowed = 7 * DAY if messaging_type == "MESSAGE_TAG" else DAY
    if age is None or age > allowed:
        raise _outside_window()


def _private_reply_target(
    sandbox: Sandbox, recipient: dict[str, Any]
) -> tuple[FacebookPersona, Any]:
    """The commenter (or visitor) of a Private Reply, and the comment or post answered."""
    world = sandbox.world
    if "comment_id" in recipient:
        target: Any = world.comments.get(str(recipient["comment_id"]))
        if target is None or target.removed:
            raise _invalid(f"comment_id {recipient['comment_id']} does not exist")
    else:
        target = world.posts.get(str(recipient["post_id"]))
        if target is None:
            raise _invalid(f"post_id {recipient['post_id']} does not exist")
    if target.by_page:
        raise _invalid("Private Replies cannot be sent to the page's own comments or posts")
    # Meta documents "one private reply per comment" but not the exact subcode it answers with:
    # code 10 without a subcode, and a message that says what happened.
    if target.private_reply_mid is not None:
        raise GraphError(10, "(#10) A private reply was already sent for this comment or post.")
    if sandbox.clock.now() - target.created_time > 7 * DAY:
        raise _outside_window()
    try:
        return world.facebook_persona(target.author_id), target
    except UnknownPersona as exc:
        raise _invalid("the author of this comment cannot be messaged") from exc


def send(sandbox: Sandbox, call: ApiRequest) -> ApiAnswer:
    """Handles one Send API call (messages, sender actions, Private Replies)."""
    params = call.params
    recipient = _object_param(params, "recipient")
    message = _object_param(params, "message")
    sender_action = params.get("sender_action")
    if not isinstance(recipient, dict) or not recipient:
        raise _invalid("param recipient must be non-empty.")
    if sender_action is not None and message is not None:
        raise _invalid("param sender_action cannot be sent with a message")
    if sender_action is None:
        validate_message(message)
    private = "comment_id" in recipient or "post_id" in recipient
    if private:
        persona, target = _private_reply_target(sandbox, recipient)
    else:
        try:
            persona = sandbox.world.facebook_persona(str(recipient.get("id", "")))
        except UnknownPersona as exc:
            raise _invalid("No matching user found", subcode=2018001) from exc
        if persona.psid != str(recipient.get("id")):
            raise _invalid("No matching user found", subcode=2018001)
    if persona.blocked_page:
        raise _unavailable()
    if sender_action is not None:
        if sender_action not in SENDER_ACTIONS:
            raise _invalid(f"param sender_action must be one of {', '.join(SENDER_ACTIONS)}")
        return ApiAnswer(200, {"recipient_id": persona.psid})
    if not private:
        _check_window(
            sandbox, persona.psid, params.get("messaging_type", "RESPONSE"), params.get("tag")
        )
    sent = MessengerMessage(
        mid=sandbox.ids.mid(),
        psid=persona.psid,
        from_page=True,
        timestamp_ms=sandbox.clock.now_ms(),
        kind="private_reply" if private else "message",
        text=message.get("text"),
        comment_id=str(recipient["comment_id"]) if "comment_id" in recipient else None,
        post_id=str(recipient["post_id"]) if "post_id" in recipient else None,
        message=message,
        messaging_type=params.get("messaging_type"),
        tag=params.get("tag"),
    )
    if private:
        target.private_reply_mid = sent.mid
    sandbox.world.messenger.append(sent)
    sandbox.world.touch()
    echo = page_delivery([messaging_entry(sent.timestamp_ms, [echo_event(sent)])])
    sandbox.deliver_facebook("echo", echo, DeliveryOptions())
    return ApiAnswer(200, {"recipient_id": persona.psid, "message_id": sent.mid})

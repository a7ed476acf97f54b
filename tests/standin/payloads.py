"""Build the payloads Slack sends an app, shaped as Slack sends them.

The same dicts serve both transports: sign and post them over HTTP with `signing.py`, or wrap
them in a Socket Mode envelope with `StandinSlack.send_envelope`.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

JsonDict = dict[str, Any]

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "standin"
APP_ID = "A0APP"
BOT_USER_ID = "U0BOT"
USER_ID = "U0ALICE"
USER_NAME = "alice"
CHANNEL_ID = "C0GENERAL"
CHANNEL_NAME = "general"
# Slack still sends the legacy verification token; Bolt ignores it when signatures are checked.
VERIFICATION_TOKEN = "standin-verification-token"

_sequence = itertools.count(1)


def _next_ts() -> str:
    # Unique per call, so two events built in a row never share a ts or event_id.
    return f"{int(time.time())}.{next(_sequence) % 1_000_000:06d}"


def trigger_id() -> str:
    return f"{next(_sequence)}.{int(time.time())}.{uuid.uuid4().hex[:32]}"


def slash_command(
    command: str,
    text: str = "",
    *,
    response_url: str,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    trigger: str | None = None,
) -> dict[str, str]:
    """A slash command's form fields in Slack's order; pass standin.response_url()."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger or trigger_id(),
    }


def event_callback(
    event: JsonDict,
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_id: str | None = None,
) -> JsonDict:
    """Wrap an event the way the Events API delivers it."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def app_mention(
    text: str,
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    bot_user_id: str = BOT_USER_ID,
    team_id: str = TEAM_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> JsonDict:
    """An app_mention callback; `text` gets the `<@bot>` mention prefixed if it lacks one."""
    mention = f"<@{bot_user_id}>"
    ts = ts or _next_ts()
    event: JsonDict = {
        "type": "app_mention",
        "client_msg_id": str(uuid.uuid4()),
        "text": text if mention in text else f"{mention} {text}",
        "user": user,
        "ts": ts,
        "team": team_id,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_callback(event, team_id=team_id, bot_user_id=bot_user_id)


def direct_message(
    text: str,
    *,
    user: str = USER_ID,
    channel: str | None = None,
    team_id: str = TEAM_ID,
    ts: str | None = None,
) -> JsonDict:
    """A message.im callback: someone wrote to the bot in its DM (channel defaults to D+user)."""
    ts = ts or _next_ts()
    event: JsonDict = {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "channel": channel or f"D{user}",
        "event_ts": ts,
        "channel_type": "im",
    }
    return event_callback(event, team_id=team_id)


def app_home_opened(
    *, user: str = USER_ID, tab: str = "home", channel: str | None = None, team_id: str = TEAM_ID
) -> JsonDict:
    """An app_home_opened callback for `user` opening the bot's Home (or Messages) tab."""
    return event_callback(
        {
            "type": "app_home_opened",
            "user": user,
            "channel": channel or f"D{user}",
            "tab": tab,
            "event_ts": _next_ts(),
        },
        team_id=team_id,
    )


def _user(user_id: str, user_name: str, team_id: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    block_id: str = "actions",
    button_text: str = "Button",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    message_ts: str | None = None,
    message: JsonDict | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> JsonDict:
    """A button press on a message (`response_url`: use standin.response_url())."""
    message_ts = message_ts or _next_ts()
    return {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "message": message
        or {"type": "message", "user": BOT_USER_ID, "ts": message_ts, "text": "", "blocks": []},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": _next_ts(),
            }
        ],
    }


def view_submission(
    callback_id: str,
    values: JsonDict,
    *,
    private_metadata: str = "",
    view_id: str = "V0MODAL",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    response_urls: list[JsonDict] | None = None,
) -> JsonDict:
    """A modal submitted; `values` is view.state.values: {block_id: {action_id: {...}}}."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(time.time())}.standin",
            "title": {"type": "plain_text", "text": "Standin", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0BOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


# -- the AI-app pane ---------------------------------------------------------------------------


def assistant_thread_started(
    *,
    user: str = USER_ID,
    channel: str | None = None,
    thread_ts: str | None = None,
    context_channel: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """Someone opened the bot in Slack's AI-app pane: a new thread in their DM with it."""
    ts = thread_ts or _next_ts()
    context: JsonDict = {"team_id": team_id, "enterprise_id": None}
    if context_channel is not None:
        context["channel_id"] = context_channel  # the channel they were looking at
    return event_callback(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": user,
                "context": context,
                "channel_id": channel or f"D{user}",
                "thread_ts": ts,
            },
            "event_ts": _next_ts(),
        },
        team_id=team_id,
    )


def assistant_message(
    text: str, *, thread_ts: str, user: str = USER_ID, channel: str | None = None
) -> JsonDict:
    """What someone typed in an AI-app thread: a message.im in that thread."""
    ts = _next_ts()
    return event_callback(
        {
            "type": "message",
            "client_msg_id": str(uuid.uuid4()),
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM_ID,
            "channel": channel or f"D{user}",
            "event_ts": ts,
            "channel_type": "im",
            "thread_ts": thread_ts,
            "parent_user_id": BOT_USER_ID,
        }
    )


# -- Workflow Builder custom steps -------------------------------------------------------------


def function_executed(
    callback_id: str,
    inputs: JsonDict,
    *,
    execution_id: str | None = None,
    token: str = "xwfp-standin-workflow-token",
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> JsonDict:
    """A workflow reached one of the app's custom steps (`callback_id`) with `inputs`."""
    return event_callback(
        {
            "type": "function_executed",
            "function": {
                "id": f"Fn{uuid.uuid4().hex[:10].upper()}",
                "callback_id": callback_id,
                "title": callback_id,
                "type": "app",
                "app_id": api_app_id,
                "date_created": int(time.time()),
                "date_updated": int(time.time()),
            },
            "inputs": inputs,
            "function_execution_id": execution_id or f"Fx{uuid.uuid4().hex[:10].upper()}",
            "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
            "event_ts": _next_ts(),
            "bot_access_token": token,
        },
        team_id=team_id,
        api_app_id=api_app_id,
    )


# -- shortcuts ---------------------------------------------------------------------------------


def message_shortcut(
    callback_id: str,
    message_text: str,
    *,
    response_url: str,
    author: str = "U0BOB",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """Someone chose the app's message shortcut `callback_id` on a message by `author`."""
    ts = _next_ts()
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": _next_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, USER_NAME, team_id),
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id(),
        "response_url": response_url,
        "message_ts": ts,
        "message": {"type": "message", "user": author, "ts": ts, "text": message_text},
    }


def global_shortcut(
    callback_id: str, *, user_id: str = USER_ID, team_id: str = TEAM_ID
) -> JsonDict:
    """Someone chose the app's global shortcut `callback_id` (from the composer or search)."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": _next_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, USER_NAME, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id(),
    }


# -- link previews -----------------------------------------------------------------------------


def link_shared(
    urls: list[str],
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    message_ts: str | None = None,
) -> JsonDict:
    """Someone posted a message with links in a domain the app unfurls."""
    ts = message_ts or _next_ts()
    return event_callback(
        {
            "type": "link_shared",
            "channel": channel,
            "is_bot_user_member": True,
            "user": user,
            "message_ts": ts,
            "unfurl_id": f"{ts}.{uuid.uuid4().hex[:8]}",
            "thread_ts": None,
            "source": "conversations_history",
            "links": [{"domain": url.split("/")[2].split(":")[0], "url": url} for url in urls],
            "event_ts": _next_ts(),
        }
    )

"""The Web API methods the stand-in answers: Slack-shaped JSON from an in-memory workspace.

No HTTP here: `Workspace.answer(method, args, token)` is called by the server in `slack.py`
with the query, form or JSON arguments already merged.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]

# Arguments Slack documents as JSON: a form post carries them as JSON-encoded strings.
_JSON_ARGS = frozenset(
    {"blocks", "attachments", "metadata", "view", "unfurl_links_blocks", "prompts", "outputs"}
    | {"unfurls"}
)
# A custom step's calls carry the workflow token Slack put in its function_executed event.
_BOT_TOKEN_PREFIXES = ("xoxb-", "xwfp-")


@dataclass
class Message:
    """A message the bot posted, as the stand-in stores it."""

    channel: str
    ts: str
    text: str
    user: str
    bot_id: str
    blocks: list[JsonDict] | None = None
    attachments: list[JsonDict] | None = None
    thread_ts: str | None = None
    metadata: JsonDict | None = None
    edited_ts: str | None = None
    reply_count: int = 0

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self, *, include_metadata: bool = True) -> JsonDict:
        """The message as Slack returns it from the Web API."""
        shaped: JsonDict = {
            "type": "message",
            "text": self.text,
            "user": self.user,
            "bot_id": self.bot_id,
            "ts": self.ts,
        }
        if self.blocks is not None:
            shaped["blocks"] = self.blocks
        if self.attachments is not None:
            shaped["attachments"] = self.attachments
        if self.thread_ts is not None:
            shaped["thread_ts"] = self.thread_ts
        if self.reply_count:
            shaped["reply_count"] = self.reply_count
        if self.edited_ts is not None:
            shaped["edited"] = {"user": self.user, "ts": self.edited_ts}
        if include_metadata and self.metadata is not None:
            shaped["metadata"] = self.metadata
        return shaped


@dataclass
class EphemeralMessage:
    """A chat.postEphemeral: seen only by `user`, never in conversations.history."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[JsonDict] | None = None
    thread_ts: str | None = None


@dataclass
class WorkspaceConfig:
    """Who the bot is and what the workspace holds."""

    bot_user_id: str
    bot_id: str
    team_id: str
    app_id: str
    members: dict[str, list[str]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, JsonDict] | None = None
    # A user group's handle by its ID (usergroups.list); the ID in lower case if not given.
    usergroup_handles: dict[str, str] = field(default_factory=dict)


def ts_to_micros(ts: str) -> int:
    """'1700000000.000100' -> 1700000000000100, so timestamps compare exactly."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def micros_to_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def encode_cursor(offset: int) -> str:
    # Slack's cursors are opaque base64; tests should only pass them back.
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    try:
        kind, _, number = base64.b64decode(cursor.encode()).decode().partition(":")
        return int(number) if kind == "offset" else None
    except ValueError:
        return None


def error(code: str, **extra: Any) -> JsonDict:
    return {"ok": False, "error": code, **extra}


def _flag(args: JsonDict, key: str) -> bool:
    value = args.get(key)
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true"}


def _text(args: JsonDict, key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


def _number(args: JsonDict, key: str, default: int) -> int:
    value = args.get(key)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def decode_json_args(args: JsonDict) -> JsonDict:
    """Decode the JSON-string arguments of a form post, as Slack does."""
    decoded = dict(args)
    for key in _JSON_ARGS & decoded.keys():
        value = decoded[key]
        if isinstance(value, str) and value:
            # Undecodable values stay as sent; the method then rejects them.
            with contextlib.suppress(json.JSONDecodeError):
                decoded[key] = json.loads(value)
    return decoded


def _page(items: list[Any], args: JsonDict, default_limit: int) -> tuple[list[Any], str] | None:
    """Slice one cursor page; None when the cursor is not one we issued."""
    cursor = _text(args, "cursor")
    start = 0
    if cursor is not None:
        decoded = decode_cursor(cursor)
        if decoded is None:
            return None
        start = decoded
    limit = _number(args, "limit", default_limit)
    limit = default_limit if limit <= 0 else limit
    page = items[start : start + limit]
    end = start + len(page)
    return page, encode_cursor(end) if end < len(items) else ""


class Workspace:
    """In-memory workspace state and the Web API methods over it; thread-safe."""

    def __init__(
        self,
        config: WorkspaceConfig,
        *,
        clock: Callable[[], datetime],
        socket_url: Callable[[], str],
    ) -> None:
        self.config = config
        self._clock = clock
        self._socket_url = socket_url
        self.lock = threading.RLock()
        self._last_ts = 0
        self._view_ids = itertools.count(1)
        self.messages: list[Message] = []
        self.ephemeral_messages: list[EphemeralMessage] = []
        self.views: dict[str, JsonDict] = {}
        self.home_views: dict[str, JsonDict] = {}
        # AI-app threads, by (channel, thread_ts): the latest status, title and prompts.
        self.thread_status: dict[tuple[str, str], str] = {}
        self.thread_titles: dict[tuple[str, str], str] = {}
        self.suggested_prompts: dict[tuple[str, str], JsonDict] = {}
        # Custom steps, by function_execution_id: ("success", outputs) or ("error", message).
        self.function_results: dict[str, tuple[str, Any]] = {}
        # Link previews, by (channel, ts) or unfurl_id: the `unfurls` argument.
        self.unfurls: dict[str, JsonDict] = {}
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.list": self._usergroups_list,
            "users.info": self._users_info,
            "apps.connections.open": self._apps_connections_open,
            "assistant.threads.setSuggestedPrompts": self._set_suggested_prompts,
            "assistant.threads.setStatus": self._set_status,
            "assistant.threads.setTitle": self._set_title,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "chat.unfurl": self._chat_unfurl,
        }

    def knows(self, method: str) -> bool:
        return method in self._methods

    def answer(self, method: str, args: JsonDict, token: str | None) -> JsonDict:
        """The JSON body Slack would answer `method` with."""
        handler = self._methods.get(method)
        if handler is None:
            return error("unknown_method")
        # App-level tokens open sockets; bot (or workflow) tokens do everything else.
        prefixes = ("xapp-",) if method == "apps.connections.open" else _BOT_TOKEN_PREFIXES
        if token is None or not token.startswith(prefixes):
            return error("invalid_auth")
        with self.lock:
            return handler(decode_json_args(args))

    # -- helpers -----------------------------------------------------------------------------

    def _next_ts(self) -> str:
        # Real-clock timestamps, bumped by a microsecond when two land together: unique, increasing.
        now = int(self._clock().timestamp() * 1_000_000)
        self._last_ts = max(now, self._last_ts + 1)
        return micros_to_ts(self._last_ts)

    def _channel_for(self, channel: str) -> str:
        # Posting to a user id posts into the DM with that user, as Slack does.
        return self.dm_channel(channel) if channel[:1] in {"U", "W"} else channel

    @staticmethod
    def dm_channel(user_id: str) -> str:
        return "D" + user_id

    def _find(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def add_person_message(
        self, channel: str, text: str, *, user: str, ts: str | None = None
    ) -> Message:
        """A message by a person (no bot_id), as if they had typed it in `channel`."""
        message = Message(
            channel=self._channel_for(channel),
            ts=ts or self._next_ts(),
            text=text,
            user=user,
            bot_id="",
        )
        self.messages.append(message)
        return message

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, args: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": "https://standin.slack.com/",
            "team": "Standin",
            "user": "policybot",
            "team_id": self.config.team_id,
            "user_id": self.config.bot_user_id,
            "bot_id": self.config.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JsonDict) -> JsonDict:
        channel = _text(args, "channel")
        if channel is None:
            return error("channel_not_found")
        text = str(args.get("text") or "")
        blocks, attachments = args.get("blocks"), args.get("attachments")
        if not text and not blocks and not attachments:
            return error("no_text")
        metadata = args.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            return error("invalid_metadata_format")
        thread_ts = _text(args, "thread_ts")
        channel = self._channel_for(channel)
        if thread_ts is not None:
            parent = self._find(channel, thread_ts)
            if parent is None:
                return error("thread_not_found")
            parent.reply_count += 1
            parent.thread_ts = parent.ts
            # An AI-app thread's status ends when the app replies there, as in Slack.
            self.thread_status.pop((channel, thread_ts), None)
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            user=self.config.bot_user_id,
            bot_id=self.config.bot_id,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": message.to_slack()}

    def _chat_post_ephemeral(self, args: JsonDict) -> JsonDict:
        channel, user = _text(args, "channel"), _text(args, "user")
        if channel is None:
            return error("channel_not_found")
        if user is None:
            return error("user_not_found")
        text = str(args.get("text") or "")
        if not text and not args.get("blocks") and not args.get("attachments"):
            return error("no_text")
        ephemeral = EphemeralMessage(
            channel=channel,
            user=user,
            message_ts=self._next_ts(),
            text=text,
            blocks=args.get("blocks"),
            thread_ts=_text(args, "thread_ts"),
        )
        self.ephemeral_messages.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.message_ts}

    def _chat_update(self, args: JsonDict) -> JsonDict:
        channel, ts = _text(args, "channel"), _text(args, "ts")
        if channel is None:
            return error("channel_not_found")
        message = self._find(self._channel_for(channel), ts or "")
        if message is None:
            return error("message_not_found")
        if "text" in args:
            message.text = str(args["text"] or "")
        if "blocks" in args:
            message.blocks = args["blocks"] or None
        if "attachments" in args:
            message.attachments = args["attachments"] or None
        if isinstance(args.get("metadata"), dict):
            message.metadata = args["metadata"]
        message.edited_ts = self._next_ts()
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_slack(),
        }

    def _shape_view(self, view: Any, view_id: str | None = None) -> JsonDict | None:
        if not isinstance(view, dict) or "type" not in view:
            return None
        view_id = view_id or f"V{next(self._view_ids):08d}"
        digest = hashlib.sha1(json.dumps(view, sort_keys=True).encode()).hexdigest()[:16]
        shaped: JsonDict = {
            "id": view_id,
            "team_id": self.config.team_id,
            "app_id": self.config.app_id,
            "bot_id": self.config.bot_id,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            **view,
            "hash": f"{int(self._clock().timestamp())}.{digest}",
        }
        self.views[view_id] = shaped
        return shaped

    def _views_open(self, args: JsonDict) -> JsonDict:
        if _text(args, "trigger_id") is None and _text(args, "interactivity_pointer") is None:
            return error("invalid_arguments")
        view = self._shape_view(args.get("view"))
        return error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _views_publish(self, args: JsonDict) -> JsonDict:
        user_id = _text(args, "user_id")
        if user_id is None:
            return error("invalid_arguments")
        existing = self.home_views.get(user_id)
        view = self._shape_view(args.get("view"), existing["id"] if existing else None)
        if view is None:
            return error("invalid_arguments")
        self.home_views[user_id] = view
        return {"ok": True, "view": view}

    def _views_update(self, args: JsonDict) -> JsonDict:
        view_id, external_id = _text(args, "view_id"), _text(args, "external_id")
        if view_id is None and external_id is not None:
            view_id = next(
                (v["id"] for v in self.views.values() if v.get("external_id") == external_id),
                None,
            )
        if view_id is None or view_id not in self.views:
            return error("not_found")
        view = self._shape_view(args.get("view"), view_id)
        return error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _conversations_members(self, args: JsonDict) -> JsonDict:
        channel = _text(args, "channel")
        if channel is None or channel not in self.config.members:
            return error("channel_not_found")
        paged = _page(self.config.members[channel], args, default_limit=100)
        if paged is None:
            return error("invalid_cursor")
        page, next_cursor = paged
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, args: JsonDict) -> JsonDict:
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            channel = _text(args, "channel")
            if channel is None:
                return error("users_list_not_supplied")
            return {"ok": True, "channel": {"id": channel}}
        if len(users) == 1:
            channel_id = self.dm_channel(users[0])
        else:
            # A group DM: a stable id per set of people.
            digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:9].upper()
            channel_id = "G" + digest
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _message_page(self, messages: list[Message], args: JsonDict) -> JsonDict:
        oldest = ts_to_micros(_text(args, "oldest") or "0")
        latest_text = _text(args, "latest")
        latest = ts_to_micros(latest_text) if latest_text else None
        inclusive = _flag(args, "inclusive")

        def in_window(message: Message) -> bool:
            ts = ts_to_micros(message.ts)
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        chosen = [m for m in messages if in_window(m)]
        paged = _page(chosen, args, default_limit=100)
        if paged is None:
            return error("invalid_cursor")
        page, next_cursor = paged
        # Slack only returns metadata when asked for it.
        include_metadata = _flag(args, "include_all_metadata")
        return {
            "ok": True,
            "messages": [m.to_slack(include_metadata=include_metadata) for m in page],
            "has_more": bool(next_cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_history(self, args: JsonDict) -> JsonDict:
        channel = _text(args, "channel")
        if channel is None:
            return error("channel_not_found")
        channel = self._channel_for(channel)
        # Newest first; thread replies live in conversations.replies, not here.
        in_channel = [m for m in reversed(self.messages) if m.channel == channel and not m.is_reply]
        return self._message_page(in_channel, args)

    def _conversations_replies(self, args: JsonDict) -> JsonDict:
        channel, ts = _text(args, "channel"), _text(args, "ts")
        if channel is None:
            return error("channel_not_found")
        channel = self._channel_for(channel)
        parent = self._find(channel, ts or "")
        if parent is None:
            return error("thread_not_found")
        # The parent first, then replies oldest first.
        thread = [parent] + [
            m
            for m in self.messages
            if m.channel == channel and m.is_reply and m.thread_ts == parent.ts
        ]
        return self._message_page(thread, args)

    def _usergroups_users_list(self, args: JsonDict) -> JsonDict:
        usergroup = _text(args, "usergroup")
        if usergroup is None or usergroup not in self.config.usergroups:
            return error("no_such_subteam")
        return {"ok": True, "users": list(self.config.usergroups[usergroup])}

    def _usergroups_list(self, args: JsonDict) -> JsonDict:
        handles = self.config.usergroup_handles
        groups = [
            {"id": group_id, "handle": handles.get(group_id, group_id.lower())}
            for group_id in self.config.usergroups
        ]
        return {"ok": True, "usergroups": groups}

    def _users_info(self, args: JsonDict) -> JsonDict:
        user_id = _text(args, "user")
        if user_id is None:
            return error("user_not_found")
        known = self.config.users
        if known is not None and user_id not in known:
            return error("user_not_found")
        name = user_id.lower()
        user: JsonDict = {
            "id": user_id,
            "team_id": self.config.team_id,
            "name": name,
            "real_name": name.title(),
            "deleted": False,
            "is_bot": user_id == self.config.bot_user_id,
            "is_admin": False,
            "tz": "Europe/London",
            "tz_offset": 0,
            "profile": {
                "real_name": name.title(),
                "display_name": name,
                "email": f"{name}@example.com",
            },
        }
        if known is not None:
            user.update(known[user_id])
        return {"ok": True, "user": user}

    def _apps_connections_open(self, args: JsonDict) -> JsonDict:
        return {"ok": True, "url": self._socket_url()}

    # -- the AI-app pane -----------------------------------------------------------------------

    def _assistant_thread(self, args: JsonDict) -> tuple[str, str] | None:
        channel, thread_ts = _text(args, "channel_id"), _text(args, "thread_ts")
        return (channel, thread_ts) if channel and thread_ts else None

    def _set_suggested_prompts(self, args: JsonDict) -> JsonDict:
        thread = self._assistant_thread(args)
        prompts = args.get("prompts")
        if thread is None or not isinstance(prompts, list) or not prompts:
            return error("invalid_arguments")
        if len(prompts) > 4 or not all(
            isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts
        ):
            return error("invalid_arguments")  # Slack takes 1 to 4, each a title and a message
        self.suggested_prompts[thread] = {"prompts": prompts, "title": _text(args, "title")}
        return {"ok": True}

    def _set_status(self, args: JsonDict) -> JsonDict:
        thread = self._assistant_thread(args)
        if thread is None or "status" not in args:
            return error("invalid_arguments")
        self.thread_status[thread] = str(args["status"] or "")  # "" clears it
        return {"ok": True}

    def _set_title(self, args: JsonDict) -> JsonDict:
        thread = self._assistant_thread(args)
        title = _text(args, "title")
        if thread is None or title is None:
            return error("invalid_arguments")
        self.thread_titles[thread] = title
        return {"ok": True}

    # -- Workflow Builder custom steps ---------------------------------------------------------

    def _complete_function(self, args: JsonDict, result: tuple[str, Any]) -> JsonDict:
        execution = _text(args, "function_execution_id")
        if execution is None:
            return error("invalid_arguments")
        if execution in self.function_results:
            return error("function_execution_not_found")  # completed already: Slack forgets it
        self.function_results[execution] = result
        return {"ok": True}

    def _functions_complete_success(self, args: JsonDict) -> JsonDict:
        outputs = args.get("outputs")
        if not isinstance(outputs, dict):
            return error("invalid_arguments")
        return self._complete_function(args, ("success", outputs))

    def _functions_complete_error(self, args: JsonDict) -> JsonDict:
        message = _text(args, "error")
        if message is None:
            return error("invalid_arguments")
        return self._complete_function(args, ("error", message))

    # -- link previews -------------------------------------------------------------------------

    def _chat_unfurl(self, args: JsonDict) -> JsonDict:
        unfurls = args.get("unfurls")
        if not isinstance(unfurls, dict) or not unfurls:
            return error("invalid_unfurls_format")
        unfurl_id, source = _text(args, "unfurl_id"), _text(args, "source")
        channel, ts = _text(args, "channel"), _text(args, "ts")
        if unfurl_id is not None and source is not None:
            key = unfurl_id
        elif channel is not None and ts is not None:
            key = f"{channel}/{ts}"
        else:
            return error("invalid_arguments")
        self.unfurls[key] = unfurls
        return {"ok": True}

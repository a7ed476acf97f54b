"""The Slack Web API calls the scheduler makes, with each outcome sorted by what to do next.

The WebClient gets no automatic retry handlers: a retried chat.postMessage after a lost reply
would post twice, so every retry goes through the outbox, which checks history first.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.adapters.db.outbox import Due
from bot.adapters.sender.ports import OutboxMessage
from bot.metrics import RATE_LIMIT_WAITS, SLACK_API_ERRORS

log = logging.getLogger(__name__)

DELIVERY_EVENT = "policybot_delivery"  # chat.postMessage metadata event_type


def delivery_metadata(delivery_id: int, announcement_id: int, kind: str) -> dict[str, Any]:
    """What every outbox message carries, so a crashed send can be found in history."""
    return {
        "event_type": DELIVERY_EVENT,
        "event_payload": {
            "delivery_id": delivery_id,
            "announcement_id": announcement_id,
            "kind": kind,
        },
    }


def delivery_id_of(message: dict[str, Any]) -> int | None:
    """The delivery id in a message's metadata (from conversations.history), if it has one."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != DELIVERY_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("delivery_id")
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Errors that name the recipient or the message as the problem: retrying cannot help.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "account_inactive",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "invalid_metadata_format",
        "restricted_action",
    }
)
# How many times a read (history, members) waits out a 429 before giving up for this round.
READ_RATE_LIMIT_TRIES = 5


@dataclass(frozen=True)
class PostOutcome:
    """sent | rate_limited (wait retry_after, send again) | failed (give up) |
    retry (not posted: try again later) | check (may have posted: look in history first) |
    unknown (may still land: leave the claim for the reconcile after the claim timeout)."""

    status: str
    channel: str = ""
    ts: str = ""
    retry_after: float = 0.0
    error: str = ""


def make_client(token: str | None, base_url: str, *, timeout: int = 15) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


def _retry_after(error: SlackApiError) -> float:
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or 1
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


class SlackGateway:
    """chat.postMessage, the history check behind exactly-once, and channel members."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._bot_user_id: str | None = None

    def post(self, recipient: str, message: OutboxMessage, metadata: dict[str, Any]) -> PostOutcome:
        """Post to a channel id, or to a user id (Slack puts it in the bot's DM with them)."""
        try:
            response = self.client.chat_postMessage(
                channel=recipient,
                **message.as_kwargs(),
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                RATE_LIMIT_WAITS.labels("chat.postMessage").inc()
                return PostOutcome("rate_limited", retry_after=_retry_after(error))
            code = str(error.response.get("error") or f"http_{status}")
            SLACK_API_ERRORS.labels("chat.postMessage", code).inc()
            if code in PERMANENT_ERRORS:
                return PostOutcome("failed", error=code)
            # A server error may come after the message was stored; an ok:false never does.
            return PostOutcome("check" if status >= 500 else "retry", error=code)
        except (URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            SLACK_API_ERRORS.labels("chat.postMessage", type(reason).__name__).inc()
            if isinstance(reason, ConnectionRefusedError):
                return PostOutcome("retry", error="connection refused")
            return PostOutcome("unknown", error=f"{type(reason).__name__}: {reason}"[:200])
        return PostOutcome("sent", channel=str(response["channel"]), ts=str(response["ts"]))

    def find_delivery(self, due: Due, since: dt.datetime) -> tuple[str, str] | None:
        """(channel, ts) of delivery `due` if it is in the recipient's conversation since `since`.

        Raises SlackApiError or URLError when Slack cannot say; the caller tries again later.
        """
        channel = due.channel or self.conversation_of(due.recipient)
        cursor: str | None = None
        while True:
            response = self._read(
                "conversations.history",
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                if delivery_id_of(message) == due.id:
                    return channel, str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def conversation_of(self, recipient: str) -> str:
        """The conversation a recipient's messages land in: the DM for a user id."""
        if recipient[:1] not in ("U", "W"):
            return recipient
        response = self._read("conversations.open", users=recipient)
        return str(response["channel"]["id"])

    def members(self, channel: str) -> list[str]:
        """Every member of `channel` (all pages), without the bot itself."""
        members: list[str] = []
        cursor: str | None = None
        while True:
            response = self._read(
                "conversations.members", channel=channel, limit=1000, cursor=cursor
            )
            members.extend(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        bot = self.bot_user_id()
        return [m for m in members if m != bot]

    def bot_user_id(self) -> str | None:
        if self._bot_user_id is None:
            try:
                self._bot_user_id = str(self._read("auth.test")["user_id"])
            except (SlackApiError, URLError, OSError):
                return None
        return self._bot_user_id

    def _read(self, method: str, **args: Any) -> SlackResponse:
        """A read-only call, waiting out 429s (reads are safe to repeat)."""
        args = {k: v for k, v in args.items() if v is not None}
        for attempt in range(READ_RATE_LIMIT_TRIES):
            try:
                call = getattr(self.client, method.replace(".", "_"))
                response: SlackResponse = call(**args)
                return response
            except SlackApiError as error:
                if error.response.status_code != 429 or attempt == READ_RATE_LIMIT_TRIES - 1:
                    SLACK_API_ERRORS.labels(method, str(error.response.get("error"))).inc()
                    raise
                RATE_LIMIT_WAITS.labels(method).inc()
                time.sleep(_retry_after(error))
        raise AssertionError("unreachable")


class SlackUserGroups:
    """The audiences' user groups as Slack has them (`bot.app.audiences.UserGroupReader`):
    each call is one Web API call; `AudienceMembers` decides when to make it."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def group_ids(self) -> dict[str, str]:
        response = self.client.usergroups_list()
        return {
            str(group["handle"]): str(group["id"])
            for group in response.get("usergroups") or []
            if group.get("handle") and group.get("id")
        }

    def members(self, group_id: str) -> frozenset[str]:
        response = self.client.usergroups_users_list(usergroup=group_id)
        return frozenset(str(user) for user in response.get("users") or [])

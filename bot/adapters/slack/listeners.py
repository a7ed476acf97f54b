"""Slack listeners: parse what arrived, call the core, render, send. No policy rules here.

Where people ask: the slash command (answered privately: a question in the acknowledgement,
a command through response_url after it), an @-mention (answered in a thread), a DM
(answered in the DM). Every event is handled once: Slack re-sends
events it thinks were missed, so event ids are recorded in the database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.adapters.db.conversations import conversation_key
from bot.adapters.slack import modal
from bot.adapters.slack.blocks import (
    ASK_SUGGESTION_ACTION,
    SlackMessage,
    answer_message,
    help_message,
    reply_message,
    text_message,
    unescape,
)
from bot.adapters.slack.desk import queue_message, with_answer_actions
from bot.adapters.slack.guard import BodyMiddleware
from bot.adapters.slack.home import home_view
from bot.adapters.slack.metadata import MetadataSeal
from bot.app.admin import describe_change, describe_staged
from bot.app.changes import Actor, SavePolicy
from bot.app.runtime import Runtime
from bot.app.service import Reading
from bot.domain.commands import Command, EditTool, ShowUnanswered, StageChange, is_command
from bot.domain.errors import PermissionDenied, PolicyError, UnknownToolError
from bot.domain.links import tool_pages
from bot.domain.policy import Status, ToolPolicy

log = logging.getLogger(__name__)

SOURCE = "slack"  # the revision source of every change made through Slack
CHANNEL = "slack"  # the question-log channel
HELP_WORDS = ("", "help", "?")
# Message subtypes that are a person asking: plain, with a file attached, broadcast from a thread.
QUESTION_SUBTYPES = (None, "file_share", "thread_broadcast")


def conversation_of(event: dict[str, Any], thread_ts: str | None) -> str:
    """The conversation a message belongs to: its thread, else its DM (follow-up context)."""
    channel = str(event.get("channel") or "")
    if thread_ts:
        return conversation_key("thread", channel, thread_ts)
    return conversation_key("dm", channel)


def question_text(raw: str, bot_user_id: str | None) -> str:
    """What the person typed: the bot's own mention removed, Slack's escaping undone."""
    if bot_user_id:
        raw = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", raw)
    return " ".join(unescape(raw).split())


def from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """True for messages by bots (this one included) and by no one in particular."""
    return bool(
        event.get("bot_id")
        or event.get("subtype") == "bot_message"
        or not event.get("user")
        or event.get("user") == bot_user_id
    )


def form_of(command: Command | None) -> tuple[EditTool, bool] | None:
    """The form an `edit <tool>` / `add <tool>` command opens, and whether it is staged
    (`draft edit <tool>` / `draft add <tool>`)."""
    if isinstance(command, EditTool):
        return command, False
    if isinstance(command, StageChange) and isinstance(command.command, EditTool):
        return command.command, True
    return None


def is_public(event: dict[str, Any]) -> bool:
    """True for a conversation others read: every channel, private ones and group DMs
    included; only the bot's own DM with a person (`im`, `D…`) is theirs alone."""
    if event.get("channel_type") == "im":
        return False
    return not str(event.get("channel") or "").startswith("D")


@dataclass(frozen=True)
class Said:
    """A reply as a Slack message; `private`: to the asker only (never posted where others
    read); `aside`: shown to the asker only, beside a reply posted for all."""

    message: SlackMessage
    private: bool = False
    aside: SlackMessage | None = None


PRIVATELY = ":lock: I answered you privately (only you can see it)."


class Listeners:
    """Every policybot listener, sharing one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.service = runtime.service
        self.policies = runtime.policies
        self.events = runtime.events
        self.changes = runtime.changes
        self.command = runtime.settings.command
        self.contact = runtime.settings.contact
        self.conversations = runtime.service.conversations
        self.pages = tool_pages(runtime.settings.public_url)
        self.seal = MetadataSeal.for_settings(runtime.settings)

    def register(self, app: App) -> None:
        app.middleware(BodyMiddleware(self.skip_repeated_events))
        app.middleware(BodyMiddleware(self.answer_question_in_ack))
        app.command(self.command)(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("subteam_members_changed")(self.on_user_group_changed)
        app.action(re.compile(rf"^{ASK_SUGGESTION_ACTION}:"))(self.on_suggestion)
        app.view(modal.CALLBACK_ID)(self.on_form_submitted)

    # -- every event once ------------------------------------------------------------------

    def skip_repeated_events(
        self, body: dict[str, Any], next_: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Acknowledge and drop an event this bot already handled (a Slack re-send)."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not self.events.first_time_event(event_id):
            log.info("skipped a re-sent event", extra={"event_id": event_id})
            return BoltResponse(status=200, body="")
        next_()
        return None

    # -- questions and commands ------------------------------------------------------------

    def answer_question_in_ack(
        self, body: dict[str, Any], next_: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """A slash-command question is answered in the acknowledgement itself, here.

        Answering takes well under a millisecond, so the answer fits Slack's 3 seconds and
        saves a response_url round trip. Doing it in a middleware, in the request's thread,
        spares a hop to Bolt's listener thread, whose acknowledgement Bolt would poll for
        every 10 ms. Commands and help go on to `on_command`."""
        if body.get("command") != self.command:
            next_()
            return None
        text = question_text(str(body.get("text") or ""), None)
        if is_command(text) or text.lower() in HELP_WORDS:
            next_()
            return None
        message = self.reply_to(text, str(body.get("user_id") or ""), echo_question=True).message
        reply: dict[str, Any] = {"text": message.text, "response_type": "ephemeral"}
        if message.blocks:
            reply["blocks"] = message.blocks
        return BoltResponse(status=200, body=reply)

    def reply_to(
        self,
        text: str,
        user: str,
        *,
        echo_question: bool = False,
        conversation: str | None = None,
        public: bool = False,
        reading: Reading | None = None,
    ) -> Said:
        """The reply to what `user` wrote: help, an answer, an admin result or a refusal.

        In a `conversation` (a DM or a thread) a follow-up is about the previous answer.
        `public`: written where others read (see `Said` and `PolicyService.handle`).
        `reading`: the service's reading of `text`, when the caller has it already."""
        if text.lower() in HELP_WORDS:
            return Said(
                help_message(
                    self.command, is_admin=self.service.is_admin(user), contact=self.contact
                )
            )
        if reading is None:
            reading = self.service.interpret(text, user)
        edit = form_of(reading.command)
        if edit is not None:
            # A form needs a trigger only a slash command brings.
            form, draft = edit
            hint = text_message(
                f"{form.tool}: the form opens from the slash command: "
                f"{self.command} {'draft ' if draft else ''}"
                f"{'add' if form.create else 'edit'} {form.tool}",
                icon=":memo:",
            )
            return Said(hint, private=public)
        if isinstance(reading.command, ShowUnanswered) and self.runtime.desk is not None:
            # With buttons per term; the queue is for admins' eyes only.
            return Said(queue_message(self.runtime.desk, self.runtime), private=public)
        reply = self.service.handle(
            text,
            user=user,
            source=SOURCE,
            channel=CHANNEL,
            conversation=conversation,
            public=public,
            reading=reading,
        )
        if reply.kind == "help":
            is_admin = self.service.is_admin(user)
            return Said(help_message(self.command, is_admin=is_admin, contact=self.contact))
        message = reply_message(reply, self.contact, echo_question=echo_question, pages=self.pages)
        if reply.answer:
            message = with_answer_actions(message, reply.answer)
        aside = text_message(reply.aside, icon=":key: Only you see this:") if reply.aside else None
        return Said(message, private=reply.private, aside=aside)

    def on_command(
        self, ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """Commands and help (`answer_question_in_ack` has answered questions already)."""
        text = question_text(command.get("text") or "", None)
        user = str(command.get("user_id") or "")
        ack()  # commands may write and call Slack: acknowledge first, work after
        reading = self.service.interpret(text, user)
        edit = form_of(reading.command)
        if edit is not None:
            form, draft = edit
            trigger = str(command.get("trigger_id") or "")
            problem = self.open_form(form, trigger, client, draft=draft)
            if problem is not None:
                respond(response_type="ephemeral", **problem.as_kwargs())
            return
        message = self.reply_to(text, user, echo_question=True, reading=reading).message
        sent = respond(response_type="ephemeral", **message.as_kwargs())
        if sent.status_code != 200:
            log.warning("response_url refused the answer", extra={"status": sent.status_code})

    def on_mention(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if from_a_bot(event, context.bot_user_id):
            return
        thread = str(event.get("thread_ts") or event["ts"])
        self.answer_message(event, client, context, thread_ts=thread)

    def on_message(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Messages people send the bot directly, as Slack sends them: plain, with a file
        attached (`file_share`), broadcast from a thread; and edits (`message_changed`)."""
        subtype = event.get("subtype")
        if subtype == "message_changed":
            self.on_edit(event, client, context)
            return
        if event.get("channel_type") != "im" or subtype not in QUESTION_SUBTYPES:
            return
        if from_a_bot(event, context.bot_user_id):
            return
        self.answer_message(event, client, context, thread_ts=event.get("thread_ts"))

    def answer_message(
        self,
        event: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        *,
        thread_ts: str | None,
    ) -> None:
        """Answer a person's message where it was written, and remember which reply it got.

        In a channel (others read it) only what is fit for everyone is posted; the rest goes
        to the asker alone, as an ephemeral message in the same thread."""
        channel = str(event["channel"])
        user = str(event["user"])
        public = is_public(event)
        text = question_text(event.get("text") or "", context.bot_user_id)
        said = self.reply_to(
            text, user, conversation=conversation_of(event, thread_ts), public=public
        )
        if said.private:
            self.tell_privately(client, channel, user, thread_ts, said.message)
            return
        posted = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **said.message.as_kwargs()
        )
        if said.aside is not None:
            self.tell_privately(client, channel, user, thread_ts, said.aside)
        reply_ts = posted.get("ts") if posted.get("ok") else None
        if isinstance(reply_ts, str):
            try:
                self.conversations.remember_reply(channel, str(event["ts"]), reply_ts, thread_ts)
            except Exception:  # only edits need it; never fail the answer for it
                log.exception("could not record which reply answered a message")

    @staticmethod
    def tell_privately(
        client: WebClient, channel: str, user: str, thread_ts: str | None, message: SlackMessage
    ) -> None:
        """`message` to `user` only: ephemeral, in `channel` (and the thread) they wrote in."""
        client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, **message.as_kwargs()
        )

    def on_edit(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """A question edited after it was answered: the earlier reply is updated in place."""
        edited = event.get("message") or {}
        if not isinstance(edited, dict) or from_a_bot(edited, context.bot_user_id):
            return
        channel, ts = str(event.get("channel") or ""), str(edited.get("ts") or "")
        answered = self.conversations.reply_to(channel, ts) if channel and ts else None
        if answered is None:
            return  # the bot never answered it (or forgot): nothing to bring up to date
        edited = {**edited, "channel": channel, "channel_type": event.get("channel_type")}
        user = str(edited.get("user") or "")
        text = question_text(edited.get("text") or "", context.bot_user_id)
        said = self.reply_to(
            text,
            user,
            conversation=conversation_of(edited, answered.thread_ts),
            public=is_public(edited),
        )
        message = text_message(PRIVATELY) if said.private else said.message
        client.chat_update(channel=channel, ts=answered.reply_ts, **message.as_kwargs())
        private = said.message if said.private else said.aside
        if private is not None:
            self.tell_privately(client, channel, user, answered.thread_ts, private)

    def on_suggestion(
        self, ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond
    ) -> None:
        """A "did you mean" button: answer about that tool, privately."""
        ack()
        user = str(body.get("user", {}).get("id") or "")
        limited = self.service.limit(user)
        if limited is not None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                **text_message(limited.text, icon=":hourglass:").as_kwargs(),
            )
            return
        answer = self.service.ask(str(action.get("value") or ""), asker=user, channel=CHANNEL)
        message = answer_message(answer, self.contact, pages=self.pages)
        message = with_answer_actions(message, answer)
        respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    def on_user_group_changed(self, event: dict[str, Any]) -> None:
        """A user group's members changed: an audience it backs is read again when next
        needed (one call, not one per question)."""
        group_id = event.get("subteam_id")
        if isinstance(group_id, str):
            self.service.members.group_changed(group_id)

    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        view = home_view(
            self.service.policies(),
            self.policies.recent_changes(limit=5),
            command=self.command,
            contact=self.contact,
            tz=self.service.tz,
        )
        client.views_publish(user_id=event["user"], view=view)

    # -- the edit form ---------------------------------------------------------------------

    def open_form(
        self, edit: EditTool, trigger_id: str, client: WebClient, *, draft: bool = False
    ) -> SlackMessage | None:
        """Open the edit/add form (with `draft`, the tool as drafted, and saving stages the
        change); a message saying why not when it cannot open."""
        if edit.create:
            name = " ".join(edit.tool.split())
            existing = self.policies.get(name)
            if existing is not None:
                return text_message(
                    f"{existing.name} is already in the registry: "
                    f"{self.command} edit {existing.name}",
                    icon=":warning:",
                )
            policy = ToolPolicy(name=name, status=Status.UNDER_REVIEW)
            target = modal.EditTarget(name, None, create=True, draft=draft)
        elif draft and self.runtime.drafts is not None:
            try:
                policy, version = self.runtime.drafts.policy_in_draft(edit.tool)
            except PolicyError as error:
                return text_message(str(error), icon=":warning:")
            target = modal.EditTarget(policy.name, version, create=False, draft=True)
        else:
            # The version first: if the tool changes in between, saving is refused, not lost.
            version = self.policies.version_of(edit.tool)
            try:
                policy = self.policies.resolve(edit.tool)
            except UnknownToolError as error:
                return text_message(str(error), icon=":warning:")
            target = modal.EditTarget(policy.name, version, create=False)
        client.views_open(
            trigger_id=trigger_id, view=self.seal.seal(modal.edit_view(policy, target))
        )
        return None

    def on_form_submitted(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = str(body.get("user", {}).get("id") or "")
        target = modal.EditTarget.load(str(view.get("private_metadata") or ""))
        values = view.get("state", {}).get("values", {})
        policy, errors = modal.read_draft(values, target)
        # The same command `set` builds, through the same write path and its checks.
        command = (
            SavePolicy(
                policy,
                tool=None if target.create else target.tool,
                expected_version=target.version,
            )
            if policy is not None
            else None
        )
        if errors or command is None:
            # One round: the form's own errors, and every rule the rest of it breaks.
            for field, problem in self.changes.problems(command) if command else ():
                errors.setdefault(modal.field_of(field, target), problem)
            ack(response_action="errors", errors=errors)
            return
        if target.draft and self.runtime.drafts is not None:
            self.stage_form(ack, command, target, user, client)
            return
        try:
            change = self.changes.run(command, Actor(user, SOURCE))
        except PermissionDenied:
            message = f"Only policy admins can change policies; ask {self.contact}."
            ack(response_action="errors", errors={modal.first_field(target): message})
            return
        except PolicyError as error:
            shown: dict[str, str] = {}
            for field, problem in error.problems:
                shown.setdefault(modal.field_of(field, target), f"Nothing was saved: {problem}")
            ack(response_action="errors", errors=shown)
            return
        ack()
        summary = describe_change(change)
        if not change.is_noop and change.scheduled_for is None:
            summary = ("Added " if target.create else "Saved ") + summary
        client.chat_postMessage(channel=user, **text_message(summary, icon=":memo:").as_kwargs())

    def stage_form(
        self,
        ack: Ack,
        command: SavePolicy,
        target: modal.EditTarget,
        user: str,
        client: WebClient,
    ) -> None:
        """A form opened with `draft edit`/`draft add`: the change is staged, not made."""
        assert self.runtime.drafts is not None
        try:
            staged = self.runtime.drafts.stage(command, Actor(user, SOURCE))
        except PermissionDenied:
            message = f"Only policy admins can change policies; ask {self.contact}."
            ack(response_action="errors", errors={modal.first_field(target): message})
            return
        except PolicyError as error:
            block = modal.field_of(error.field, target)
            said = str(error)
            said = said if said.startswith("Nothing was staged") else f"Nothing was staged: {said}"
            ack(response_action="errors", errors={block: said})
            return
        ack()
        text = (
            f"Staged as change {staged.number} of the draft: {describe_staged(staged)}. "
            f"Staff see nothing until {self.command} publish."
        )
        client.chat_postMessage(channel=user, **text_message(text, icon=":memo:").as_kwargs())

"""The AI-app pane (Slack's Agents & AI Apps), through Bolt's `Assistant` middleware.

Opening policybot in the side pane starts a thread: the bot greets the person and offers
suggested prompts in their language (their Slack locale). A question there is answered as
a DM thread is (`Listeners.reply_to`, with the thread as the conversation, so "why?" is
about the last answer), while the pane shows a status, and the thread is titled after it.

Bolt treats every threaded message in the bot's DM as an AI-app message, so DM threads get
the same answer as before, plus the status and title (ignored where Slack refuses them).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.db.conversations import conversation_key
from bot.adapters.slack.blocks import (
    assistant_greeting,
    pane_language,
    suggested_prompts,
    thread_title,
)
from bot.adapters.slack.listeners import Listeners, from_a_bot, question_text
from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

STATUS = "is checking the policies…"  # Slack shows it after the app's name


class AssistantPane:
    """The pane's listeners: a greeting with prompts, and answers with status and title."""

    def __init__(self, runtime: Runtime, listeners: Listeners) -> None:
        self.listeners = listeners
        self.contact = runtime.settings.contact

    def register(self, app: App) -> None:
        assistant = Assistant()
        assistant.thread_started(self.on_thread_started)
        assistant.user_message(self.on_question)
        app.assistant(assistant)

    def on_thread_started(
        self,
        event: dict[str, Any],
        say: Say,
        set_suggested_prompts: SetSuggestedPrompts,
        client: WebClient,
    ) -> None:
        language = person_language(client, str(event["assistant_thread"].get("user_id") or ""))
        say(**assistant_greeting(language, self.contact).as_kwargs())
        title, prompts = suggested_prompts(language)
        set_suggested_prompts(prompts=prompts, title=title)

    def on_question(
        self,
        event: dict[str, Any],
        say: Say,
        set_status: SetStatus,
        set_title: SetTitle,
        context: BoltContext,
    ) -> None:
        if from_a_bot(event, context.bot_user_id):
            return
        text = question_text(str(event.get("text") or ""), context.bot_user_id)
        channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
        shown(set_title, thread_title(text))
        shown(set_status, STATUS)
        message = self.listeners.reply_to(
            text,
            str(event["user"]),
            conversation=conversation_key("thread", channel, thread_ts),
        )
        say(**message.message.as_kwargs())  # in the thread; Slack clears the status with it


def person_language(client: WebClient, user: str) -> str:
    """The pane's language for `user`, from their Slack locale (English if unknown)."""
    try:
        found = client.users_info(user=user, include_locale=True)
    except SlackApiError as error:  # no users:read, or a user from another org
        log.info("could not read a person's locale: %s", error.response.get("error"))
        return "en"
    person = found.get("user") or {}
    return pane_language(person.get("locale") if isinstance(person, dict) else None)


def shown(call: SetStatus | SetTitle, text: str) -> None:
    """Set a thread's status or title; a thread Slack refuses it for is still answered."""
    try:
        call(text)
    except SlackApiError as error:  # a DM thread outside the pane, say
        log.info("Slack refused a thread status or title: %s", error.response.get("error"))


def register(app: App, runtime: Runtime) -> None:
    AssistantPane(runtime, Listeners(runtime)).register(app)

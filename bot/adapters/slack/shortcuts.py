"""Shortcuts: "Check AI tools mentioned here" on a message, and "Ask policybot" anywhere.

The message shortcut answers privately (an ephemeral reply through the shortcut's
response_url) about every tool the message names. The message is someone's words, not a
question to the bot, so it is matched against the registry without entering the question
log. The global shortcut opens the question form; the answer arrives in the bot's DM, where
the answer's buttons (request a review, an exception, watch) work as after any question.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.adapters.slack.blocks import (
    QUESTION_BLOCK,
    QUESTION_FORM,
    answer_message,
    no_tools_named,
    question_form,
)
from bot.adapters.slack.desk import with_answer_actions
from bot.adapters.slack.listeners import Listeners, question_text
from bot.app.runtime import Runtime
from bot.domain.answers import answer_question
from bot.domain.links import tool_pages

log = logging.getLogger(__name__)

CHECK_MESSAGE = "check_ai_tools_in_message"  # message shortcut callback id
ASK_QUESTION = "ask_policybot"  # global shortcut callback id


class Shortcuts:
    def __init__(self, runtime: Runtime, listeners: Listeners) -> None:
        self.service = runtime.service
        self.contact = runtime.settings.contact
        self.pages = tool_pages(runtime.settings.public_url)
        self.listeners = listeners

    def register(self, app: App) -> None:
        app.message_shortcut(CHECK_MESSAGE)(self.on_check_message)
        app.global_shortcut(ASK_QUESTION)(self.on_ask)
        app.view(QUESTION_FORM)(self.on_question_form)

    def on_check_message(self, ack: Ack, shortcut: dict[str, Any], respond: Respond) -> None:
        ack()
        text = question_text(str((shortcut.get("message") or {}).get("text") or ""), None)
        today = self.service.clock().astimezone(self.service.tz).date()
        answer = answer_question(text, self.service.registry(), today=today)
        if not answer.tools:
            message = no_tools_named(self.contact)
        else:
            message = answer_message(answer, self.contact, pages=self.pages)
            message = with_answer_actions(message, answer)
        respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    def on_ask(self, ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=question_form())

    def on_question_form(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        values = view.get("state", {}).get("values", {})
        typed = values.get(QUESTION_BLOCK, {}).get("value", {}).get("value") or ""
        text = question_text(str(typed), None)
        if not text:
            ack(response_action="errors", errors={QUESTION_BLOCK: "Type a question first."})
            return
        ack()
        user = str(body.get("user", {}).get("id") or "")
        message = self.listeners.reply_to(text, user, echo_question=True)
        client.chat_postMessage(channel=user, **message.message.as_kwargs())


def register(app: App, runtime: Runtime) -> None:
    Shortcuts(runtime, Listeners(runtime)).register(app)

"""The Bolt App factory: one App, its Web API client pointed at SLACK_API_URL, our listeners.

`extensions` let other parts of the bot (announcements, say) register more listeners on the
same App without this module knowing about them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import announcements, assistant, desk, modal, shortcuts, steps, unfurls
from bot.adapters.slack.client import api_method, make_client
from bot.adapters.slack.guard import (
    BodyMiddleware,
    clean_request_text,
    only_slack_response_urls,
    response_origins,
)
from bot.adapters.slack.listeners import Listeners
from bot.adapters.slack.metadata import MetadataSeal, verified_forms
from bot.app.runtime import Runtime
from bot.metrics import SLACK_API_ERRORS

log = logging.getLogger(__name__)

# Every form whose metadata the bot reads back: it is signed (bot/adapters/slack/metadata.py).
# (The request form carries none: what it files is only what the person typed.)
FORM_CALLBACKS = frozenset(
    {
        modal.CALLBACK_ID,
        desk.EXCEPTION_FORM,
        desk.DECISION_FORM,
        desk.ALIAS_FORM,
        desk.ANSWER_FORM,
    }
)

Extension = Callable[[App, Runtime], None]
# Every listener module's `register`, beside `Listeners` (questions and commands): a new
# button is one listener in one of these modules.
SURFACES: tuple[Extension, ...] = (
    announcements.register,
    desk.register,
    assistant.register,
    steps.register,
    shortcuts.register,
    unfurls.register,
)


class _TokenFromClientNote(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when given a client; it is the client's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_TokenFromClientNote())


def build_app(runtime: Runtime, client: WebClient | None = None) -> App:
    """The Bolt App with every policybot listener; calls auth.test to check the bot token."""
    settings = runtime.settings
    secret = settings.slack_signing_secret
    app = App(
        client=client or make_client(settings),
        # Unused in Socket Mode, where Slack's WebSocket replaces request signing.
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=False,  # ack at once, work afterwards
        # bot/adapters/slack/guard.py checks each request's signature before Bolt sees it (Socket
        # Mode
        # needs none): Bolt's own check would be a second HMAC over the same body.
        request_verification_enabled=False,
    )
    # First, for every listener: no response_url outside Slack, no text the database refuses.
    origins = response_origins(settings.slack_api_url)
    app.middleware(BodyMiddleware(only_slack_response_urls(origins)))
    app.middleware(BodyMiddleware(clean_request_text))
    # Forms come back only as the bot opened them; interactions without what listeners read
    # (`actions`, `user`, `view`) get 400.
    seal = MetadataSeal.for_settings(settings)
    app.middleware(BodyMiddleware(verified_forms(seal, FORM_CALLBACKS)))
    Listeners(runtime).register(app)
    # Announcements, the desk's buttons and forms, and where Slack users already are (issue
    # 29): the AI-app pane, custom steps, shortcuts, link previews.
    for surface in SURFACES:
        surface(app, runtime)
    app.error(_count_and_log)
    return app


def _count_and_log(error: Exception, body: dict[str, Any]) -> None:
    if isinstance(error, SlackApiError):
        method = api_method(str(getattr(error.response, "api_url", "")))
        SLACK_API_ERRORS.labels(method, str(error.response.get("error"))).inc()
    log.error(
        "a Slack request failed",
        exc_info=error,
        extra={"request_type": body.get("type"), "event_id": body.get("event_id")},
    )

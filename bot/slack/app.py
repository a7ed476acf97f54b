"""The Bolt App factory: one App, its Web API client pointed at SLACK_API_URL, our listeners.

`extensions` let other parts of the bot (announcements, say) register more listeners on the
same App without this module knowing about them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.bootstrap import Runtime
from bot.config import Settings
from bot.metrics import RATE_LIMIT_WAITS, SLACK_API_ERRORS
from bot.slack.guard import (
    BodyMiddleware,
    clean_request_text,
    only_slack_response_urls,
    response_origins,
)
from bot.slack.listeners import Listeners

log = logging.getLogger(__name__)

Extension = Callable[[App, Runtime], None]


class _TokenFromClientNote(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when given a client; it is the client's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_TokenFromClientNote())


class CountedRateLimitRetry(RateLimitErrorRetryHandler):
    """Waits out Slack's Retry-After on a 429, counting each wait in the metrics."""

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        RATE_LIMIT_WAITS.labels(api_method(request.url)).inc()
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


def api_method(url: str) -> str:
    """`https://slack.com/api/chat.postMessage` -> `chat.postMessage`."""
    return urlsplit(url).path.rsplit("/", 1)[-1] or "?"


def make_client(settings: Settings) -> WebClient:
    """The Web API client every Slack call goes through (SLACK_API_URL, 429s retried)."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    client.retry_handlers.append(CountedRateLimitRetry(max_retry_count=2))
    return client


def build_app(
    runtime: Runtime, client: WebClient | None = None, *, extensions: Sequence[Extension] = ()
) -> App:
    """The Bolt App with every policybot listener; calls auth.test to check the bot token."""
    settings = runtime.settings
    secret = settings.slack_signing_secret
    app = App(
        client=client or make_client(settings),
        # Unused in Socket Mode, where Slack's WebSocket replaces request signing.
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=False,  # ack at once, work afterwards
        # bot/slack/guard.py checks each request's signature before Bolt sees it (Socket Mode
        # needs none): Bolt's own check would be a second HMAC over the same body.
        request_verification_enabled=False,
    )
    # First, for every listener: no response_url outside Slack, no text the database refuses.
    origins = response_origins(settings.slack_api_url)
    app.middleware(BodyMiddleware(only_slack_response_urls(origins)))
    app.middleware(BodyMiddleware(clean_request_text))
    Listeners(runtime).register(app)
    app.error(_count_and_log)
    for extend in extensions:
        extend(app, runtime)
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

"""The Slack Web API client the bot's own calls go through (without Bolt).

Apart from bot/adapters/slack/app.py so that what needs only the Web API (the serving process
before it
builds the Bolt app, its token check, the admin group) does not import Bolt.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings
from bot.metrics import RATE_LIMIT_WAITS


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

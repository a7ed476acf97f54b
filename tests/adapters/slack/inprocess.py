"""The real Bolt app and /slack/events endpoint in the test's own process, on its database.

`InProcessBot` builds the App as `policybot serve` does (bot.adapters.slack.app.build_app,
the same extensions) with a WebClient pointed at the stand-in, wraps it in the bot's WSGI app
(the signature guard included) and posts signed requests to it without a socket: as fast as
a unit test, as real as the server. Listeners run on Bolt's own threads after the ack, so
tests wait for the stand-in to record the calls they expect.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.adapters.db.store import Store
from bot.adapters.slack.guard import SlackEndpoint
from bot.adapters.web.wsgi import make_wsgi_app
from bot.app.runtime import Runtime
from bot.compose import build_slack
from bot.domain.policy import ToolPolicy
from tests.adapters.slack.harness import SECRET, HttpResult
from tests.standin import StandinSlack
from tests.standin.signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    event_body,
    interactivity_body,
    signed_headers,
)
from tests.wiring import runtime_on, seed


@dataclass
class WsgiResult(HttpResult):
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class InProcessBot:
    """A runtime, its Bolt app and WSGI endpoint, and the stand-in they call."""

    runtime: Runtime
    app: App
    standin: StandinSlack
    wsgi: Any = field(repr=False)

    def post(
        self, body: bytes, content_type: str, *, path: str = "/slack/events", signed: bool = True
    ) -> WsgiResult:
        headers = signed_headers(body, SECRET, content_type=content_type) if signed else {}
        return self.request(
            "POST", path, body=body, headers={"Content-Type": content_type, **headers}
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> WsgiResult:
        """One WSGI call, as waitress or gunicorn would make it."""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "3000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        status: list[str] = []
        response_headers: list[tuple[str, str]] = []

        def start_response(line: str, sent: list[tuple[str, str]], *_: Any) -> None:
            status.append(line)
            response_headers.extend(sent)

        chunks: Iterable[bytes] = self.wsgi(environ, start_response)
        payload = b"".join(chunks)
        return WsgiResult(int(status[0].split()[0]), payload, dict(response_headers))

    def finish(self) -> None:
        """Wait for every listener still running after its ack (Bolt's thread pool), so a
        test can say that something did NOT happen."""
        self.app.listener_runner.listener_executor.shutdown(wait=True)

    def event(self, payload: Mapping[str, Any]) -> WsgiResult:
        return self.post(event_body(payload), JSON_CONTENT_TYPE)

    def interaction(self, payload: Mapping[str, Any]) -> WsgiResult:
        return self.post(interactivity_body(payload), FORM_CONTENT_TYPE)


def in_process_bot(
    store: Store, standin: StandinSlack, policies: Iterable[ToolPolicy], **settings: Any
) -> InProcessBot:
    """The bot on `store` holding `policies`, talking to `standin`; `settings` override."""
    settings.setdefault("slack_bot_token", "xoxb-test")
    settings.setdefault("slack_signing_secret", SECRET)
    settings.setdefault("slack_api_url", standin.api_url)
    runtime = runtime_on(store, **settings)
    seed(runtime, policies)
    client = WebClient(token="xoxb-test", base_url=standin.api_url)
    app = build_slack(runtime, client)
    endpoint = SlackEndpoint(app, SECRET, first_time=runtime.events.first_time_event)
    wsgi = make_wsgi_app(runtime.engine, endpoint)
    return InProcessBot(runtime, app, standin, wsgi)

"""`policybot serve`: the Slack app over HTTP or Socket Mode, plus the probes, in one process.

waitress serves the WSGI app (threaded, production-grade). In Socket Mode the WebSocket client
runs beside it and the port answers only /healthz, /readyz, /metrics and the catalogue.
Anything else that must run as long as the server (the scheduler) is passed in as
`background` and is started after the server is ready and stopped before it closes.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Sequence
from types import FrameType
from typing import Protocol

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from waitress.server import create_server

from bot.bootstrap import Runtime
from bot.catalogue import catalogue_for
from bot.config import Settings
from bot.slack.guard import SlackEndpoint
from bot.web import MAX_BODY_BYTES, make_wsgi_app

log = logging.getLogger(__name__)

DEFAULT_HOST = "0.0.0.0"
SERVER_THREADS = 8
# waitress accepts 100 connections by default; a burst from Slack or a proxy may hold more.
SERVER_CONNECTION_LIMIT = 1000
# waitress's own limits, so that slow or oversized requests cost little (docs/security.md).
# Slack's requests are small and arrive whole in milliseconds: a connection silent for
# CHANNEL_TIMEOUT seconds is closed (checked every CLEANUP_INTERVAL), headers over 32 KiB and
# bodies over MAX_BODY_BYTES are refused with 431 and 413 before the body is read.
CHANNEL_TIMEOUT_SECONDS = 20
CLEANUP_INTERVAL_SECONDS = 5
MAX_HEADER_BYTES = 32 * 1024
SOCKET_PING_SECONDS = 5.0


class Startable(Protocol):
    """Something that runs alongside the server, e.g. the scheduler."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def slack_settings_problem(settings: Settings) -> str | None:
    """One line naming the missing setting that `serve` needs, or None."""
    if settings.slack_bot_token is None:
        return "SLACK_BOT_TOKEN is not set: give the bot token (xoxb-...) from the app's settings"
    if settings.slack_app_token is not None:
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token starting with xapp-"
        return None
    if settings.slack_signing_secret is None:
        return (
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's signing secret "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return None


def mode_of(settings: Settings) -> str:
    return "socket" if settings.slack_app_token is not None else "http"


class StartError(RuntimeError):
    """The server could not start; the message is one line for people."""


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # waitress leaves its loop on SystemExit; the finally blocks below then clean up.
    raise SystemExit(0)


def serve(
    runtime: Runtime,
    app: App,
    *,
    port: int,
    host: str = DEFAULT_HOST,
    background: Sequence[Startable] = (),
) -> None:
    """Serve until SIGTERM or SIGINT, then stop `background`, the socket and the server."""
    settings = runtime.settings
    socket_mode = settings.slack_app_token is not None
    endpoint = None
    if not socket_mode:
        secret = settings.slack_signing_secret
        endpoint = SlackEndpoint(
            app,
            secret.get_secret_value() if secret else "",
            first_time=runtime.events.first_time_event,
        )
    wsgi = make_wsgi_app(runtime.engine, endpoint, catalogue_for(runtime))
    try:
        server = create_server(
            wsgi,
            host=host,
            port=port,
            threads=SERVER_THREADS,
            ident="policybot",
            connection_limit=SERVER_CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
            cleanup_interval=CLEANUP_INTERVAL_SECONDS,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_BODY_BYTES + 1,  # waitress refuses sizes >= this
            asyncore_use_poll=True,  # select() fails beyond 1,024 open sockets; poll() does not
        )
    except OSError as error:
        raise StartError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    handler: SocketModeHandler | None = None
    started: list[Startable] = []
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if settings.slack_app_token is not None:
            # The handler's client opens the socket with apps.connections.open through the
            # app's WebClient, i.e. SLACK_API_URL; it reconnects by itself when dropped.
            handler = SocketModeHandler(
                app,
                app_token=settings.slack_app_token.get_secret_value(),
                # A socket that died without a close frame is noticed after 4 silent pings.
                ping_interval=SOCKET_PING_SECONDS,
            )
            try:
                handler.client.connect()
            except SlackApiError as error:
                raise StartError(
                    "Slack refused to open a Socket Mode connection "
                    f"({error.response.get('error')}): check SLACK_APP_TOKEN"
                ) from error
            except OSError as error:
                raise StartError(f"cannot reach Slack for Socket Mode: {error}") from error
        for item in background:
            item.start()
            started.append(item)
        bound = getattr(server, "effective_port", port)  # the real port when asked for 0
        log.info(f"policybot serving on :{bound} ({mode_of(settings)} mode)")
        server.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        for item in reversed(started):
            try:
                item.stop()
            except Exception:
                log.exception("could not stop %r", item)
        if handler is not None:
            handler.client.close()
        with contextlib.suppress(Exception):
            server.close()
        log.info("policybot stopped")

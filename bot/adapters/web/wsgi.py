"""The bot's small WSGI app: Slack's requests, health, readiness, metrics and the catalogue.

`POST /slack/events` (events, slash commands and interactivity alike) goes to Bolt in HTTP
mode only; in Socket Mode the same port answers just the probes, `/metrics` and the
catalogue (`/catalogue/`, a WSGI app of its own from bot.adapters.web.catalogue, when it is on).

Whatever the server, no request body larger than MAX_BODY_BYTES is read (`limit_body`), and
/slack/events lets through only what Slack signed (bot/adapters/slack/guard.py).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot import metrics
from bot.adapters.db import engines as db
from bot.adapters.web.gate import TurnGate, gated
from bot.adapters.web.limits import MAX_BODY_BYTES

if TYPE_CHECKING:
    from wsgiref.types import InputStream, StartResponse, WSGIApplication, WSGIEnvironment

    from bot.adapters.slack.guard import SlackEndpoint

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
_READ_CHUNK = 64 * 1024


def _send(
    start_response: StartResponse, status: str, body: bytes, content_type: str = TEXT
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def readiness_problem(engine: sa.Engine) -> str | None:
    """None when the database answers and its schema is at the newest migration."""
    try:
        if not db.is_at_head(engine):
            return "database schema is not at the newest migration: run `policybot db upgrade`"
    except sa.exc.SQLAlchemyError as error:
        return f"database unreachable: {type(error).__name__}"
    return None


def _read_at_most(stream: InputStream, size: int) -> bytes:
    """Up to `size` bytes of `stream`, in chunks; fewer if the client sent fewer."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, _READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def limit_body(app: WSGIApplication, max_bytes: int = MAX_BODY_BYTES) -> WSGIApplication:
    """Refuse bodies over `max_bytes` (413) before reading them; hand on the body read.

    The size is taken from Content-Length, so a body without one (chunked, which Slack never
    sends) is refused with 411, and the app behind reads a body already in memory.
    """

    def limited(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = str(environ.get("CONTENT_LENGTH") or "")
        if not length:
            if environ.get("HTTP_TRANSFER_ENCODING"):
                return _send(start_response, "411 Length Required", b"send Content-Length\n")
            environ["wsgi.input"] = io.BytesIO(b"")
            return app(environ, start_response)
        if not (length.isascii() and length.isdigit()):
            return _send(start_response, "400 Bad Request", b"bad Content-Length\n")
        if len(length) > 12 or int(length) > max_bytes:
            return _send(
                start_response,
                "413 Request Entity Too Large",
                f"the body is larger than {max_bytes} bytes\n".encode(),
            )
        size = int(length)
        body = _read_at_most(environ["wsgi.input"], size)
        if len(body) < size:
            return _send(start_response, "400 Bad Request", b"body shorter than Content-Length\n")
        environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return limited


def make_wsgi_app(
    engine: sa.Engine,
    slack: SlackEndpoint | None,
    catalogue: WSGIApplication | None = None,
    *,
    max_body: int = MAX_BODY_BYTES,
    gate: TurnGate | None = None,
) -> WSGIApplication:
    """Route the bot's paths; `slack` is None in Socket Mode (no /slack/events then), and
    `catalogue` None when the catalogue is off."""
    slack_handler: WSGIApplication | None = None
    if slack is not None:
        # Imported only with Slack: `policybot catalogue serve` runs without the Slack SDK.
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        from bot.adapters.slack.guard import SlackRequestGuard

        slack_handler = SlackRequestGuard(
            SlackRequestHandler(slack.app, path=SLACK_PATH),
            slack.signing_secret,
            first_time=slack.first_time,
        )
    if gate is not None:
        # The probes and /metrics skip the queue: they are cheap, and a busy app must not
        # make an orchestrator think the process is dead.
        slack_handler = gated(slack_handler, gate) if slack_handler is not None else None
        catalogue = gated(catalogue, gate) if catalogue is not None else None

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH and slack_handler is not None:
            if method != "POST":
                return _send(start_response, "405 Method Not Allowed", b"use POST\n")
            return slack_handler(environ, start_response)
        if catalogue is not None and (path == "/catalogue" or path.startswith("/catalogue/")):
            return catalogue(environ, start_response)
        if path in ("/healthz", "/readyz", "/metrics") and method not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", b"use GET\n")
        if path == "/healthz":
            return _send(start_response, "200 OK", b"ok\n")
        if path == "/readyz":
            problem = readiness_problem(engine)
            if problem is not None:
                return _send(start_response, "503 Service Unavailable", f"{problem}\n".encode())
            return _send(start_response, "200 OK", b"ready\n")
        if path == "/metrics":
            return _send(start_response, "200 OK", metrics.render(), METRICS_CONTENT_TYPE)
        return _send(start_response, "404 Not Found", b"not found\n")

    return limit_body(application, max_body)

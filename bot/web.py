"""The bot's small WSGI app: Slack's requests, health, readiness, metrics and the catalogue.

`POST /slack/events` (events, slash commands and interactivity alike) goes to Bolt in HTTP
mode only; in Socket Mode the same port answers just the probes, `/metrics` and the
catalogue (`/catalogue/`, a WSGI app of its own from bot.catalogue, when it is on).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import metrics
from bot.core import db

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


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


def make_wsgi_app(
    engine: sa.Engine, slack: App | None, catalogue: WSGIApplication | None = None
) -> WSGIApplication:
    """Route the bot's paths; `slack` is None in Socket Mode (no /slack/events then), and
    `catalogue` None when the catalogue is off."""
    slack_handler = SlackRequestHandler(slack, path=SLACK_PATH) if slack is not None else None

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

    return application

"""The WSGI routes beside Slack's: liveness, readiness and metrics."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.util import setup_testing_defaults

import sqlalchemy as sa

from bot.adapters.db import engines as db
from bot.adapters.web.wsgi import limit_body, make_wsgi_app

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


def call(engine: sa.Engine, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": method}
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(make_wsgi_app(engine, None)(environ, start_response))
    return seen["status"], seen["headers"], body


def test_healthz_answers_ok(engine: sa.Engine) -> None:
    assert call(engine, "/healthz")[::2] == ("200 OK", b"ok\n")


def test_readyz_is_ready_when_migrations_are_at_head(engine: sa.Engine) -> None:
    assert call(engine, "/readyz")[0] == "200 OK"


def test_readyz_says_why_when_the_schema_is_behind(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    status, _headers, body = call(engine, "/readyz")

    assert status.startswith("503") and b"policybot db upgrade" in body


def test_metrics_use_the_prometheus_text_format(engine: sa.Engine) -> None:
    status, headers, body = call(engine, "/metrics")

    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"policybot_questions_total" in body


def test_slack_events_is_not_served_without_the_http_app(engine: sa.Engine) -> None:
    assert call(engine, "/slack/events", "POST")[0].startswith("404")


# -- the body limit, whatever the server (gunicorn hands the app the raw socket stream) ----------


def _post(app: WSGIApplication, body: bytes, **environ: str) -> tuple[str, bytes, io.BytesIO]:
    stream = io.BytesIO(body)
    env: dict[str, Any] = {
        "PATH_INFO": "/echo",
        "REQUEST_METHOD": "POST",
        "wsgi.input": stream,
        "CONTENT_LENGTH": str(len(body)),
        **environ,
    }
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"] = status

    answer = b"".join(app(env, start_response))
    return seen["status"], answer, stream


def _echo(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """An app that answers with the body it read."""
    start_response("200 OK", [])
    return [environ["wsgi.input"].read()]


def test_a_body_over_the_limit_is_refused_without_being_read() -> None:
    status, _answer, stream = _post(limit_body(_echo, 1000), b"x" * 10_000)

    assert status.startswith("413")
    assert stream.tell() == 0


def test_a_body_within_the_limit_is_handed_on_whole() -> None:
    status, answer, _stream = _post(limit_body(_echo, 1000), b"x" * 1000)

    assert (status, answer) == ("200 OK", b"x" * 1000)


def test_a_chunked_body_without_a_length_is_refused() -> None:
    status, _answer, stream = _post(
        limit_body(_echo, 1000), b"x" * 10, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
    )

    assert status.startswith("411") and stream.tell() == 0


def test_the_app_never_reads_past_content_length() -> None:
    status, answer, _stream = _post(
        limit_body(_echo, 1000), b"abc" + b"x" * 10_000, CONTENT_LENGTH="3"
    )

    assert (status, answer) == ("200 OK", b"abc")

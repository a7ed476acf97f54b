"""The WSGI routes beside Slack's: liveness, readiness and metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import sqlalchemy as sa

from bot.core import db
from bot.web import make_wsgi_app


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

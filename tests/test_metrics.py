"""Prometheus metrics: every metric the issue names exists, and the bot counts into them."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.adapters.db.store import Store
from bot.adapters.web.wsgi import make_wsgi_app
from bot.app.service import PolicyService
from tests.factories import seed_registry
from tests.wiring import runtime_on, seed

EXPECTED = {
    "policybot_questions": "counter",
    "policybot_unmatched_questions": "counter",
    "policybot_answer_seconds": "histogram",
    "policybot_admin_changes": "counter",
    "policybot_admin_refusals": "counter",
    "policybot_announcements_sent": "counter",
    "policybot_announcements_failed": "counter",
    "policybot_slack_api_errors": "counter",
    "policybot_slack_rate_limit_waits": "counter",
}


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def service(store: Store) -> PolicyService:
    runtime = runtime_on(store, admins=["UADMIN"])
    seed(runtime, seed_registry())
    return runtime.service


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def metrics_url(engine: sa.Engine) -> Iterator[str]:
    """The bot's own WSGI app on a real local HTTP server."""
    server: WSGIServer = make_server(
        "127.0.0.1", 0, make_wsgi_app(engine, None), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


def test_every_metric_is_exposed_with_its_type() -> None:
    families = {f.name: f.type for f in text_string_to_metric_families(metrics.render().decode())}
    for name, kind in EXPECTED.items():
        assert families.get(name) == kind, name


def test_metrics_endpoint_serves_prometheus_text(metrics_url: str) -> None:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = response.read().decode()
    names = {family.name for family in text_string_to_metric_families(body)}
    assert set(EXPECTED) <= names


def test_an_answered_question_is_counted_and_timed(service: PolicyService) -> None:
    questions = value("policybot_questions_total", channel="slack")
    unmatched = value("policybot_unmatched_questions_total", channel="slack")
    timed = value("policybot_answer_seconds_count")
    service.ask("can I use Cursor?", channel="slack")
    assert value("policybot_questions_total", channel="slack") == questions + 1
    assert value("policybot_unmatched_questions_total", channel="slack") == unmatched
    assert value("policybot_answer_seconds_count") == timed + 1


def test_a_question_with_no_match_is_counted_as_unmatched(service: PolicyService) -> None:
    unmatched = value("policybot_unmatched_questions_total", channel="cli")
    service.ask("is the coffee machine allowed?", channel="cli")
    assert value("policybot_unmatched_questions_total", channel="cli") == unmatched + 1


def test_an_admin_change_is_counted_by_source(service: PolicyService) -> None:
    changes = value("policybot_admin_changes_total", source="slack")
    reply = service.handle("set Cursor allowed", user="UADMIN", source="slack")
    assert reply.kind == "admin"
    assert value("policybot_admin_changes_total", source="slack") == changes + 1


def test_a_command_that_changes_nothing_is_not_counted(service: PolicyService) -> None:
    service.handle("set Cursor allowed", user="UADMIN", source="slack")
    changes = value("policybot_admin_changes_total", source="slack")
    service.handle("set Cursor allowed", user="UADMIN", source="slack")
    assert value("policybot_admin_changes_total", source="slack") == changes


def test_a_refused_admin_command_is_counted(service: PolicyService) -> None:
    refusals = value("policybot_admin_refusals_total")
    reply = service.handle("set Cursor banned", user="USTAFF", source="slack")
    assert reply.kind == "refused"
    assert value("policybot_admin_refusals_total") == refusals + 1

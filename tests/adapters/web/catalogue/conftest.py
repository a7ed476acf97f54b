"""A real catalogue served over HTTP from a real database, for the page and browser tests.

The catalogue runs in a threaded WSGI server inside the test process (the same app that
`policybot serve` mounts); tests talk to it over HTTP like a browser does.
"""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import load_policies
from bot.adapters.web.catalogue.app import CatalogueApp
from bot.app.changes import Actor
from bot.app.runtime import Runtime
from bot.domain.commands import SetPolicy
from bot.domain.policy import DataClass, Status, ToolPolicy
from tests.conftest import REPO, FakeClock
from tests.factories import make_policy, seed_registry
from tests.wiring import apply, runtime_on, seed

ADMIN = "U0ADMIN"
# The ban in the history keeps the seed story's date (a status change is otherwise dated today).
BANNED_ON = dt.date(2026, 11, 20)
HOSTILE = "<script>alert('x')</script>"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Site:
    """The served catalogue, its database and its clock."""

    url: str
    runtime: Runtime
    clock: FakeClock

    def get(
        self, path: str, *, method: str = "GET", headers: Mapping[str, str] | None = None
    ) -> Reply:
        data = b"x=1" if method in ("POST", "PUT", "PATCH") else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())


def catalogue_registry() -> list[ToolPolicy]:
    """The seed story, the second Copilot, a future ban and a tool whose texts are hostile."""
    return [
        *seed_registry(),
        make_policy(
            "Microsoft Copilot",
            vendor="Microsoft",
            category="chat-assistant",
            status=Status.ALLOWED,
            max_data=DataClass.CONFIDENTIAL,
        ),
        make_policy(
            "Windsurf",
            vendor="Codeium",
            category="coding-assistant",
            status=Status.BANNED,
            reason="Unreviewed agent mode.",
            effective=dt.date(2026, 12, 15),
            alternatives=("Qoder",),
        ),
        make_policy(
            "Evil Tool",
            vendor=HOSTILE,
            category="chat-assistant",
            status=Status.CONDITIONAL,
            reason=HOSTILE,
            conditions="<b>bold</b> & <img src=x onerror=alert(1)>",
            owner="<@U0BOSS>",
            link="javascript:alert(1)",
        ),
    ]


def serve(app: CatalogueApp) -> tuple[str, _ThreadingServer, threading.Thread]:
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="catalogue", daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_address[1]}", server, thread


@contextmanager
def serving(store: Store, clock: FakeClock) -> Iterator[Site]:
    runtime = runtime_on(store)
    app = CatalogueApp(
        runtime.service,
        runtime.policies,
        clock=clock,
        public_url="https://policybot.example.com",
        versions=runtime.announcements.versions,
    )
    url, server, thread = serve(app)
    try:
        yield Site(url, runtime, clock)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def seed_with_history(store: Store, clock: FakeClock, policies: list[ToolPolicy]) -> None:
    """`policies` imported a month ago, then Claude Code moved by an admin on the day."""
    runtime = runtime_on(store)
    clock.advance(days=-40)
    seed(runtime, policies)
    clock.advance(days=40)
    if runtime.policies.get("Claude Code") is not None:
        admin = Actor(ADMIN, "slack", trusted=True)
        moves = (
            (Status.UNDER_REVIEW, "Being reviewed again.", None),
            (Status.BANNED, "Sends environment metadata with every request.", BANNED_ON),
        )
        for status, reason, effective in moves:
            move = SetPolicy("Claude Code", status, reason=reason, effective=effective)
            apply(runtime, move, admin)
            clock.advance(hours=1)


@pytest.fixture
def site(store: Store, clock: FakeClock) -> Iterator[Site]:
    """The catalogue of `catalogue_registry()`, with a little history."""
    seed_with_history(store, clock, catalogue_registry())
    with serving(store, clock) as served:
        yield served


@pytest.fixture
def shipped_site(store: Store, clock: FakeClock) -> Iterator[Site]:
    """The catalogue of the shipped policies/ folder, with a little history."""
    seed_with_history(store, clock, load_policies(Path(REPO / "policies")))
    with serving(store, clock) as served:
        yield served

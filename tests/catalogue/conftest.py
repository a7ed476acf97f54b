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

from bot.catalogue.app import CatalogueApp
from bot.core.policy import DataClass, Status, ToolPolicy
from bot.core.policyfile import load_policies
from bot.core.service import PolicyService
from bot.core.store import Store
from tests.conftest import REPO, FakeClock
from tests.factories import make_policy, seed_registry

ADMIN = "U0ADMIN"
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
    store: Store
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
    service = PolicyService(store, clock=clock)
    app = CatalogueApp(service, store, clock=clock, public_url="https://policybot.example.com")
    url, server, thread = serve(app)
    try:
        yield Site(url, store, clock)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def seed_with_history(store: Store, clock: FakeClock, policies: list[ToolPolicy]) -> None:
    """`policies` imported a month ago, then Claude Code moved by an admin on the day."""
    clock.advance(days=-40)
    store.import_policies(policies, author="seed", quiet=True)
    clock.advance(days=40)
    if store.get("Claude Code") is not None:
        store.update(
            "Claude Code",
            author=ADMIN,
            source="slack",
            status=Status.UNDER_REVIEW,
            reason="Being reviewed again.",
        )
        clock.advance(hours=1)
        store.update(
            "Claude Code",
            author=ADMIN,
            source="slack",
            status=Status.BANNED,
            reason="Sends environment metadata with every request.",
        )


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

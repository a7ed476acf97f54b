"""Slack's Socket Mode side: a WebSocket server that says hello, sends envelopes, collects acks.

Runs `websockets.sync.server` in one background thread; each client connection gets its own
handler thread from that library, so tests can block on acks without an event loop.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from tests.standin.waiting import LIVENESS_SECONDS

JsonDict = dict[str, Any]

ENVELOPE_TYPES = frozenset({"slash_commands", "events_api", "interactive"})


class SocketModeServer:
    """A Socket Mode endpoint on 127.0.0.1; URLs come from `issue_url()` (apps.connections.open)."""

    def __init__(self, *, app_id: str, ping_interval: float | None = 0.1) -> None:
        # Frequent pings wake slack_sdk's builtin client, whose close() otherwise waits out a
        # 3 s socket read when the server is quiet.
        self.app_id = app_id
        self._ping_interval = ping_interval
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self._open: list[ServerConnection] = []
        self._acks: dict[str, JsonDict] = {}
        self._changed = threading.Condition()
        self.connection_count = 0
        self.received: list[JsonDict] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._server = serve(
            self._serve_client,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            compression=None,
            ping_interval=self._ping_interval,
            close_timeout=0.2,  # keeps stop() quick when a client ignores the close frame
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="standin-socket-mode", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Socket Mode server is not running; call start() first")
        port: int = self._server.socket.getsockname()[1]
        return port

    def issue_url(self) -> str:
        """A fresh ws:// URL with a ticket, as apps.connections.open returns."""
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- server side -------------------------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlparse(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        with self._changed:
            known = ticket in self._tickets
        if url.path != "/link/" or not known:
            return connection.respond(
                HTTPStatus.UNAUTHORIZED, "unknown ticket: call apps.connections.open\n"
            )
        return None

    def _serve_client(self, connection: ServerConnection) -> None:
        with self._changed:
            num_connections = len(self._open) + 1
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": num_connections,
                    "debug_info": {
                        "host": "applink-standin",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        with self._changed:
            self._open.append(connection)
            self.connection_count += 1
            self._changed.notify_all()
        try:
            for raw in connection:
                self._record_from_client(raw)
        except ConnectionClosed:
            pass  # clients drop sockets when they reconnect; that is normal
        finally:
            with self._changed:
                self._open.remove(connection)
                self._changed.notify_all()

    def _record_from_client(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        with self._changed:
            self.received.append(message)
            envelope_id = message.get("envelope_id")
            if isinstance(envelope_id, str):
                self._acks[envelope_id] = message
            self._changed.notify_all()

    # -- what tests call ---------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        with self._changed:
            return len(self._open)

    def wait_for_connections(self, count: int = 1, timeout: float = LIVENESS_SECONDS) -> None:
        """Block until `count` connections have been made in total."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.connection_count >= count, timeout):
                raise TimeoutError(
                    f"expected {count} Socket Mode connection(s) within {timeout}s, "
                    f"saw {self.connection_count}: is the client started with the stand-in's URL?"
                )

    def send_envelope(
        self,
        type: str,
        payload: JsonDict,
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = LIVENESS_SECONDS,
    ) -> str:
        """Send an envelope to the newest connected client (waiting for one); returns its id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(
                f"unknown envelope type {type!r}: use {', '.join(sorted(ENVELOPE_TYPES))}"
            )
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._open), timeout):
                raise TimeoutError(f"no Socket Mode client connected within {timeout}s")
            connection = self._open[-1]
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = LIVENESS_SECONDS) -> JsonDict:
        """The acknowledgement the client sent for `envelope_id`."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout}s")
            return self._acks[envelope_id]

    def disconnect_clients(
        self,
        *,
        send_disconnect_envelope: bool = True,
        reason: str = "refresh_requested",
        grace: float = 1.0,
    ) -> None:
        """Ask clients to go (then close after `grace` seconds), or just drop their sockets."""
        with self._changed:
            connections = list(self._open)
        if not send_disconnect_envelope:
            for connection in connections:
                # No close frame: the client finds a dead socket, like a network drop.
                connection.socket.shutdown(socket.SHUT_RDWR)
            return
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        )
        for connection in connections:
            try:
                connection.send(message)
            except ConnectionClosed:
                continue
        # Slack keeps the old socket open a while so the client can reconnect first.
        deadline = time.monotonic() + grace
        with self._changed:
            self._changed.wait_for(
                lambda: not any(c in self._open for c in connections),
                max(0.0, deadline - time.monotonic()),
            )
            lingering = [c for c in connections if c in self._open]
        for connection in lingering:
            connection.close()

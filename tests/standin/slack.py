"""StandinSlack: Slack's Web API (and Socket Mode) on real localhost servers, recording every call.

Point a bot at it with `WebClient(base_url=standin.api_url)`; the Web API methods themselves
live in `webapi.py`, the WebSocket side in `socket_mode.py`, the rate limiter in `ratelimit.py`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from tests.standin.ratelimit import RateLimit, TokenBucket
from tests.standin.socket_mode import SocketModeServer
from tests.standin.waiting import LIVENESS_SECONDS
from tests.standin.webapi import (
    EphemeralMessage,
    JsonDict,
    Message,
    Workspace,
    WorkspaceConfig,
    decode_json_args,
    error,
)


@dataclass(frozen=True)
class Call:
    """One Web API request: query, form and JSON arguments merged; header names lower-case."""

    method: str
    args: JsonDict
    headers: dict[str, str]
    time: datetime
    status: int
    response: JsonDict

    @property
    def refused(self) -> bool:
        """True when the stand-in answered 429 (rate limited)."""
        return self.status == 429


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response_url the stand-in handed out."""

    url: str
    body: JsonDict
    headers: dict[str, str]
    time: datetime


@dataclass(frozen=True)
class _InjectedFailure:
    status: int
    retry_after: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a slow client
    request_queue_size = 1024  # benchmarks fan out hundreds of connections at once

    def __init__(self, standin: StandinSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that want it (aiohttp)
    timeout = 10  # idle keep-alive connections give their thread back
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a benchmark's 10,000 requests would drown the test output

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        standin = self.server.standin
        if url.path.startswith("/api/"):
            args: JsonDict = dict(parse_qsl(url.query, keep_blank_values=True))
            args.update(_parse_body(body, headers.get("content-type", "")))
            status, extra_headers, answer = standin._answer_api(url.path[5:], args, headers)
        elif url.path.startswith("/response/") and self.command == "POST":
            status, extra_headers = standin._record_response(self.path, body, headers), {}
            answer = {"ok": True} if status == 200 else error("no_service")
        else:
            status, extra_headers, answer = 404, {}, error("not_found")
        self._send_json(status, answer, extra_headers)

    def _send_json(self, status: int, answer: JsonDict, extra_headers: dict[str, str]) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _parse_body(body: bytes, content_type: str) -> JsonDict:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    return {}  # multipart uploads are not stood in for


def _bearer_token(headers: dict[str, str], args: JsonDict) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    token = args.get("token")
    return token if isinstance(token, str) and token else None


class StandinSlack:
    """A Slack Web API stand-in on a real localhost HTTP server, recording every call."""

    def __init__(
        self,
        *,
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        team_id: str = "T0TEAM",
        app_id: str = "A0APP",
        rate_limit: RateLimit | None = None,
        members: dict[str, list[str]] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        usergroup_handles: dict[str, str] | None = None,
        users: dict[str, JsonDict] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`users`, when given, is the only people users.info knows (fields override defaults)."""
        self._clock = clock or (lambda: datetime.now(UTC))
        self.rate_limit = rate_limit
        self._bucket = TokenBucket(rate_limit) if rate_limit is not None else None
        self._socket_mode = SocketModeServer(app_id=app_id)
        self.workspace = Workspace(
            WorkspaceConfig(
                bot_user_id=bot_user_id,
                bot_id=bot_id,
                team_id=team_id,
                app_id=app_id,
                members=dict(members or {}),
                usergroups=dict(usergroups or {}),
                usergroup_handles=dict(usergroup_handles or {}),
                users=users,
            ),
            clock=self._clock,
            socket_url=self._socket_mode.issue_url,
        )
        self.calls: list[Call] = []
        # Per-method tallies keep wait_for cheap while a benchmark records 10,000 calls.
        self._call_counts: Counter[str] = Counter()
        self._refusal_count = 0
        self.responses: list[ResponsePost] = []
        self._response_paths: set[str] = set()
        self._failures: dict[str, deque[_InjectedFailure]] = {}
        self._changed = threading.Condition()
        self._holds: dict[str, threading.Event] = {}
        self._held: Counter[str] = Counter()
        self._http: _Server | None = None
        self._http_thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._http is not None:
            raise RuntimeError("StandinSlack is already running")
        self._http = _Server(self)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() returns within a poll
            name="standin-web-api",
            daemon=True,
        )
        self._http_thread.start()
        self._socket_mode.start()

    def stop(self) -> None:
        self._socket_mode.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321"""
        if self._http is None:
            raise RuntimeError(
                "StandinSlack is not running; call start() or use it as a context manager"
            )
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give `WebClient(base_url=...)`; ends with /api/."""
        return f"{self.base_url}/api/"

    # -- Web API -----------------------------------------------------------------------------

    def _answer_api(
        self, method: str, args: JsonDict, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], JsonDict]:
        args = decode_json_args(args)  # recorded as Slack reads them, whatever the encoding
        self._wait_if_held(method)
        status, extra_headers, answer = 200, {}, {}
        with self._changed:
            queued = self._failures.get(method)
            injected = queued.popleft() if queued else None
        retry_after = None
        if injected is not None:
            status = injected.status
            retry_after = injected.retry_after if status == 429 else None
        elif (
            self._bucket is not None
            and self.rate_limit is not None
            and method in self.rate_limit.methods
        ):
            retry_after = self._bucket.take()
            status = 200 if retry_after is None else 429
        if status == 429:
            extra_headers = {"Retry-After": str(retry_after or 1)}
            answer = error("ratelimited")
        elif status >= 500:
            answer = error("fatal_error")
        elif status != 200:
            answer = error("invalid_request")
        else:
            answer = self.workspace.answer(method, args, _bearer_token(headers, args))
        call = Call(method, args, headers, self._clock(), status, answer)
        with self._changed:
            self.calls.append(call)
            self._call_counts[method] += 1
            self._refusal_count += call.refused
            self._changed.notify_all()
        return status, extra_headers, answer

    def hold(self, method: str) -> threading.Event:
        """Calls to `method` wait, unanswered, until the returned event is set (a slow Slack,
        or work caught in flight); `wait_for_held` says when one is waiting."""
        gate = threading.Event()
        with self._changed:
            self._holds[method] = gate
        return gate

    def wait_for_held(self, method: str, count: int = 1, timeout: float = LIVENESS_SECONDS) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._held[method] >= count, timeout):
                raise TimeoutError(f"expected {count} held call(s) to {method} within {timeout}s")

    def _wait_if_held(self, method: str) -> None:
        with self._changed:
            gate = self._holds.get(method)
            if gate is None or gate.is_set():
                return
            self._held[method] += 1
            self._changed.notify_all()
        gate.wait(timeout=60)

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, count: int = 1
    ) -> None:
        """Answer the next `count` calls to `method` with `status` (429 carries Retry-After)."""
        with self._changed:
            queued = self._failures.setdefault(method, deque())
            queued.extend(_InjectedFailure(status, retry_after) for _ in range(count))

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = LIVENESS_SECONDS
    ) -> list[Call]:
        """Block until `count` calls to `method` arrived (refused ones too); returns them all."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._call_counts[method] >= count, timeout):
                seen = ", ".join(sorted(self._call_counts)) or "none"
                raise TimeoutError(
                    f"expected {count} call(s) to {method} within {timeout}s, "
                    f"got {self._call_counts[method]}; methods called: {seen}"
                )
            calls = [call for call in self.calls if call.method == method]
        return calls

    @property
    def refusals(self) -> int:
        """How many calls were answered 429, rate limited or injected."""
        with self._changed:
            return self._refusal_count

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages the bot posted (replies included), oldest first; optionally in one channel."""
        with self.workspace.lock:
            return [
                m
                for m in self.workspace.messages
                if m.bot_id and (channel is None or m.channel == channel)
            ]

    def person_message(
        self, channel: str, text: str, *, user: str, ts: str | None = None
    ) -> Message:
        """Record a message a person wrote (e.g. the one an event is about), so the bot can
        reply in its thread; it shows in conversations.history, not in `messages()`."""
        with self.workspace.lock:
            return self.workspace.add_person_message(channel, text, user=user, ts=ts)

    @property
    def ephemeral_messages(self) -> list[EphemeralMessage]:
        with self.workspace.lock:
            return list(self.workspace.ephemeral_messages)

    @property
    def views(self) -> dict[str, JsonDict]:
        """Every view opened, published or updated, by view id (latest version)."""
        with self.workspace.lock:
            return dict(self.workspace.views)

    @property
    def home_views(self) -> dict[str, JsonDict]:
        """The App Home view published for each user id."""
        with self.workspace.lock:
            return dict(self.workspace.home_views)

    def suggested_prompts(self, channel: str, thread_ts: str) -> JsonDict | None:
        """The last assistant.threads.setSuggestedPrompts of an AI-app thread:
        {"prompts": [{"title", "message"}...], "title": ...}."""
        with self.workspace.lock:
            return self.workspace.suggested_prompts.get((channel, thread_ts))

    def thread_status(self, channel: str, thread_ts: str) -> str | None:
        """The last status set on an AI-app thread ("" once cleared)."""
        with self.workspace.lock:
            return self.workspace.thread_status.get((channel, thread_ts))

    def thread_title(self, channel: str, thread_ts: str) -> str | None:
        with self.workspace.lock:
            return self.workspace.thread_titles.get((channel, thread_ts))

    def function_result(self, execution_id: str) -> tuple[str, Any] | None:
        """How a custom step ended: ("success", outputs), ("error", message) or None yet."""
        with self.workspace.lock:
            return self.workspace.function_results.get(execution_id)

    def unfurl(self, channel: str, ts: str) -> JsonDict | None:
        """The `unfurls` chat.unfurl gave the message at (channel, ts): {url: attachment}."""
        with self.workspace.lock:
            return self.workspace.unfurls.get(f"{channel}/{ts}")

    # -- response_url ------------------------------------------------------------------------

    def response_url(self) -> str:
        """A fresh URL that accepts JSON POSTs like Slack's response_url; see `responses`."""
        path = f"/response/{uuid.uuid4().hex}"
        with self._changed:
            self._response_paths.add(path)
        return self.base_url + path

    def _record_response(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        with self._changed:
            if path not in self._response_paths:
                return 404
        try:
            parsed = json.loads(body) if body else {}
        except json.JSONDecodeError:
            return 400
        post = ResponsePost(self.base_url + path, parsed, headers, self._clock())
        with self._changed:
            self.responses.append(post)
            self._changed.notify_all()
        return 200

    def wait_for_responses(
        self, count: int = 1, timeout: float = LIVENESS_SECONDS
    ) -> list[ResponsePost]:
        """Block until `count` response_url posts arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.responses) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} response_url post(s) within {timeout}s, "
                    f"got {len(self.responses)}"
                )
            return list(self.responses)

    # -- Socket Mode -------------------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        """How many times a Socket Mode client connected (2 after one reconnect)."""
        return self._socket_mode.connection_count

    def wait_for_socket_connections(
        self, count: int = 1, timeout: float = LIVENESS_SECONDS
    ) -> None:
        self._socket_mode.wait_for_connections(count, timeout)

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
        """Send a Socket Mode envelope to the connected client, waiting for one; returns its id."""
        return self._socket_mode.send_envelope(
            type,
            payload,
            envelope_id=envelope_id,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            timeout=timeout,
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = LIVENESS_SECONDS) -> JsonDict:
        """The ack `{"envelope_id", "payload"?}` the client sent back for `envelope_id`."""
        return self._socket_mode.wait_for_ack(envelope_id, timeout)

    def disconnect_clients(
        self, *, send_disconnect_envelope: bool = True, grace: float = 1.0
    ) -> None:
        """Send Slack's refresh_requested disconnect then close, or just drop the sockets."""
        self._socket_mode.disconnect_clients(
            send_disconnect_envelope=send_disconnect_envelope, grace=grace
        )

"""The gunicorn worker class of HTTP mode: request threads behind an event loop that buffers.

The arbiter that runs these workers is bot/entrypoints/worker.py, started by `policybot
serve`; each worker builds its own runtime and WSGI app through `bot.compose`.

Slow clients: a worker's event loop reads each request into memory before any request thread
sees it (`PolicybotWorker`), so idle connections and requests that trickle in hold no thread,
and a request that has not fully arrived `IDLE_SECONDS` after its connection was accepted
(or its previous answer sent) is dropped. What the threads then read or write times out
after `IO_TIMEOUT_SECONDS`. A flood of connections still costs file descriptors and event
loop time: the supported deployment is behind a buffering reverse proxy or load balancer
that limits connections per client (docs/security.md).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import struct
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import glogging, http
from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.adapters.web.limits import MAX_BODY_BYTES

log = logging.getLogger(__name__)

# Most simultaneous connections one worker keeps (idle ones included); more wait in the
# kernel's backlog. Raised with the process's open-file limit at start.
WORKER_CONNECTIONS = 2048
# A new connection must have sent its whole request, and a kept-alive one its next request,
# this long after it was accepted or answered; else it is closed.
IDLE_SECONDS = 5
# A request head this long without its end is refused (431), as waitress does.
HEAD_LIMIT = 32 * 1024
# A whole request (head and body, the body at most MAX_BODY_BYTES) is read into memory before
# a thread takes it, so a slow sender never holds a thread. Up to this much per connection
# costs nothing more; beyond it, bodies draw on the worker's BUFFER_BUDGET, and a request
# that finds the budget spent is refused (503) instead of growing the process.
BUFFER_FREE = 64 * 1024
BUFFER_BUDGET = 64 * 1024 * 1024


def _refusal(status: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


TOO_LARGE = _refusal("431 Request Header Fields Too Large", "")
BODY_TOO_LARGE = _refusal(
    "413 Request Entity Too Large", f"the body is larger than {MAX_BODY_BYTES} bytes\n"
)
NO_LENGTH = _refusal("411 Length Required", "send Content-Length\n")
BUSY = _refusal("503 Service Unavailable", "too many large requests at once; try again\n")
READ_CHUNK = 64 * 1024
# One read or write on a connection waits at most this long (then the connection is closed).
IO_TIMEOUT_SECONDS = 10
# A worker that does not report to the arbiter for this long is restarted.
WORKER_SILENCE_SECONDS = 30
# A worker holding more than half its threads' worth of connections pauses accepting this
# long after each accept, so that a sibling takes the next one (PolicybotWorker).
ACCEPT_STEP_SECONDS = 0.0003
# ...up to this many connections per thread (a flood, not a pool: accept it all, fast).
ACCEPT_SHARING_CONNECTIONS = 16


def request_size(data: bytes | bytearray) -> int | bytes | None:
    """What the head at the start of `data` says: None while it has not ended; the refusal to
    send instead of handing the request on; else the whole request's size in bytes (head,
    and body by its Content-Length; 0 when gunicorn answers it at once)."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or end >= HEAD_LIMIT:
        return TOO_LARGE if len(data) >= HEAD_LIMIT else None
    length = 0
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return NO_LENGTH  # chunked, which Slack never sends: no length to wait for
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return 0  # gunicorn answers 400 at once, reading nothing more
    if length > MAX_BODY_BYTES:
        return BODY_TOO_LARGE
    return end + 4 + length


def _state(received: int, size: int | bytes | None) -> bytes | bool:
    """False while a request of `size` (as request_size says) lacks bytes, having `received`;
    True once whole; else the refusal."""
    if size is None:
        return False
    if isinstance(size, bytes):
        return size
    return received >= size


def request_state(data: bytes | bytearray) -> bytes | bool:
    """False while `data` lacks its request's end; True once it holds a whole request (head
    and, by its Content-Length, body); else the refusal to send instead of handing it on."""
    return _state(len(data), request_size(data))


def over_budget(large_conns: set[Any]) -> bool:
    """True when the requests still arriving on `large_conns` (each holding more than
    BUFFER_FREE) hold more than BUFFER_BUDGET beyond that; those gunicorn closed meanwhile
    (timed out) are forgotten here."""
    held = 0
    for conn in list(large_conns):
        if conn.sock.fileno() == -1:
            large_conns.discard(conn)
        else:
            held += len(conn.received) - BUFFER_FREE
    return held > BUFFER_BUDGET


def steps_back(connections: int, threads: int, workers: int) -> bool:
    """Whether a worker now holding `connections` (the one just accepted included) pauses
    accepting for ACCEPT_STEP_SECONDS, so that a sibling takes the next connection: only
    beside other workers, above half its threads' worth and up to ACCEPT_SHARING_CONNECTIONS
    per thread (beyond that a flood is accepted at full speed)."""
    return workers > 1 and threads // 2 < connections <= ACCEPT_SHARING_CONNECTIONS * threads


class PolicybotWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's threaded worker, reading each request into memory in its event loop (as
    waitress does) before a request thread sees it.

    A connection holds no thread until its whole request has arrived (a body of at most
    MAX_BODY_BYTES; larger ones, chunked ones and over-long heads are refused here, and
    bodies beyond `BUFFER_FREE` share `BUFFER_BUDGET`). A new connection must complete its
    request, and a kept-alive one its next request, within `IDLE_SECONDS` of being accepted
    or answered, else it is closed; one read or write in a thread waits at most
    `IO_TIMEOUT_SECONDS`.
    """

    accept_paused_until = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections whose request, still arriving, holds more than BUFFER_FREE.
        self.large_conns: set[Any] = set()

    def accept(self, listener: socket.socket) -> None:
        self._take(listener)

    def _take(self, listener: socket.socket) -> bool:
        """Accept one connection from `listener` onto the poller; False when none was waiting."""
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno == errno.ECONNABORTED:
                return True  # that client gave up while queued; others may follow
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return False
            raise
        self.nr_conns += 1
        if self.alive:
            self._step_back_if_busy()
        timeout = struct.pack("ll", IO_TIMEOUT_SECONDS, 0)
        # Kernel-level timeouts hold even where gunicorn makes the socket blocking.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeout)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeout)
        conn = TConn(self.cfg, client, address, listener.getsockname())
        conn.received = bytearray()
        conn.request_size = None
        # gunicorn's "pending" list: murder_pending() closes it when the time is up.
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )
        return True

    # -- sharing connections between the workers ---------------------------------------
    # Every worker polls the one listening socket. A burst of new connections (a proxy's
    # keep-alive pool, a load generator) sits in the kernel's queue before any worker
    # wakes, and the first awake drains it: measured 43/8, 50/0 and 48/7 of 50 keep-alive
    # connections on two workers, one worker then serving them all on one core while the
    # other idled. Pausing 0.3 ms after each accept lets the sibling take the next one
    # (26/25, 28/27, 26/25, and p99 at 50 connections 58-77 ms -> 39-58 ms on SQLite). A
    # lone worker, or one holding few connections, never pauses; nor does one holding more
    # than ACCEPT_SHARING_CONNECTIONS per thread, so a flood is taken at full speed.

    def _step_back_if_busy(self) -> None:
        if steps_back(self.nr_conns, self.cfg.threads, self.cfg.workers):
            self.accept_paused_until = time.monotonic() + ACCEPT_STEP_SECONDS
            self.set_accept_enabled(False)

    def set_accept_enabled(self, enabled: bool) -> None:
        if not enabled and not self.alive:
            self._stop_listening()
            return
        # gunicorn's loop asks for accepting again on every turn; not before the pause ends.
        super().set_accept_enabled(enabled and time.monotonic() >= self.accept_paused_until)

    # -- stopping ------------------------------------------------------------------------
    # On SIGTERM gunicorn's worker stops polling the listening socket but keeps it open until
    # its last request is done (up to the graceful timeout), and the arbiter closed its own
    # copy already. Meanwhile the kernel still completes handshakes and queues connections
    # that nobody will accept; when the worker exits, each is reset, its request unanswered
    # (ConnectionResetError on a plain GET, seconds after it was sent). Instead the stopping
    # worker takes what is queued at once (answered, with "Connection: close") and closes
    # its copy; once every worker has, a new connection is refused: nothing was sent, so a
    # client or proxy can retry it elsewhere.

    def _stop_listening(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
            while self.nr_conns < self.worker_connections and self._take(listener):
                pass
        super().set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        left = self.accept_paused_until - time.monotonic()
        super().wait_for_and_dispatch_events(min(timeout, left) if left > 0 else timeout)

    def on_pending_socket_readable(self, conn: Any, client: socket.socket) -> None:
        if self._buffer(conn, self.pending_conns):
            conn.data_ready = True
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.parser.unreader.unread(bytes(conn.received))
            conn.received = None
            self.enqueue_req(conn)

    def on_client_socket_readable(self, conn: Any, client: socket.socket) -> None:
        if self._buffer(conn, self.keepalived_conns):
            conn.parser.unreader.unread(bytes(conn.received))
            conn.received = None
            self.enqueue_req(conn)

    def _buffer(self, conn: Any, waiting: deque[Any]) -> bool:
        """Read what the client sent (without blocking); True when its request is complete:
        the connection then leaves the poller and `waiting` for a request thread. A request
        refused here (too long a head, too large or chunked a body, no budget left) is
        answered and closed without a thread."""
        if getattr(conn, "received", None) is None:
            conn.received = bytearray()
            conn.request_size = None
        try:
            data = conn.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        state: bytes | bool = True
        if data:
            conn.received += data
            # The head is read once per request, not again with every piece of its body.
            if conn.request_size is None:
                conn.request_size = request_size(conn.received)
            state = _state(len(conn.received), conn.request_size)
            if state is False and len(conn.received) > BUFFER_FREE:
                self.large_conns.add(conn)
                if over_budget(self.large_conns):
                    state = BUSY
            if state is False:
                return False  # the rest later, within the connection's time
        self.large_conns.discard(conn)
        self.poller.unregister(conn.sock)
        waiting.remove(conn)
        if not data or state is not True:  # closed or reset by the client, or refused here
            if isinstance(state, bytes):
                with contextlib.suppress(OSError):
                    conn.sock.send(state)
            self.nr_conns -= 1
            conn.close()
            return False
        return True


class _QuietTimeouts(logging.Filter):
    """A connection closed for a read or write timeout is one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BlockingIOError | TimeoutError):
            record.msg, record.args, record.exc_info = (
                "closed a connection that stalled for %ss",
                (IO_TIMEOUT_SECONDS,),
                None,
            )
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class GunicornLogs(glogging.Logger):  # type: ignore[misc]
    """gunicorn's messages go through policybot's logging (LOG_FORMAT, LOG_LEVEL); no access
    log (a line per Slack request says nothing /metrics does not)."""

    def setup(self, cfg: Any) -> None:
        self.error_log.handlers.clear()
        self.error_log.propagate = True
        self.error_log.setLevel(logging.INFO)
        self.error_log.addFilter(_QuietTimeouts())
        self.access_log.handlers.clear()
        self.access_log.propagate = False
        self.access_log.disabled = True

    def access(self, *_args: Any, **_kwargs: Any) -> None:
        # No access log: gunicorn's access() would look five settings up per request to
        # find that out (issue 30's profile), as this class skips its setup().
        return None

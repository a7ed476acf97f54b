"""`policybot serve`: the Slack app over HTTP or Socket Mode, plus the probes.

HTTP mode on gunicorn (`serve_with_workers`, the default): this process binds the port,
runs what must run once per process group (the announcement sender, as `background`) and
starts gunicorn as a child (bot/adapters/web/workers.py), whose N worker processes answer Slack. On
SIGTERM it passes the signal on (gunicorn stops accepting and lets requests in flight
finish; each worker writes its queued questions), stops `background` meanwhile (the sender
gives up its lock) and exits 0 within the grace period.

waitress (`serve`, one process with threads) serves Socket Mode, where the WebSocket client
runs beside it and the port answers only /healthz, /readyz, /metrics and the catalogue, and
HTTP mode with POLICYBOT_SERVER=waitress (where gunicorn cannot run). `background` is started
after the server is ready and stopped before it closes.

`policybot serve` starts the sender before calling either (`AnnouncementScheduler.start` is
idempotent), right after `bot.compose.serving_runtime` and the token check: Bolt, waitress
and the policies folder are loaded only after it, so a restarted process resumes sending
sooner. Everything served is built by bot/compose.py; this module runs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from bot.app.runtime import Runtime
from bot.config import Settings

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from slack_bolt import App

log = logging.getLogger(__name__)

DEFAULT_HOST = "0.0.0.0"
SERVER_THREADS = 8
# waitress accepts 100 connections by default; a burst from Slack or a proxy may hold more.
SERVER_CONNECTION_LIMIT = 1000
# waitress's own limits, so that slow or oversized requests cost little (docs/security.md).
# Slack's requests are small and arrive whole in milliseconds: a connection silent for
# CHANNEL_TIMEOUT seconds is closed (checked every CLEANUP_INTERVAL), headers over 32 KiB and
# bodies over MAX_BODY_BYTES are refused with 431 and 413 before the body is read.
CHANNEL_TIMEOUT_SECONDS = 20
CLEANUP_INTERVAL_SECONDS = 5
MAX_HEADER_BYTES = 32 * 1024
SOCKET_PING_SECONDS = 5.0


class Startable(Protocol):
    """Something that runs alongside the server, e.g. the scheduler."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def slack_settings_problem(settings: Settings) -> str | None:
    """One line naming the missing setting that `serve` needs, or None."""
    if settings.slack_bot_token is None:
        return (
            "SLACK_BOT_TOKEN is not set: give the bot token (xoxb-...) from the app's settings, "
            "or run `policybot catalogue serve` for the catalogue alone"
        )
    if settings.slack_app_token is not None:
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token starting with xapp-"
        return None
    if settings.slack_signing_secret is None:
        return (
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's signing secret "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return None


def mode_of(settings: Settings) -> str:
    return "socket" if settings.slack_app_token is not None else "http"


class StartError(RuntimeError):
    """The server could not start; the message is one line for people."""


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # waitress leaves its loop on SystemExit; the finally blocks below then clean up.
    raise SystemExit(0)


def waitress_server(wsgi: WSGIApplication, *, host: str, port: int) -> Any:
    """waitress on `host:port` with our limits; StartError with one line if it cannot listen."""
    from waitress.server import create_server

    from bot.adapters.web.limits import MAX_BODY_BYTES

    try:
        return create_server(
            wsgi,
            host=host,
            port=port,
            threads=SERVER_THREADS,
            ident="policybot",
            connection_limit=SERVER_CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
            cleanup_interval=CLEANUP_INTERVAL_SECONDS,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_BODY_BYTES + 1,  # waitress refuses sizes >= this
            asyncore_use_poll=True,  # select() fails beyond 1,024 open sockets; poll() does not
        )
    except OSError as error:
        raise StartError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def serve_catalogue(runtime: Runtime, *, port: int, host: str = DEFAULT_HOST) -> None:
    """`policybot catalogue serve`: the catalogue and the probes on waitress, without Slack
    (no token, no /slack/events, no sender), until SIGTERM or SIGINT."""
    from bot.compose import build_web

    if not runtime.settings.catalogue:
        raise StartError(
            "the catalogue is turned off (POLICYBOT_CATALOGUE=off): unset it to serve the catalogue"
        )
    wsgi = build_web(runtime, None)  # no Slack app: no /slack/events
    server = waitress_server(wsgi, host=host, port=port)
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        bound = getattr(server, "effective_port", port)  # the real port when asked for 0
        log.info(f"policybot serving on :{bound} (the catalogue alone, no Slack): /catalogue/")
        server.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        with contextlib.suppress(Exception):
            server.close()
        log.info("policybot stopped")


def serve(
    runtime: Runtime,
    app: App,
    *,
    port: int,
    host: str = DEFAULT_HOST,
    background: Sequence[Startable] = (),
) -> None:
    """Serve until SIGTERM or SIGINT, then stop `background`, the socket and the server."""
    # Imported here: under gunicorn the `serve` process itself needs none of them.
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.compose import build_web

    settings = runtime.settings
    wsgi = build_web(runtime, None if settings.slack_app_token is not None else app)
    server = waitress_server(wsgi, host=host, port=port)
    handler: SocketModeHandler | None = None
    started: list[Startable] = []
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if settings.slack_app_token is not None:
            # The handler's client opens the socket with apps.connections.open through the
            # app's WebClient, i.e. SLACK_API_URL; it reconnects by itself when dropped.
            handler = SocketModeHandler(
                app,
                app_token=settings.slack_app_token.get_secret_value(),
                # A socket that died without a close frame is noticed after 4 silent pings.
                ping_interval=SOCKET_PING_SECONDS,
            )
            try:
                handler.client.connect()
            except SlackApiError as error:
                raise StartError(
                    "Slack refused to open a Socket Mode connection "
                    f"({error.response.get('error')}): check SLACK_APP_TOKEN"
                ) from error
            except OSError as error:
                raise StartError(f"cannot reach Slack for Socket Mode: {error}") from error
        for item in background:
            item.start()
            started.append(item)
        bound = getattr(server, "effective_port", port)  # the real port when asked for 0
        log.info(f"policybot serving on :{bound} ({mode_of(settings)} mode)")
        server.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        for item in reversed(started):
            try:
                item.stop()
            except Exception:
                log.exception("could not stop %r", item)
        if handler is not None:
            handler.client.close()
        with contextlib.suppress(Exception):
            server.close()
        log.info("policybot stopped")


# What the server keeps of the grace period for itself: stopping the sender, the last log line.
GRACE_MARGIN_SECONDS = 3.0


def default_workers() -> int:
    """One worker per CPU this process may run on (a CPU quota is not seen: set the number)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket the workers share; StartError with one line if it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise StartError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> Callable[[], None] | None:
    """For the child, before exec: SIGTERM it when `policybot serve` dies (Linux only), so a
    killed server never leaves workers holding the port. Looked up here, not in the child."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def serve_with_workers(
    settings: Settings,
    *,
    port: int,
    host: str = DEFAULT_HOST,
    workers: int,
    threads: int,
    background: Sequence[Startable] = (),
) -> int:
    """Serve HTTP mode with `workers` gunicorn processes until SIGTERM or SIGINT; the exit code.

    The caller has migrated the database and checked the token; PROMETHEUS_MULTIPROC_DIR is
    already in the environment the workers inherit.
    """
    sock = listen(host, port)
    bound = sock.getsockname()[1]  # the real port when asked for 0
    grace = settings.shutdown_grace.total_seconds()
    stop_requested = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    command = [
        sys.executable,
        "-m",
        "bot.entrypoints.worker",
        f"--fd={sock.fileno()}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--grace={max(1.0, grace - GRACE_MARGIN_SECONDS):g}",
    ]
    child = subprocess.Popen(command, pass_fds=[sock.fileno()], preexec_fn=_die_with_parent())
    # Only the workers accept from now on: a request must never wait in a socket nobody reads.
    sock.close()
    started: list[Startable] = []
    code = 0
    try:
        for item in background:
            item.start()
            started.append(item)
        log.info(
            f"policybot serving on :{bound} (http mode, {workers} workers x {threads} threads)"
        )
        while not stop_requested.wait(0.5):
            if child.poll() is not None:
                log.error("the HTTP workers stopped (exit %s): see above", child.returncode)
                code = 1
                break
    finally:
        deadline = time.monotonic() + grace - 1.0
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        # The sender stops (and gives up its lock) while the workers finish their requests.
        stopper = threading.Thread(target=_stop_all, args=(started,), name="stop-background")
        stopper.start()
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("the HTTP workers did not stop within the grace period: killing them")
            child.kill()
            child.wait()
        stopper.join(timeout=max(0.0, deadline - time.monotonic()))
        for sig, old in previous.items():
            signal.signal(sig, old)
        if child.returncode != 0 and code == 0:
            code = 1
        log.info("policybot stopped")
    return code


def _stop_all(items: Sequence[Startable]) -> None:
    for item in reversed(items):
        try:
            item.stop()
        except Exception:
            log.exception("could not stop %r", item)

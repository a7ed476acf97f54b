"""When the gunicorn worker (bot/adapters/web/workers.py) accepts connections, without a
server: the pause
that lets a sibling worker take the next connection, and the stop that takes what is queued
and closes the listening socket. A real listening socket and real clients; no timing.

How a burst of connections ends up split between two real workers depends on the OS
scheduler: bench/accept_sharing.py measures it, no test asserts it.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.config import Config

from bot.adapters.web.workers import ACCEPT_SHARING_CONNECTIONS, PolicybotWorker, steps_back

THREADS = 8


def test_a_worker_steps_back_above_half_its_threads_and_only_beside_others() -> None:
    assert [steps_back(n, THREADS, 2) for n in range(1, 7)] == [False] * 4 + [True] * 2
    assert not any(steps_back(n, THREADS, 1) for n in range(1, 200))


def test_a_flood_is_accepted_without_pauses() -> None:
    most = ACCEPT_SHARING_CONNECTIONS * THREADS
    assert steps_back(most, THREADS, 2)
    assert not steps_back(most + 1, THREADS, 2)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock


def worker_on(listener: socket.socket, workers: int) -> PolicybotWorker:
    """A worker as gunicorn builds it, its event loop not started: it accepts when told to."""
    cfg = Config()
    cfg.set("workers", workers)
    cfg.set("threads", THREADS)
    worker = PolicybotWorker(0, 0, [listener], None, 30, cfg, None)
    worker.poller = selectors.DefaultSelector()
    worker.set_accept_enabled(True)
    return worker


def connect(listener: socket.socket, count: int) -> list[socket.socket]:
    """`count` clients, each connected (queued in the listener's backlog) before returning."""
    return [socket.create_connection(listener.getsockname(), timeout=10) for _ in range(count)]


def close_all(worker: Any, clients: list[socket.socket]) -> None:
    for conn in list(worker.pending_conns):
        conn.sock.close()
    for client in clients:
        client.close()
    worker.poller.close()
    worker.tmp.close()


def test_beside_another_worker_accepting_pauses_after_half_the_threads(
    listener: socket.socket,
) -> None:
    worker = worker_on(listener, workers=2)
    clients = connect(listener, 6)
    accepting = []
    for _ in clients:
        worker.accept(listener)
        accepting.append(worker._accepting)
    paused = worker.accept_paused_until > 0
    worker.accept_paused_until = 0.0  # as once the pause is over
    worker.set_accept_enabled(True)
    resumed = worker._accepting
    close_all(worker, clients)

    assert worker.nr_conns == 6
    assert accepting == [True] * 4 + [False] * 2 and paused
    assert resumed


def test_a_lone_worker_never_pauses(listener: socket.socket) -> None:
    worker = worker_on(listener, workers=1)
    clients = connect(listener, 6)
    accepting = []
    for _ in clients:
        worker.accept(listener)
        accepting.append(worker._accepting)
    close_all(worker, clients)

    assert accepting == [True] * 6


def test_a_stopping_worker_takes_the_queued_connections_then_closes_the_listener(
    listener: socket.socket,
) -> None:
    worker = worker_on(listener, workers=2)
    clients = connect(listener, 3)
    worker.alive = False  # as after SIGTERM
    worker.set_accept_enabled(False)
    taken = worker.nr_conns
    closed = listener.fileno() == -1
    close_all(worker, clients)

    assert taken == 3
    assert closed

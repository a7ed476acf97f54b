"""The request turnstile (bot/adapters/web/gate.py), with real threads."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bot.adapters.web.gate import TurnGate, gated


def _start(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


def test_one_turn_at_a_time_in_arrival_order() -> None:
    gate = TurnGate(limit=1, patience=30)
    order: list[int] = []
    inside = 0
    most_inside = 0
    release_first = threading.Event()

    def request(n: int) -> None:
        nonlocal inside, most_inside
        with gate.turn():
            inside += 1
            most_inside = max(most_inside, inside)
            if n == 0:
                release_first.wait(5)
            order.append(n)
            inside -= 1

    threads = [_start(request, 0)]
    _wait_until(lambda: gate.counted() == 1)
    for n in range(1, 8):  # queue up behind the first, one by one so the order is known
        threads.append(_start(request, n))
        _wait_until(lambda n=n: gate.waiting() == n)
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert order == list(range(8))
    assert most_inside == 1
    assert gate.counted() == 0 and gate.waiting() == 0


def test_a_turn_held_past_patience_lets_the_next_in() -> None:
    """A request stuck on I/O must not stall the worker: after `patience` the next goes in.
    The gate's clock is the test's, so how long the threads wait for the CPU does not count."""
    now = [0.0]
    gate = TurnGate(limit=1, patience=0.05, clock=lambda: now[0])
    stuck = threading.Event()
    entered = threading.Event()

    def slow() -> None:
        with gate.turn():
            stuck.wait(10)

    def quick() -> None:
        with gate.turn():
            entered.set()

    first = _start(slow)
    _wait_until(lambda: gate.counted() == 1)
    second = _start(quick)
    _wait_until(lambda: gate.waiting() == 1)
    # While the first turn is younger than `patience` on the gate's clock, the second waits
    # (it looks again every `patience` of real time, so a few looks fit in here).
    assert not entered.wait(0.2)
    now[0] += 0.05
    assert entered.wait(5), "the second request never got its turn"
    assert gate.counted() == 0  # the stuck turn no longer counts
    stuck.set()
    first.join(5)
    second.join(5)
    assert gate.waiting() == 0


def test_limit_two_lets_two_in() -> None:
    gate = TurnGate(limit=2, patience=30)
    hold = threading.Event()
    inside = threading.Semaphore(0)

    def request() -> None:
        with gate.turn():
            inside.release()
            hold.wait(5)

    threads = [_start(request) for _ in range(3)]
    assert inside.acquire(timeout=5) and inside.acquire(timeout=5)
    _wait_until(lambda: gate.waiting() == 1)
    assert gate.counted() == 2
    hold.set()
    assert inside.acquire(timeout=5)
    for thread in threads:
        thread.join(5)


def test_an_exception_gives_the_turn_back() -> None:
    gate = TurnGate(limit=1, patience=30)
    with pytest.raises(RuntimeError), gate.turn():
        raise RuntimeError("boom")
    with gate.turn():
        assert gate.counted() == 1


def test_gated_wsgi_app_answers_through_the_gate() -> None:
    gate = TurnGate(limit=1, patience=30)
    seen: list[int] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        seen.append(gate.counted())
        start_response("200 OK", [])
        return [b"ok"]

    started: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        started.append(status)

    assert gated(app, gate)({}, start_response) == [b"ok"]
    assert started == ["200 OK"]
    assert seen == [1] and gate.counted() == 0


@pytest.mark.parametrize(("limit", "patience"), [(0, 1.0), (1, 0.0)])
def test_nonsense_settings_are_refused(limit: int, patience: float) -> None:
    with pytest.raises(ValueError):
        TurnGate(limit=limit, patience=patience)

"""The send pace: slow start, the cuts at 429s, slow probing near the limit, catching up."""

from __future__ import annotations

import threading

import pytest

from bot.adapters.sender.pacing import Pacer


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoSleep(threading.Event):
    """A stop signal that fires whenever a caller would have to sleep: `wait` says at once
    whether the caller may send now."""

    def wait(self, timeout: float | None = None) -> bool:
        return True


def send_for(pacer: Pacer, ticks: Ticks, seconds: float, per_second: int) -> None:
    """`per_second` accepted sends a second for `seconds`, evenly spaced."""
    for _ in range(int(seconds * per_second)):
        ticks.now += 1.0 / per_second
        pacer.succeeded()


def test_slow_start_doubles_the_pace_until_the_first_429_then_cuts_below_what_slack_took() -> None:
    ticks = Ticks()
    pacer = Pacer(20.0, clock=ticks)

    send_for(pacer, ticks, 1.0, 20)
    doubled = pacer.rate
    send_for(pacer, ticks, 1.0, 100)  # Slack took 100 in the last second
    pacer.rate_limited(1.0)

    assert doubled == 40.0
    assert pacer.ceiling == 100.0
    assert pacer.rate == 85.0


def test_after_the_limit_is_found_the_pace_creeps_up_slowly() -> None:
    ticks = Ticks()
    pacer = Pacer(20.0, clock=ticks)
    send_for(pacer, ticks, 1.0, 100)
    pacer.rate_limited(1.0)  # slow start ends
    send_for(pacer, ticks, 10.0, 85)
    finding = pacer.rate  # 1% a second while the limit is not known
    send_for(pacer, ticks, 1.0, 95)
    pacer.rate_limited(1.0)  # the limit found: just under what Slack took
    after_cut = pacer.rate
    send_for(pacer, ticks, 10.0, 92)

    assert 93.0 < finding < 95.0
    assert after_cut == pytest.approx(95.0 * 0.97, rel=0.01)
    assert after_cut < pacer.rate < after_cut * 1.006  # 0.05% a second


def test_429s_of_requests_in_flight_during_the_pause_cut_once() -> None:
    ticks = Ticks()
    pacer = Pacer(20.0, clock=ticks)
    send_for(pacer, ticks, 1.0, 100)

    pacer.rate_limited(1.0)
    once = pacer.rate
    ticks.now += 0.01
    pacer.rate_limited(1.0)
    pacer.rate_limited(1.0)

    assert pacer.rate == once
    assert pacer.rate_limited_count == 3


def test_every_thread_waits_out_retry_after() -> None:
    ticks = Ticks()
    pacer = Pacer(50.0, clock=ticks)
    pacer.rate_limited(1.0)
    stop = NoSleep()

    assert pacer.wait(stop) is False  # inside the pause: no turn (it is the first after it)
    ticks.now += 1.05
    assert pacer.wait(stop) is True


def test_a_late_thread_takes_a_few_missed_turns_back_to_back_but_no_more() -> None:
    ticks = Ticks()
    pacer = Pacer(10.0, clock=ticks)
    stop = NoSleep()
    assert pacer.wait(stop)  # first turn now; the next is due in 0.1 s
    ticks.now += 2.0  # nobody came for 20 turns

    at_once = 0
    while pacer.wait(stop):
        at_once += 1

    assert at_once == 6  # the turn due now and five missed ones; the rest are gone

"""The gunicorn worker's request buffering (bot/adapters/web/workers.py), without a server: when a
request
is whole, and what is refused before a thread sees it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.adapters.web.limits import MAX_BODY_BYTES
from bot.adapters.web.workers import (
    BODY_TOO_LARGE,
    BUFFER_BUDGET,
    BUFFER_FREE,
    HEAD_LIMIT,
    NO_LENGTH,
    TOO_LARGE,
    over_budget,
    request_state,
)

HEAD = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n"


def test_a_request_is_whole_once_its_body_has_arrived() -> None:
    request = HEAD + b"Content-Length: 5\r\n\r\nhello"
    assert request_state(request[:10]) is False
    assert request_state(request[:-1]) is False
    assert request_state(request) is True
    assert request_state(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n") is True


def test_a_body_up_to_the_limit_is_waited_for_in_full() -> None:
    head = HEAD + f"Content-Length: {MAX_BODY_BYTES}\r\n\r\n".encode()
    assert request_state(head + b"x" * (MAX_BODY_BYTES - 1)) is False
    assert request_state(head + b"x" * MAX_BODY_BYTES) is True


def test_what_no_thread_should_wait_for_is_refused_at_once() -> None:
    too_large = HEAD + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
    assert request_state(too_large) == BODY_TOO_LARGE
    assert request_state(HEAD + b"Transfer-Encoding: chunked\r\n\r\n") == NO_LENGTH
    assert request_state(HEAD + b"X: " + b"a" * HEAD_LIMIT) == TOO_LARGE
    assert request_state(HEAD + b"X: " + b"a" * HEAD_LIMIT + b"\r\n\r\n") == TOO_LARGE
    assert BODY_TOO_LARGE.startswith(b"HTTP/1.1 413 ") and NO_LENGTH.startswith(b"HTTP/1.1 411 ")


def test_a_length_that_is_not_a_number_goes_to_gunicorn_which_answers_400() -> None:
    assert request_state(HEAD + b"Content-Length: lots\r\n\r\n") is True


class _Arriving:
    """A connection whose request is still arriving: what the budget looks at (its bytes,
    and whether its socket is closed: `fileno()` -1, as a closed socket says)."""

    def __init__(self, size: int) -> None:
        self.received = bytearray(size)
        self.sock = SimpleNamespace(fileno=lambda: 7)

    def close(self) -> None:
        self.sock = SimpleNamespace(fileno=lambda: -1)


def _arriving(*sizes: int) -> set[Any]:
    """Connections as the worker keeps them in `large_conns`: only those past BUFFER_FREE."""
    return {_Arriving(size) for size in sizes if size > BUFFER_FREE}


def test_bodies_beyond_the_free_part_share_one_budget() -> None:
    # Thousands of small requests cost nothing against the budget.
    assert not over_budget(_arriving(*[BUFFER_FREE] * 2000))
    # Large bodies count beyond their free part: as many 512 KiB bodies as fit...
    per_conn = MAX_BODY_BYTES - BUFFER_FREE
    fitting = BUFFER_BUDGET // per_conn
    assert not over_budget(_arriving(*[MAX_BODY_BYTES] * fitting))
    # ...one more does not.
    crowded = _arriving(*[MAX_BODY_BYTES] * (fitting + 1))
    assert over_budget(crowded)
    # A connection gunicorn closed meanwhile (timed out) no longer counts.
    next(iter(crowded)).close()
    assert not over_budget(crowded)
    assert len(crowded) == fitting

"""A token bucket, the shape of Slack's per-method rate limits (a steady rate plus a burst)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimit:
    """How fast the stand-in accepts calls to `methods`: `per_second` steady, `burst` at once."""

    per_second: float
    burst: int
    methods: frozenset[str] = field(default_factory=lambda: frozenset({"chat.postMessage"}))

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("RateLimit needs per_second > 0 and burst >= 1")


class TokenBucket:
    """Thread-safe token bucket; starts full so a burst is accepted straight away."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._refilled_at = clock()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Take a token: None if the call may go ahead, else whole seconds to wait (>= 1).

        Slack's Retry-After is whole seconds, so the wait is rounded up.
        """
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._refilled_at)
            self._tokens = min(
                float(self._limit.burst), self._tokens + elapsed * self._limit.per_second
            )
            self._refilled_at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            missing = 1.0 - self._tokens
            return max(1, math.ceil(missing / self._limit.per_second))

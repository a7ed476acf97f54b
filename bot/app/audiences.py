"""Who is in which audience: listed members first, then Slack user groups, cached.

A user group's members are read with one `usergroups.users.list` per audience per refresh —
at most every POLICYBOT_AUDIENCE_REFRESH_MINUTES, and again after Slack says the group
changed (`subteam_members_changed`) — never once per question. A failed read keeps the last
members known and is tried again after a short pause.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.policy import Audience

log = logging.getLogger(__name__)

# After a failed read, the next try waits this long (or the refresh period, if shorter).
RETRY_AFTER_FAILURE_SECONDS = 10.0


class UserGroupReader(Protocol):
    """Reads Slack user groups (the Slack adapter implements it; tests use the stand-in)."""

    def group_ids(self) -> dict[str, str]:
        """Each user group's handle -> its ID (`usergroups.list`)."""
        ...

    def members(self, group_id: str) -> frozenset[str]:
        """The user IDs in a user group (`usergroups.users.list`); raises when it cannot."""
        ...


@dataclass
class _Cached:
    members: frozenset[str]
    expires: float
    group_id: str | None = None


class AudienceMembers:
    """The audiences a person is in, from listed members and cached user groups."""

    def __init__(
        self,
        groups: UserGroupReader | None = None,
        *,
        refresh_seconds: float = 15 * 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.groups = groups
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, _Cached] = {}
        self._ids: dict[str, str] = {}
        self._ids_expire = float("-inf")

    def audiences_of(self, user: str, audiences: Sequence[Audience]) -> frozenset[str]:
        """The names of `audiences` that hold `user`: listed first, then user groups."""
        found = {a.name for a in audiences if user in a.members}
        if self.groups is not None:
            for audience in audiences:
                grouped = audience.name not in found and audience.slack_usergroup
                if grouped and user in self._group_members(audience):
                    found.add(audience.name)
        return frozenset(found)

    def group_changed(self, group_id: str) -> None:
        """Slack says a user group's members changed: read it again at the next question."""
        with self._lock:
            for cached in self._cached.values():
                if cached.group_id == group_id:
                    cached.expires = float("-inf")

    def _group_members(self, audience: Audience) -> frozenset[str]:
        assert self.groups is not None and audience.slack_usergroup
        with self._lock:
            now = self.clock()
            cached = self._cached.get(audience.name)
            if cached is not None and now < cached.expires:
                return cached.members
            known = cached.members if cached is not None else frozenset()
            try:
                group_id = self._group_id(audience.slack_usergroup, now)
                members = self.groups.members(group_id) if group_id else frozenset()
                self._cached[audience.name] = _Cached(members, now + self.refresh_seconds, group_id)
                return members
            except Exception as error:  # Slack down: the last members known, for a while
                log.warning(
                    "could not read an audience's user group",
                    extra={"audience": audience.name, "error": str(error)},
                )
                retry = now + min(self.refresh_seconds, RETRY_AFTER_FAILURE_SECONDS)
                self._cached[audience.name] = _Cached(
                    known, retry, cached.group_id if cached else None
                )
                return known

    def _group_id(self, group: str, now: float) -> str | None:
        """A user group's ID from its handle (or the ID itself, as Slack writes them)."""
        assert self.groups is not None
        if group[:1] == "S" and group.isupper():
            return group
        if group not in self._ids or now >= self._ids_expire:
            self._ids = self.groups.group_ids()
            self._ids_expire = now + self.refresh_seconds
        return self._ids.get(group)

"""Who is a policy admin: POLICYBOT_ADMINS, or a member of the POLICYBOT_ADMIN_GROUP user group.

The group's members come from `usergroups.users.list` and are cached for a while, so that
checking every command costs no Slack call, and a change in the group shows within `ttl`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 60.0
RETRY_AFTER_FAILURE_SECONDS = 10.0


class AdminGroup:
    """The members of one Slack user group, fetched lazily and cached for `ttl` seconds."""

    def __init__(
        self,
        client: WebClient,
        group_id: str,
        *,
        ttl: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.group_id = group_id
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._members: frozenset[str] = frozenset()
        self._expires = float("-inf")

    def members(self) -> frozenset[str]:
        with self._lock:
            now = self.clock()
            if now < self._expires:
                return self._members
            try:
                response = self.client.usergroups_users_list(usergroup=self.group_id)
                users = response.get("users") or []
                self._members = frozenset(str(u) for u in users)
                self._expires = now + self.ttl
            except SlackApiError as error:
                # Keep the last known members (none at first): refusing an admin for a few
                # seconds is better than letting anyone in.
                log.warning(
                    "could not read the admin user group",
                    extra={"group": self.group_id, "error": error.response.get("error")},
                )
                self._expires = now + min(self.ttl, RETRY_AFTER_FAILURE_SECONDS)
            except OSError as error:
                log.warning(
                    "could not reach Slack for the admin user group",
                    extra={"group": self.group_id, "error": str(error)},
                )
                self._expires = now + min(self.ttl, RETRY_AFTER_FAILURE_SECONDS)
            return self._members

    def is_member(self, user_id: str) -> bool:
        return user_id in self.members()


class UserGroups:
    """Any user group's members, each group cached as `AdminGroup` caches the admins' (a tool's
    owner may be a user group, whose members may then decide its exceptions)."""

    def __init__(self, client: WebClient, *, ttl: float = GROUP_TTL_SECONDS) -> None:
        self.client = client
        self.ttl = ttl
        self._lock = threading.Lock()
        self._groups: dict[str, AdminGroup] = {}

    def members(self, group_id: str) -> frozenset[str]:
        with self._lock:
            group = self._groups.get(group_id)
            if group is None:
                group = self._groups[group_id] = AdminGroup(self.client, group_id, ttl=self.ttl)
        return group.members()

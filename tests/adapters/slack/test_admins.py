"""Admins from POLICYBOT_ADMINS or the POLICYBOT_ADMIN_GROUP user group, read from Slack."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.adapters.db.store import Store
from bot.adapters.slack.admins import AdminGroup
from bot.compose import build_runtime
from bot.config import Settings
from tests.standin import StandinSlack
from tests.standin.fixtures import standin_slack as standin_slack


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client_for(standin: StandinSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.api_url)


def test_group_members_are_admins_and_others_are_not(standin_slack: StandinSlack) -> None:
    standin_slack.workspace.config.usergroups["S1"] = ["U1", "U2"]
    group = AdminGroup(client_for(standin_slack), "S1")

    assert group.is_member("U1") and group.is_member("U2")
    assert not group.is_member("U3")


def test_members_are_cached_until_the_ttl_passes(standin_slack: StandinSlack) -> None:
    standin_slack.workspace.config.usergroups["S1"] = ["U1"]
    clock = Ticker()
    group = AdminGroup(client_for(standin_slack), "S1", ttl=60, clock=clock)
    group.is_member("U1")

    standin_slack.workspace.config.usergroups["S1"] = ["U2"]
    cached = group.is_member("U1")
    clock.now = 61
    refreshed = (group.is_member("U1"), group.is_member("U2"))

    assert cached and refreshed == (False, True)
    assert len(standin_slack.calls_to("usergroups.users.list")) == 2


def test_unknown_group_makes_no_one_an_admin(standin_slack: StandinSlack) -> None:
    group = AdminGroup(client_for(standin_slack), "S0MISSING")

    assert not group.is_member("U1")


def test_service_consults_the_group_after_the_admin_list(
    standin_slack: StandinSlack, store: Store
) -> None:
    standin_slack.workspace.config.usergroups["S1"] = ["U0GROUPIE"]
    group = AdminGroup(client_for(standin_slack), "S1")

    runtime = build_runtime(Settings(admins=["U0LISTED"]), store.engine, also_admin=group.is_member)

    service = runtime.service
    assert service.is_admin("U0LISTED") and service.is_admin("U0GROUPIE")
    assert not service.is_admin("U0ALICE")


def test_no_group_configured_means_only_the_listed_admins(store: Store) -> None:
    runtime = build_runtime(Settings(admins=["U0LISTED"]), store.engine)

    assert runtime.service.is_admin("U0LISTED") and not runtime.service.is_admin("U0GROUPIE")

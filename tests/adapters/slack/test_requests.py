"""Requests, exceptions, feedback and watches through the real Bolt app in this process:
signed HTTP requests to /slack/events (and the Socket Mode WebSocket), the stand-in Slack,
the outbox sender driven by hand, and a FakeClock so exceptions expire without waiting."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from waitress.server import create_server

from bot.adapters.sender.runner import AnnouncementScheduler
from bot.adapters.slack import desk as requests
from bot.adapters.slack.admins import UserGroups
from bot.adapters.slack.app import build_app
from bot.adapters.slack.guard import SlackEndpoint
from bot.adapters.web.wsgi import make_wsgi_app
from bot.app.desk import Desk
from bot.app.runtime import Runtime
from bot.compose import build_sender
from bot.domain.policy import Status
from tests.adapters.slack.harness import (
    SECRET,
    HttpResult,
    SignedPoster,
    all_text,
    response_to,
    wait_until,
)
from tests.app.desk_setup import build, restart_numbering, set_owner
from tests.conftest import FakeClock
from tests.factories import make_policy, seed_registry
from tests.standin import Message, StandinSlack, payloads
from tests.wiring import seed

ADMIN, ADMIN2, ALICE, BOB = "U0ADMIN", "U0ADMIN2", "U0ALICE", "U0BOB"
ADMIN_CHANNEL = "C0ADMINS"


@dataclass
class Bot:
    """The in-process app: what `SignedPoster` needs (`url`) plus the runtime and sender."""

    url: str
    runtime: Runtime
    standin: StandinSlack
    scheduler: AnnouncementScheduler
    clock: FakeClock

    @property
    def desk(self) -> Desk:
        assert self.runtime.desk is not None
        return self.runtime.desk

    def drain(self) -> None:
        assert self.scheduler.lock.acquire()
        self.scheduler.dispatcher.run_once()


@pytest.fixture
def bot(engine: sa.Engine, clock: FakeClock) -> Iterator[Bot]:
    restart_numbering(engine)
    with StandinSlack(usergroups={"S0SEC": ["U0CAROL"]}) as standin:
        slack = WebClient(token="xoxb-test", base_url=standin.api_url)
        runtime = build(
            engine,
            clock,
            admins=[ADMIN, ADMIN2],
            slack_bot_token="xoxb-test",
            slack_api_url=standin.api_url,
            slack_signing_secret=SECRET,
            exception_max_days=60,
            # The owners' user groups read from the stand-in, as `serve` wires them.
            group_members=UserGroups(slack).members,
        )
        seed(runtime, [*seed_registry(), make_policy("Midjourney", status=Status.CONDITIONAL)])
        app = build_app(runtime)
        endpoint = SlackEndpoint(app, SECRET, first_time=runtime.events.first_time_event)
        server = create_server(make_wsgi_app(engine, endpoint), host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        client = WebClient(token="xoxb-test", base_url=standin.api_url)
        scheduler = build_sender(runtime, client=client, clock=clock)
        port = server.effective_port  # type: ignore[union-attr]
        try:
            yield Bot(f"http://127.0.0.1:{port}", runtime, standin, scheduler, clock)
        finally:
            scheduler.dispatcher.stop()
            scheduler.lock.release()
            server.close()


def poster(bot: Bot) -> SignedPoster:
    return SignedPoster(bot, bot.standin)  # type: ignore[arg-type]


def ask(bot: Bot, text: str, user: str) -> dict[str, Any]:
    """A slash-command question; the answer comes back in the acknowledgement."""
    form = payloads.slash_command(
        "/aipolicy", text, response_url=bot.standin.response_url(), user_id=user
    )
    result = poster(bot).command(form)
    assert result.status == 200
    body: dict[str, Any] = result.json()
    return body


def command(bot: Bot, text: str, user: str) -> str:
    url = bot.standin.response_url()
    form = payloads.slash_command("/aipolicy", text, response_url=url, user_id=user)
    assert poster(bot).command(form).status == 200
    return str(response_to(bot.standin, url).body.get("text", ""))


def button(blocks: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    return next(
        e
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if str(e["action_id"]).startswith(prefix)
    )


def press(bot: Bot, element: dict[str, Any], user: str, message: Message | None = None) -> str:
    """Press a button as `user`; returns the response_url the press carried."""
    url = bot.standin.response_url()
    payload = payloads.block_actions(
        element["action_id"],
        element["value"],
        response_url=url,
        user_id=user,
        channel_id=message.channel if message else payloads.CHANNEL_ID,
        message_ts=message.ts if message else None,
        message=message.to_slack() if message else None,
    )
    assert poster(bot).interaction(payload).status == 200
    return url


def opened_view(bot: Bot, count: int) -> dict[str, Any]:
    call = bot.standin.wait_for("views.open", count)[count - 1]
    view = call.args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def submit(bot: Bot, view: dict[str, Any], values: dict[str, Any], user: str) -> HttpResult:
    shaped = {
        block: {"value": value if isinstance(value, dict) else {"value": value}}
        for block, value in values.items()
    }
    payload = payloads.view_submission(
        view["callback_id"],
        shaped,
        private_metadata=view.get("private_metadata", ""),
        user_id=user,
    )
    return poster(bot).interaction(payload)


def admin_posts(bot: Bot) -> list[Message]:
    return bot.standin.messages(ADMIN_CHANNEL)


def dms(bot: Bot, user: str) -> list[str]:
    return [m.text for m in bot.standin.messages(f"D{user}")]


def refusal(bot: Bot, url: str) -> str:
    return str(response_to(bot.standin, url).body.get("text", ""))


# -- tool requests ---------------------------------------------------------------------------


def test_a_request_from_a_no_policy_answer_is_decided_in_the_admin_channel(bot: Bot) -> None:
    answer = ask(bot, "can I use Kiro?", ALICE)
    press(bot, button(answer["blocks"], requests.REQUEST_REVIEW_ACTION), ALICE)
    form = opened_view(bot, 1)
    done = submit(bot, form, {"tool": "Kiro", "why": "Spec-driven development"}, ALICE)
    ask(bot, "can I use kiro?", ADMIN2)
    command(bot, "request Kiro for the platform team", ADMIN2)  # an admin who asked too
    bot.drain()
    [post] = admin_posts(bot)
    posted = post.text
    bob_answer = ask(bot, "is kiro ok?", BOB)
    press(bot, button(bob_answer["blocks"], requests.REQUEST_REVIEW_ACTION), BOB)
    submit(bot, opened_view(bot, 2), {"tool": "Kiro"}, BOB)
    bot.standin.wait_for("chat.update", 1)
    merged = all_text(admin_posts(bot)[0].blocks)

    staff = refusal(bot, press(bot, button(post.blocks or [], "policybot_request_add"), BOB, post))
    own = refusal(bot, press(bot, button(post.blocks or [], "policybot_request_add"), ADMIN2, post))
    unchanged = bot.runtime.policies.get("Kiro")
    press(bot, button(post.blocks or [], "policybot_request_add"), ADMIN, post)
    edit_form = opened_view(bot, 3)
    bot.standin.wait_for("chat.update", 2)
    bot.drain()
    under_review = dms(bot, ALICE)
    command(bot, "set Kiro conditional --conditions Public repositories only", ADMIN)
    bot.drain()

    assert form["callback_id"] == requests.REQUEST_FORM
    assert done.json()["response_action"] == "update"
    assert "review requested for Kiro" in posted and "1 asked so far" in posted
    assert "3 asked so far" in merged
    assert "Added Kiro for review by <@U0ADMIN>" in all_text(admin_posts(bot)[0].blocks)
    assert "Only policy admins can add a tool for review" in staff
    assert "You asked for Kiro yourself" in own
    assert unchanged is None
    policy = bot.runtime.policies.get("Kiro")
    assert policy is not None and policy.status is Status.CONDITIONAL
    assert edit_form["callback_id"] == "policy_edit" and "Editing Kiro" in all_text(edit_form)
    assert len(under_review) == 1 and "Kiro is now under review" in under_review[0]
    assert (
        "it is now allowed with conditions (conditions: Public repositories only)"
        in (dms(bot, ALICE)[1])
    )
    assert len(dms(bot, ADMIN2)) == 2


def test_a_decline_needs_a_reason_and_tells_the_asker(bot: Bot) -> None:
    command(bot, "request Kiro", ALICE)
    bot.drain()
    [post] = admin_posts(bot)

    press(bot, button(post.blocks or [], "policybot_request_decline"), ADMIN, post)
    form = opened_view(bot, 1)
    submit(bot, form, {"reason": "We standardise on Qoder"}, ADMIN)
    wait_until(lambda: bot.desk.requests.get(1).status == "declined", what="the decline")
    bot.drain()

    assert "Reason: We standardise on Qoder" in dms(bot, ALICE)[0]


# -- exceptions ------------------------------------------------------------------------------


def ask_for_exception(bot: Bot, user: str, days: str = "20") -> None:
    answer = ask(bot, "can I use claude code?", user)
    count = len(bot.standin.calls_to("views.open"))
    press(bot, button(answer["blocks"], requests.REQUEST_EXCEPTION_ACTION), user)
    form = opened_view(bot, count + 1)
    result = submit(
        bot,
        form,
        {
            "why": "The migration scripts need an agent",
            "purpose": "the payments migration",
            "data": {"selected_option": {"value": "internal"}},
            "days": days,
        },
        user,
    )
    assert result.json()["response_action"] == "update", result.text


def approve_in_channel(bot: Bot, post: Message, user: str, until: str) -> HttpResult:
    count = len(bot.standin.calls_to("views.open"))
    press(bot, button(post.blocks or [], "policybot_exception_approve"), user, post)
    form = opened_view(bot, count + 1)
    return submit(bot, form, {"until": {"selected_date": until}, "reason": ""}, user)


def test_an_exception_is_approved_seen_by_its_holder_only_reminded_and_expires(
    bot: Bot,
) -> None:
    ask_for_exception(bot, ALICE)
    bot.drain()
    [post] = admin_posts(bot)
    refused = refusal(
        bot, press(bot, button(post.blocks or [], "policybot_exception_approve"), ALICE, post)
    )
    approve_in_channel(bot, post, ADMIN, "2026-12-01")  # shortened from 2026-12-15
    bot.standin.wait_for("chat.update", 1)
    bot.drain()

    alice = ask(bot, "can I use claude code?", ALICE)
    bob = ask(bot, "can I use claude code?", BOB)
    bot.clock.advance(days=4)
    bot.drain()
    reminded = dms(bot, ALICE)
    bot.clock.advance(days=3)
    bot.drain()
    after = ask(bot, "can I use claude code?", ALICE)

    assert "Nobody decides their own exception" in refused
    assert (
        "You have an exception until 2026-12-01 for the payments migration, data up to internal."
        in all_text(alice["blocks"])
    )
    assert ":no_entry: *Claude Code* is *banned*" in all_text(alice["blocks"])
    assert "exception until" not in all_text(bob["blocks"])
    assert "Your exception for Claude Code is approved" in reminded[0]
    assert "Your exception for Claude Code ends soon" in reminded[1]
    assert "Your exception for Claude Code has ended" in dms(bot, ALICE)[2]
    assert "exception until" not in all_text(after["blocks"])
    assert bot.desk.exceptions.get(1).status == "expired"


def test_a_member_of_the_owner_user_group_approves_an_exception(bot: Bot) -> None:
    set_owner(bot.runtime, "<!subteam^S0SEC|security>")
    ask_for_exception(bot, ALICE)
    bot.drain()
    [post] = admin_posts(bot)

    refused = refusal(
        bot, press(bot, button(post.blocks or [], "policybot_exception_approve"), BOB, post)
    )
    approve_in_channel(bot, post, "U0CAROL", "2026-12-05")
    wait_until(lambda: bot.desk.exceptions.get(1).status == "active", what="the approval")

    assert "Only policy admins or the owner of Claude Code" in refused
    assert bot.desk.exceptions.get(1).decided_by == "U0CAROL"
    assert bot.standin.calls_to("usergroups.users.list")[0].args["usergroup"] == "S0SEC"


def test_an_admin_revokes_an_exception_from_the_admin_post(bot: Bot) -> None:
    ask_for_exception(bot, ALICE)
    bot.drain()
    [post] = admin_posts(bot)
    approve_in_channel(bot, post, ADMIN2, "2026-12-10")
    bot.standin.wait_for("chat.update", 1)
    [approved] = admin_posts(bot)  # now with who approved, the request as sent, and Revoke…
    revoke = button(approved.blocks or [], "policybot_exception_revoke")
    shown = all_text(approved.blocks)

    by_staff = refusal(bot, press(bot, revoke, BOB, approved))
    press(bot, revoke, ADMIN, approved)
    form = opened_view(bot, 3)
    submit(bot, form, {"reason": "The project ended"}, ADMIN)
    wait_until(lambda: bot.desk.exceptions.get(1).status == "revoked", what="the revocation")
    bot.drain()

    assert "exception requested for Claude Code" in shown and "Approved by <@U0ADMIN2>" in shown
    assert "Only policy admins can revoke" in by_staff
    assert "exception until" not in all_text(ask(bot, "can I use claude code?", ALICE)["blocks"])
    # The approval and the revocation DMs went out in one round, in either order.
    assert any("Reason: The project ended" in dm for dm in dms(bot, ALICE))
    assert "Revoked by <@U0ADMIN>" in all_text(admin_posts(bot)[0].blocks)


def test_an_admin_revokes_an_exception_by_command(bot: Bot) -> None:
    ask_for_exception(bot, ALICE)
    bot.drain()
    [post] = admin_posts(bot)
    approve_in_channel(bot, post, ADMIN2, "2026-12-10")
    wait_until(lambda: bot.desk.exceptions.get(1).status == "active", what="the approval")

    by_staff = command(bot, "revoke E1 --reason no", BOB)
    revoked = command(bot, "revoke E1 --reason The project ended", ADMIN)

    assert "Only policy admins" in by_staff
    assert "Revoked E1" in revoked


# -- feedback and watches --------------------------------------------------------------------


def test_a_not_helpful_press_reaches_the_admin_queue(bot: Bot) -> None:
    answer = ask(bot, "can I use cursor for customer data?", ALICE)
    url = press(bot, button(answer["blocks"], requests.NOT_HELPFUL_ACTION), ALICE)
    thanks = refusal(bot, url)

    queue = command(bot, "unanswered", ADMIN)

    [item] = bot.desk.feedback.queue()
    assert "policy admins will look" in thanks
    assert (item.user, item.question, item.tools) == (
        ALICE,
        "can I use cursor for customer data?",
        ("Cursor",),
    )
    assert "not helpful: can I use cursor for customer data?" in queue


def test_a_watcher_gets_one_dm_per_change(bot: Bot) -> None:
    answer = ask(bot, "can I use qoder?", ALICE)
    press(bot, button(answer["blocks"], "policybot_watch"), ALICE)
    wait_until(lambda: bot.desk.watches.watched(ALICE) == ["Qoder"], what="the watch")

    command(bot, "set Qoder conditional --conditions Internal code only", ADMIN)
    command(bot, "set Cursor banned", ADMIN)  # not watched
    bot.drain()

    [dm] = dms(bot, ALICE)
    assert "A policy you watch changed" in dm and "Qoder: allowed → conditional" in dm


# -- Socket Mode -----------------------------------------------------------------------------


def test_request_and_feedback_work_over_socket_mode(bot: Bot) -> None:
    app = build_app(bot.runtime)
    handler = SocketModeHandler(app, app_token="xapp-test")
    handler.client.connect()
    try:
        bot.standin.wait_for_socket_connections(1, timeout=10)
        url = bot.standin.response_url()
        envelope = bot.standin.send_envelope(
            "slash_commands",
            payloads.slash_command("/aipolicy", "can I use Kiro?", response_url=url, user_id=ALICE),
            accepts_response_payload=True,
        )
        answer = bot.standin.wait_for_ack(envelope)["payload"]
        review = button(answer["blocks"], requests.REQUEST_REVIEW_ACTION)
        bot.standin.wait_for_ack(
            bot.standin.send_envelope(
                "interactive",
                payloads.block_actions(
                    review["action_id"],
                    review["value"],
                    response_url=bot.standin.response_url(),
                    user_id=ALICE,
                ),
            )
        )
        form = opened_view(bot, 1)
        bot.standin.wait_for_ack(
            bot.standin.send_envelope(
                "interactive",
                payloads.view_submission(
                    form["callback_id"], {"tool": {"value": {"value": "Kiro"}}}, user_id=ALICE
                ),
            )
        )
        not_helpful = button(answer["blocks"], requests.NOT_HELPFUL_ACTION)
        bot.standin.send_envelope(
            "interactive",
            payloads.block_actions(
                not_helpful["action_id"],
                not_helpful["value"],
                response_url=bot.standin.response_url(),
                user_id=ALICE,
            ),
        )
        wait_until(lambda: bot.desk.feedback.queue(), what="the feedback")
        bot.drain()
    finally:
        handler.client.close()

    [view] = bot.desk.requests.listing()
    assert [a.user for a in view.askers] == [ALICE]
    assert "review requested for Kiro" in admin_posts(bot)[0].text


# -- the unanswered queue --------------------------------------------------------------------


def queue_blocks(bot: Bot, user: str) -> list[dict[str, Any]]:
    url = bot.standin.response_url()
    form = payloads.slash_command("/aipolicy", "unanswered", response_url=url, user_id=user)
    assert poster(bot).command(form).status == 200
    blocks: list[dict[str, Any]] = response_to(bot.standin, url).body.get("blocks") or []
    return blocks


def test_the_queue_groups_by_term_and_an_alias_from_slack_tells_the_asker(bot: Bot) -> None:
    for question, user in (("can I use Kiro?", ALICE), ("is kiro allowed?", BOB)):
        ask(bot, question, user)
    command(bot, "request Kiro for specs", ALICE)
    blocks = queue_blocks(bot, ADMIN)

    staff = refusal(bot, press(bot, button(blocks, "policybot_term_alias"), BOB))
    press(bot, button(blocks, "policybot_term_alias"), ADMIN)
    form = opened_view(bot, 1)
    done = submit(bot, form, {"tool": "Qoder"}, ADMIN)
    bot.drain()

    assert "*kiro*: asked 2 times" in all_text(blocks).lower()
    assert "Only policy admins can work the unanswered queue" in staff
    assert done.json()["response_action"] == "update"
    qoder = bot.runtime.policies.get("kiro")
    assert qoder is not None and qoder.name == "Qoder"
    # The `alias` command's revision.
    assert bot.runtime.policies.history("Qoder")[-1].author == ADMIN
    assert "Qoder (which covers Kiro): it is now allowed" in dms(bot, ALICE)[0]
    assert "kiro" not in all_text(queue_blocks(bot, ADMIN)).lower()


def test_answering_a_term_from_slack_dms_the_people_who_asked(bot: Bot) -> None:
    command(bot, "request Zed", BOB)
    blocks = queue_blocks(bot, ADMIN)

    press(bot, button(blocks, "policybot_term_answer"), ADMIN)
    submit(bot, opened_view(bot, 1), {"text": "Zed is fine without AI features."}, ADMIN)
    wait_until(lambda: bot.desk.requests.get(1).status == "answered", what="the answer")
    bot.drain()

    assert "The policy admins answered: Zed is fine without AI features." in dms(bot, BOB)[0]


def test_the_weekly_digest_reports_helpful_and_not_helpful_per_tool(bot: Bot) -> None:
    for user, action in ((ALICE, requests.NOT_HELPFUL_ACTION), (BOB, requests.HELPFUL_ACTION)):
        answer = ask(bot, "can I use cursor?", user)
        press(bot, button(answer["blocks"], action), user)
    wait_until(lambda: len(bot.desk.feedback.queue()) == 1, what="the votes")
    wait_until(
        lambda: (
            bot.runtime.announcements is not None
            and bot.runtime.announcements.digest_details(
                bot.clock.now - dt.timedelta(days=7), bot.clock.now + dt.timedelta(seconds=1)
            )["feedback"]
            == [["Cursor", 1, 1]]
        ),
        what="both votes",
    )
    assert bot.runtime.announcements is not None

    bot.clock.advance(minutes=1)
    bot.runtime.announcements.create_digest(bot.clock.now)
    bot.drain()

    [digest] = admin_posts(bot)
    assert "• Cursor: 1 helpful, 1 not helpful" in all_text(digest.blocks)

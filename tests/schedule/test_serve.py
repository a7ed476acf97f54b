"""End to end: the real `policybot serve` (HTTP endpoint, scheduler) against the stand-in Slack.

A policy change sent as a signed slash command is announced in the channel, the Acknowledge
button is pressed through /slack/events, reminders reach only those who did not press it, and a
fan-out to 3,000 members survives a SIGKILL with every member messaged exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core import db
from bot.core.models import Acknowledgement, Delivery
from bot.core.store import Store
from bot.slack.announcements import ACK_ACTION
from tests.factories import seed_registry
from tests.schedule.conftest import dm_counts
from tests.slack.harness import (
    COMMAND,
    SECRET,
    BotProcess,
    SignedPoster,
    all_text,
    response_to,
    seeded_database,
    wait_until,
)
from tests.standin import Message, RateLimit, StandinSlack, payloads

CHANNEL = "C0ANNOUNCE"
ADMIN = "U0ADMIN"
STAFF = ["U0ALICE", "U0BOB", "U0CAROL"]


def bot_env(standin: StandinSlack, url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.api_url,
        "POLICYBOT_ADMINS": ADMIN,
        "POLICYBOT_COMMAND": COMMAND,
        "POLICYBOT_POLICIES": str(workdir / "no-policies"),
        "POLICYBOT_ANNOUNCE_CHANNEL": CHANNEL,
        "LOG_LEVEL": "INFO",
        **extra,
    }


def command(bot: BotProcess, standin: StandinSlack, text: str, user: str = ADMIN) -> str:
    """Send `/aipolicy text` through the HTTP endpoint; returns what the bot answered."""
    url = standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    assert SignedPoster(bot, standin).command(form).status == 200
    return str(response_to(standin, url, timeout=10).body.get("text", ""))


def press_acknowledge(bot: BotProcess, standin: StandinSlack, message: Message, user: str) -> str:
    """Press the message's Acknowledge button as `user`; returns the response_url it carried."""
    [button] = [
        element
        for block in message.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    url = standin.response_url()
    payload: dict[str, Any] = payloads.block_actions(
        button["action_id"],
        button["value"],
        response_url=url,
        user_id=user,
        channel_id=message.channel,
        message_ts=message.ts,
        message=message.to_slack(),
    )
    assert SignedPoster(bot, standin).interaction(payload).status == 200
    return url


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[BotProcess, StandinSlack, Store]]:
    with StandinSlack(members={CHANNEL: [*STAFF, "U0BOT"]}) as standin:
        url = seeded_database(tmp_path / "policybot.db", seed_registry())
        bot = BotProcess(bot_env(standin, url, tmp_path, POLICYBOT_REMINDER_AFTER="4s"), tmp_path)
        bot.start()
        engine = db.make_engine(url)
        try:
            yield bot, standin, Store(engine)
        finally:
            bot.stop()
            engine.dispose()


def test_change_is_announced_acknowledged_and_reminded_through_the_real_endpoint(
    served: tuple[BotProcess, StandinSlack, Store],
) -> None:
    bot, standin, store = served
    reply = command(bot, standin, "set Cursor banned --reason Uploads code --alternatives Qoder")
    [post] = wait_until(lambda: standin.messages(CHANNEL), 10, "the announcement")
    ack_url = press_acknowledge(bot, standin, post, "U0ALICE")
    thanks = response_to(standin, ack_url).body

    reminders = wait_until(
        lambda: len(dm_counts(standin)) >= 2 and dm_counts(standin), 20, "the reminders"
    )
    [bob_dm] = standin.messages("DU0BOB")
    press_acknowledge(bot, standin, bob_dm, "U0BOB")
    standin.wait_for("chat.update", 1, timeout=10)
    acks = command(bot, standin, "acks Cursor")

    assert "status: under-review → banned" in reply
    assert "Cursor: under review → banned; use Qoder instead" in post.text
    assert ACK_ACTION in all_text(post.blocks)
    assert thanks["response_type"] == "ephemeral" and "recorded" in thanks["text"]
    assert reminders == {"DU0BOB": 1, "DU0CAROL": 1}  # Alice pressed the button
    [updated] = standin.messages("DU0BOB")
    assert ACK_ACTION not in all_text(updated.blocks) and "You acknowledged" in all_text(
        updated.blocks
    )
    with Session(store.engine) as session:
        acked = {a.user_id for a in session.exec(select(Acknowledgement)).all()}
    assert acked == {"U0ALICE", "U0BOB"}
    assert "2 of 3 acknowledged (66%)" in acks and "Not yet: U0CAROL." in acks


def test_killed_mid_fan_out_and_restarted_every_member_is_messaged_exactly_once(
    tmp_path: Path,
) -> None:
    members = [f"U{n:05d}" for n in range(3000)]
    limit = RateLimit(per_second=300, burst=30)
    with StandinSlack(members={CHANNEL: members}, rate_limit=limit) as standin:
        url = seeded_database(tmp_path / "policybot.db", seed_registry())
        env = bot_env(
            standin,
            url,
            tmp_path,
            POLICYBOT_REMINDER_AFTER="2s",
            POLICYBOT_CLAIM_TIMEOUT="2s",
            POLICYBOT_LEASE_TTL="3s",
            POLICYBOT_SEND_RATE="100",
        )
        first = BotProcess(env, tmp_path)
        first.start()
        command(first, standin, "set Cursor banned --alternatives Qoder")
        wait_until(lambda: len(dm_counts(standin)) >= 1000, 60, "a third of the DMs")
        assert first.process is not None
        first.process.kill()  # SIGKILL: no clean-up, claims and unmarked sends left behind
        first.process.wait(10)
        first.process = None
        at_kill = len(dm_counts(standin))
        history_before = len(standin.calls_to("conversations.history"))

        restart = tmp_path / "restart"
        restart.mkdir()
        second = BotProcess(env, restart)
        second.start()
        engine = db.make_engine(url)
        try:
            wait_until(lambda: len(dm_counts(standin)) == len(members), 120, "a DM to every member")
            wait_until(lambda: _all_sent(engine), 30, "every delivery marked sent")
        finally:
            second.stop()
            engine.dispose()

    counts = dm_counts(standin)
    assert at_kill < len(members)  # it really died in the middle
    assert counts == {f"D{m}": 1 for m in members}
    assert len(standin.messages(CHANNEL)) == 1
    assert len(standin.calls_to("conversations.history")) > history_before  # reconciled


def _all_sent(engine: Any) -> bool:
    with Session(engine) as session:
        rows = session.exec(select(Delivery.status)).all()
    return bool(rows) and set(rows) == {"sent"}

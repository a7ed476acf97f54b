"""End to end: the real `policybot serve` (HTTP endpoint, scheduler) against the stand-in Slack.

A policy change sent as a signed slash command is announced in the channel, the Acknowledge
button is pressed through /slack/events, reminders reach only those who did not press it, and a
fan-out to hundreds of members survives a SIGKILL with every member messaged exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.adapters.db import engines as db
from bot.adapters.db.models import Acknowledgement, Delivery, ScheduledStep
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.adapters.slack.announcements import ACK_ACTION
from bot.domain.policy import ToolPolicy
from tests.adapters.sender.conftest import dm_counts
from tests.adapters.slack.harness import (
    ANNOUNCE_ADMIN,
    ANNOUNCE_CHANNEL,
    COMMAND,
    BotProcess,
    SignedPoster,
    all_text,
    announcing_env,
    response_to,
    seeded_database,
    wait_until,
)
from tests.conftest import POSTGRES_URL, REPO, postgres_database
from tests.factories import ban_first_allowed, seed_registry
from tests.standin import Message, RateLimit, StandinSlack, payloads
from tests.wiring import runtime_on, seed

CHANNEL = ANNOUNCE_CHANNEL
ADMIN = ANNOUNCE_ADMIN
STAFF = ["U0ALICE", "U0BOB", "U0CAROL"]


bot_env = announcing_env
# At the stand-in's 200 messages/s a fan-out this size takes ~3 s: a kill after a third lands
# mid fan-out with hundreds still to send, and the test costs a third of what 2,000 did.
FAN_OUT_MEMBERS = 600


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
    with (
        StandinSlack(members={CHANNEL: [*STAFF, "U0BOT"]}) as standin,
        seeded_url(tmp_path) as url,
    ):
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


def test_two_changes_make_one_reminder_dm_per_person_and_one_press_acknowledges_both(
    served: tuple[BotProcess, StandinSlack, Store],
) -> None:
    bot, standin, store = served
    command(bot, standin, "set Cursor banned --alternatives Qoder")
    command(bot, standin, "set Qoder conditional --conditions Internal code only")
    wait_until(lambda: len(standin.messages(CHANNEL)) == 2, 10, "both announcements")
    wait_until(lambda: len(dm_counts(standin)) == len(STAFF), 20, "the reminders")
    wait_until(lambda: _rounds_done(store.engine), 20, "both reminder rounds done")
    [bob_dm] = standin.messages("DU0BOB")
    press_acknowledge(bot, standin, bob_dm, "U0BOB")
    standin.wait_for("chat.update", 1, timeout=10)

    assert dm_counts(standin) == {f"D{person}": 1 for person in STAFF}
    assert "Cursor" in bob_dm.text and "Qoder" in bob_dm.text
    with Session(store.engine) as session:
        acked = session.exec(select(Acknowledgement.announcement_id, Acknowledgement.user_id))
        assert sorted(a for a, user in acked if user == "U0BOB") == sorted(
            {d.announcement_id for d in session.exec(select(Delivery)) if d.kind == "announcement"}
        )


def test_first_import_posts_nothing_a_two_change_version_posts_once_and_reminds_once(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(REPO / "policies", registry)
    with (
        StandinSlack(members={CHANNEL: [*STAFF, "U0BOT"]}) as standin,
        seeded_url(tmp_path, policies=[]) as url,
    ):
        env = bot_env(standin, url, tmp_path, POLICYBOT_REMINDER_AFTER="4s")
        bot = BotProcess(env, tmp_path)
        bot.start()
        engine = db.make_engine(url)
        try:
            cli(env, "import", str(registry))  # the first load: the baseline
            baseline_tools = len(PolicyRepository(Store(engine)).policies())
            changed = _ban_two_allowed_tools(registry)
            cli(env, "import", str(registry))  # one version with two changes
            [post] = wait_until(lambda: standin.messages(CHANNEL), 10, "the version's post")
            wait_until(lambda: len(dm_counts(standin)) == len(STAFF), 30, "the reminders")
            wait_until(lambda: _rounds_done(engine), 20, "the reminder round done")
            [alice_dm] = standin.messages("DU0ALICE")
            press_acknowledge(bot, standin, alice_dm, "U0ALICE")
            standin.wait_for("chat.update", 1, timeout=10)
            with Session(engine) as session:
                acked = session.exec(select(Acknowledgement.user_id)).all()
        finally:
            bot.stop()
            engine.dispose()

    assert baseline_tools == 69
    assert len(standin.messages(CHANNEL)) == 1  # nothing for the baseline, one for the version
    assert all(name in post.text for name in changed)
    assert dm_counts(standin) == {f"D{person}": 1 for person in STAFF}
    assert acked == ["U0ALICE"]


def cli(env: dict[str, str], *args: str) -> None:
    """Run `policybot ARGS` as an admin would, against the bot's database."""
    command = [sys.executable, "-m", "bot.entrypoints.cli", *args]
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _ban_two_allowed_tools(folder: Path) -> list[str]:
    """Ban the first allowed tool of two policy files; their names."""
    names = []
    for path in sorted(p for p in folder.glob("*.yaml") if p.name != "audiences.yaml")[:2]:
        text = path.read_text()
        before = text.partition("status: allowed")[0]
        names.append(before.rsplit("name:", 1)[1].splitlines()[0].strip().strip("'\""))
        path.write_text(ban_first_allowed(text))
    return names


def test_killed_mid_fan_out_and_restarted_every_member_is_messaged_exactly_once(
    tmp_path: Path,
) -> None:
    members = [f"U{n:05d}" for n in range(FAN_OUT_MEMBERS)]
    limit = RateLimit(per_second=200, burst=20)
    with (
        StandinSlack(members={CHANNEL: members}, rate_limit=limit) as standin,
        seeded_url(tmp_path) as url,
    ):
        # The default claim timeout (2 min) and lease TTL (30 s): a takeover waits for neither.
        env = bot_env(standin, url, tmp_path, POLICYBOT_REMINDER_AFTER="2s")
        first = BotProcess(env, tmp_path)
        first.start()
        command(first, standin, "set Cursor banned --alternatives Qoder")
        wait_until(lambda: len(dm_counts(standin)) >= len(members) // 3, 60, "a third of the DMs")
        kill(first)
        at_kill = len(dm_counts(standin))
        engine = db.make_engine(url)
        left_claimed = _statuses(engine).count("claimed")
        history_before = len(standin.calls_to("conversations.history"))

        restart = tmp_path / "restart"
        restart.mkdir()
        second = BotProcess(env, restart)
        second.start()
        try:
            wait_until(lambda: len(dm_counts(standin)) == len(members), 120, "a DM to every member")
            wait_until(lambda: set(_statuses(engine)) == {"sent"}, 30, "every row marked sent")
        finally:
            second.stop()
            engine.dispose()

    assert at_kill < len(members)  # it really died in the middle
    assert dm_counts(standin) == {f"D{m}": 1 for m in members}
    assert len(standin.messages(CHANNEL)) == 1
    assert left_claimed <= SEND_CONCURRENCY  # claims never ran ahead of the sending threads
    looked_up = len(standin.calls_to("conversations.history")) - history_before
    assert looked_up <= left_claimed  # only the dead process's claims were reconciled


def test_two_processes_one_killed_the_other_takes_over_and_messages_each_member_once(
    tmp_path: Path,
) -> None:
    members = [f"U{n:05d}" for n in range(FAN_OUT_MEMBERS)]
    limit = RateLimit(per_second=200, burst=20)
    with (
        StandinSlack(members={CHANNEL: members}, rate_limit=limit) as standin,
        seeded_url(tmp_path) as url,
    ):
        env = bot_env(standin, url, tmp_path, POLICYBOT_REMINDER_AFTER="2s")
        bots = []
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
            bots.append(BotProcess(env, tmp_path / name))
            bots[-1].start()
        engine = db.make_engine(url)
        try:
            command(bots[0], standin, "set Cursor banned --alternatives Qoder")
            wait_until(
                lambda: len(dm_counts(standin)) >= len(members) // 3, 60, "a third of the DMs"
            )
            [sender_pid] = _sender_pids(engine)
            [holder] = [b for b in bots if b.process is not None and b.process.pid == sender_pid]
            [survivor] = [b for b in bots if b is not holder]
            kill(holder)
            at_kill = len(dm_counts(standin))
            wait_until(lambda: len(dm_counts(standin)) == len(members), 120, "a DM to every member")
            wait_until(lambda: set(_statuses(engine)) == {"sent"}, 30, "every row marked sent")
            senders = _sender_pids(engine)
        finally:
            for bot in bots:
                bot.stop()
            engine.dispose()

    assert survivor.process is None  # it ran to the end (stopped cleanly above)
    assert at_kill < len(members)
    assert dm_counts(standin) == {f"D{m}": 1 for m in members}
    assert len(standin.messages(CHANNEL)) == 1
    assert len(senders) == 2  # the killed holder, then the one that took over


SEND_CONCURRENCY = 8  # POLICYBOT_SEND_CONCURRENCY's default


@contextmanager
def seeded_url(tmp_path: Path, policies: list[ToolPolicy] | None = None) -> Iterator[str]:
    """A migrated database holding `policies` (default: the test registry): PostgreSQL when
    TEST_DATABASE_URL is set (a database of its own), else a SQLite file."""
    policies = seed_registry() if policies is None else policies
    if POSTGRES_URL is None:
        yield seeded_database(tmp_path / "policybot.db", policies)
        return
    with postgres_database(POSTGRES_URL, f"policybot_serve_{os.getpid()}") as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        seed(runtime_on(Store(engine)), policies)
        engine.dispose()
        yield url


def kill(bot: BotProcess) -> None:
    """SIGKILL: no clean-up, claims and unmarked sends left behind."""
    assert bot.process is not None
    bot.process.kill()
    bot.process.wait(10)
    bot.process = None


def _statuses(engine: Any) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery.status)).all())


def _rounds_done(engine: Any) -> bool:
    """Every reminder step expanded and every row it made finished (sent or skipped)."""
    with Session(engine) as session:
        steps = session.exec(select(ScheduledStep.done_at)).all()
    return all(steps) and not {"pending", "claimed"} & set(_statuses(engine))


def _sender_pids(engine: Any) -> set[int]:
    """The process ids (host:pid:tail) of every worker that claimed a row sent so far."""
    with Session(engine) as session:
        workers = session.exec(
            select(Delivery.claimed_by).where(Delivery.status == "sent").distinct()
        ).all()
    return {int(w.split(":")[1]) for w in workers if w}

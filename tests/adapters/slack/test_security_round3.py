"""Issue 26 (security round 3) through the real `policybot serve`: two workers, the stand-in
Slack, signed requests as a workspace member (or a legitimate tool owner) would send them.

F2 races between parallel requests of one person and between deciders; F3 privacy by place;
F5 form fields; F6 per-person limits; F7 the forms' metadata and the Acknowledge button; and
the catalogue's search box against the request line. Races run a bounded number of rounds.
On PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.adapters.db import engines as db
from bot.adapters.db.models import (
    Acknowledgement,
    Announcement,
    AnswerFeedback,
    AuditEvent,
    Delivery,
    PolicyException,
    ToolRequestAsker,
    ToolWatch,
)
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.adapters.slack.announcements import ACK_ACTION
from bot.adapters.slack.desk import NOT_HELPFUL_ACTION, REQUEST_EXCEPTION_ACTION
from bot.app.watches import WATCH_ACTION
from tests.adapters.slack.conftest import ADMIN, Served, slack_registry
from tests.adapters.slack.harness import (
    COMMAND,
    SECRET,
    BotProcess,
    HttpResult,
    SignedPoster,
    all_text,
    http,
    response_to,
    seeded_database,
    wait_until,
)
from tests.conftest import POSTGRES_URL, postgres_database
from tests.standin import Message, StandinSlack, payloads

ADMINS = (ADMIN, "U0ADMIN2", "U0ADMIN3", "U0ADMIN4")
OWNER = "U0BOSS"  # the owner of Perplexity in slack_registry(): may decide its exceptions
ADMIN_CHANNEL = "C0ADMINS"
ANNOUNCE_CHANNEL = "C0ANNOUNCE"
WORKERS = 2
REQUESTS_PER_DAY = 5
QUESTIONS_PER_MINUTE = 5
FEEDBACK_PER_HOUR = 3
WATCHES_PER_HOUR = 3
ROUNDS = 8


@pytest.fixture(scope="module")
def served(standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("security-round3")
    with ExitStack() as stack:
        target: Any = workdir / "policybot.db"
        if POSTGRES_URL:
            name = f"policybot_sec3_{os.getpid()}"
            target = stack.enter_context(postgres_database(POSTGRES_URL, name))
        url = seeded_database(target, slack_registry())
        env = {
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "POLICYBOT_ADMINS": ",".join(ADMINS),
            "POLICYBOT_COMMAND": COMMAND,
            "POLICYBOT_POLICIES": str(workdir / "no-policies"),
            "POLICYBOT_ADMIN_CHANNEL": ADMIN_CHANNEL,
            "POLICYBOT_ANNOUNCE_CHANNEL": ANNOUNCE_CHANNEL,
            "POLICYBOT_WORKERS": str(WORKERS),
            "POLICYBOT_REQUESTS_PER_DAY": str(REQUESTS_PER_DAY),
            "POLICYBOT_QUESTIONS_PER_MINUTE": str(QUESTIONS_PER_MINUTE),
            "POLICYBOT_FEEDBACK_PER_HOUR": str(FEEDBACK_PER_HOUR),
            "POLICYBOT_WATCHES_PER_HOUR": str(WATCHES_PER_HOUR),
            "LOG_LEVEL": "INFO",
        }
        bot = BotProcess(env, workdir)
        bot.start()
        engine = db.make_engine(url)
        try:
            yield Served(bot, standin, PolicyRepository(Store(engine)), SignedPoster(bot, standin))
        finally:
            bot.stop()
            engine.dispose()


# -- helpers -----------------------------------------------------------------------------------


def slash(served: Served, text: str, user: str, timeout: float = 20.0) -> dict[str, Any]:
    """`/aipolicy text` as `user`: the reply, in the acknowledgement or at the response_url."""
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    result = served.slack.command(form)
    assert result.status == 200, result.text
    if result.body:
        reply: dict[str, Any] = result.json()
        return reply
    return response_to(served.standin, url, timeout).body


def said(served: Served, text: str, user: str) -> str:
    return str(slash(served, text, user).get("text", ""))


def press(
    served: Served,
    action_id: str,
    value: str,
    user: str,
    message: Message | None = None,
) -> tuple[HttpResult, str]:
    """A button press as `user`; (the HTTP result, the response_url it carried)."""
    url = served.standin.response_url()
    payload = payloads.block_actions(
        action_id,
        value,
        response_url=url,
        user_id=user,
        channel_id=message.channel if message else payloads.CHANNEL_ID,
        message_ts=message.ts if message else None,
        message=message.to_slack() if message else None,
    )
    return served.slack.interaction(payload), url


def opened_view(served: Served, count: int) -> dict[str, Any]:
    call = served.standin.wait_for("views.open", count, timeout=10)[count - 1]
    view = call.args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def submit(
    served: Served,
    view: dict[str, Any],
    values: dict[str, Any],
    user: str,
    private_metadata: str | None = None,
) -> HttpResult:
    shaped = {
        block: {"value": value if isinstance(value, dict) else {"value": value}}
        for block, value in values.items()
    }
    payload = payloads.view_submission(
        view["callback_id"],
        shaped,
        private_metadata=(
            view.get("private_metadata", "") if private_metadata is None else private_metadata
        ),
        user_id=user,
    )
    return served.slack.interaction(payload)


def mention(served: Served, text: str, channel: str, user: str) -> dict[str, Any]:
    payload = payloads.app_mention(text, channel=channel, user=user)
    event = payload["event"]
    served.standin.person_message(channel, event["text"], user=user, ts=event["ts"])
    assert served.slack.event(payload).status == 200
    return payload


def ephemerals(served: Served, channel: str, user: str) -> list[str]:
    return [
        all_text({"text": e.text, "blocks": e.blocks})
        for e in served.standin.ephemeral_messages
        if e.channel == channel and e.user == user
    ]


def bot_messages(served: Served, channel: str) -> list[Message]:
    return [m for m in served.standin.messages(channel) if m.bot_id]


def posted(served: Served, channel: str) -> str:
    return " ".join(
        all_text({"text": m.text, "blocks": m.blocks}) for m in bot_messages(served, channel)
    )


def rows(served: Served, query: Any) -> list[Any]:
    with Session(served.policies.store.engine) as session:
        return list(session.exec(query).all())


def metric(served: Served, kind: str) -> float:
    text = http(f"{served.bot.url}/metrics").text
    found = re.search(rf'^policybot_rate_limited_total\{{kind="{kind}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def exception_number(text: str) -> int:
    found = re.search(r"\(E(\d+)\)", text)
    assert found, text
    return int(found.group(1))


def admin_post(served: Served, label: str) -> Message:
    def find() -> Message | None:
        return next(
            (m for m in served.standin.messages(ADMIN_CHANNEL) if f"{label}:" in m.text), None
        )

    found = wait_until(find, 20, f"the admin post of {label}")
    assert found is not None
    return found


# -- F2: quotas and decisions are atomic -------------------------------------------------------


def test_parallel_requests_of_one_person_never_pass_the_daily_quota(served: Served) -> None:
    for round_ in range(ROUNDS):
        user = f"U0QUOTA{round_}"
        names = [f"Racetool{round_}x{n}" for n in range(20)]
        with ThreadPoolExecutor(len(names)) as pool:
            replies = list(
                pool.map(lambda name, u=user: said(served, f"request {name} now", u), names)
            )

        filed = rows(
            served, select(ToolRequestAsker.tool_as_typed).where(ToolRequestAsker.user_id == user)
        )
        notices = rows(
            served,
            select(Announcement.summary).where(
                Announcement.channel == ADMIN_CHANNEL,
                col(Announcement.summary).contains(f"Racetool{round_}x"),
            ),
        )
        refused = [r for r in replies if "POLICYBOT_REQUESTS_PER_DAY" in r]
        assert len(filed) == REQUESTS_PER_DAY, (round_, filed)
        assert len(notices) == len(filed)
        assert len(refused) == len(names) - REQUESTS_PER_DAY


def test_deciders_pressing_at_the_same_instant_record_one_decision(served: Served) -> None:
    for round_ in range(ROUNDS):
        holder = f"U0HOLDER{round_}"
        asked = said(
            served,
            "exception Claude Code --purpose racing --data internal --days 10 --why race",
            holder,
        )
        number = exception_number(asked)
        barrier = threading.Barrier(len(ADMINS))

        def decide(admin: str, number: int = number, barrier: Any = barrier) -> str:
            barrier.wait()
            verb = "approve" if admin != ADMINS[-1] else "decline"
            reason = "" if verb == "approve" else " --reason no"
            return said(served, f"{verb} E{number}{reason}", admin)

        with ThreadPoolExecutor(len(ADMINS)) as pool:
            answers = list(pool.map(decide, ADMINS))

        decisions = rows(
            served,
            select(AuditEvent.action).where(
                AuditEvent.subject == f"E{number}",
                col(AuditEvent.action).in_(("exception.approved", "exception.declined")),
            ),
        )
        told = rows(
            served,
            select(Announcement.summary)
            .join(Delivery, col(Delivery.announcement_id) == col(Announcement.id))
            .where(
                Delivery.recipient == holder,
                col(Announcement.summary).contains("Your exception for Claude Code"),
            ),
        )
        done = [a for a in answers if re.search(r"\b(Approved|Declined) E", a)]
        assert len(decisions) == 1, (round_, decisions, answers)
        assert len(told) == 1, (round_, told)
        assert len(done) == 1, answers


# -- F3: privacy by place ----------------------------------------------------------------------


def test_an_admins_draft_is_never_posted_in_a_channel(served: Served) -> None:
    channel = "C0DRAFTS"
    staged = said(served, "draft set Cursor banned --reason plan-zebra-1234", ADMIN)
    try:
        mention(served, "is cursor ok?", channel, ADMIN)
        wait_until(lambda: bot_messages(served, channel), 20, "the answer in the channel")
        private = wait_until(
            lambda: ephemerals(served, channel, ADMIN), 20, "the admin's private note"
        )
    finally:
        said(served, "discard", ADMIN)

    assert "Staged" in staged
    assert "Cursor" in posted(served, channel)
    assert "plan-zebra-1234" not in posted(served, channel)
    assert "Draft, not yet published" not in posted(served, channel)
    assert "plan-zebra-1234" in " ".join(private)


@pytest.mark.parametrize(
    "text",
    ["requests", "exceptions all", "audit", "draft", "feedback", "unanswered", "history Cursor"],
)
def test_admin_listings_asked_in_a_channel_are_shown_to_the_admin_only(
    served: Served, text: str
) -> None:
    said(served, "request Walrustool for reason-walrus-77", "U0WALRUS")
    said(served, "draft set Gemini banned --reason plan-heron-55", ADMIN)
    channel = "C0LIST" + re.sub(r"[^A-Z]", "", text.upper())
    try:
        mention(served, text, channel, ADMIN)
        private = wait_until(
            lambda: ephemerals(served, channel, ADMIN), 20, "the listing, privately"
        )
    finally:
        said(served, "discard", ADMIN)

    assert bot_messages(served, channel) == []
    assert private and all(e for e in private)
    if text in ("requests", "audit"):
        assert "reason-walrus-77" in " ".join(private)


def test_an_exception_holder_asking_in_a_channel_sees_the_exception_alone(
    served: Served,
) -> None:
    holder, channel = "U0OKAPI", "C0OKAPI"
    asked = said(
        served,
        "exception Claude Code --purpose purpose-okapi-9 --data confidential --days 10 --why w",
        holder,
    )
    said(served, f"approve E{exception_number(asked)}", ADMIN)
    time.sleep(1.2)  # every worker's snapshot of active exceptions is at most 1 s old

    mention(served, "can I use claude code?", channel, holder)
    wait_until(lambda: bot_messages(served, channel), 20, "the answer in the channel")
    private = wait_until(lambda: ephemerals(served, channel, holder), 20, "the private note")
    in_dm = slash(served, "can I use claude code?", holder)

    assert "Claude Code" in posted(served, channel)
    assert "purpose-okapi-9" not in posted(served, channel)
    assert "You have an exception" not in posted(served, channel)
    assert "purpose-okapi-9" in " ".join(private)
    assert "purpose-okapi-9" in all_text(in_dm)  # privately, as before


# -- F5: forms validate every field --------------------------------------------------------------


def test_the_exception_form_answers_every_bad_field_and_never_fails(served: Served) -> None:
    user = "U0FORMS"
    answer = slash(served, "can I use claude code?", user)
    button = next(
        e
        for b in answer["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if str(e["action_id"]).startswith(REQUEST_EXCEPTION_ACTION)
    )
    count = len(served.standin.calls_to("views.open"))
    press(served, button["action_id"], button["value"], user)
    form = opened_view(served, count + 1)
    good = {
        "why": "The migration needs it",
        "purpose": "the payments migration",
        "data": {"selected_option": {"value": "internal"}},
    }

    superscript = submit(served, form, {**good, "days": "²"}, user)
    arabic = submit(served, form, {**good, "days": "٣"}, user)
    empty = submit(served, form, {"why": "", "purpose": " ", "data": {}, "days": "0"}, user)

    for result in (superscript, arabic, empty):
        assert result.status == 200, result.text
        assert result.json()["response_action"] == "errors"
    assert set(superscript.json()["errors"]) == {"days"}
    assert set(arabic.json()["errors"]) == {"days"}
    assert set(empty.json()["errors"]) == {"why", "purpose", "data", "days"}
    assert "Traceback" not in served.bot.log()
    assert rows(served, select(PolicyException.id).where(PolicyException.user_id == user)) == []


# -- F6: per-person limits ---------------------------------------------------------------------


def test_one_person_flooding_questions_is_limited_and_counted(served: Served) -> None:
    before = metric(served, "question")
    replies = [said(served, f"can I use qoder? ({n})", "U0FLOOD") for n in range(30)]
    calm = said(served, "can I use qoder?", "U0CALM")

    limited = [r for r in replies if "POLICYBOT_QUESTIONS_PER_MINUTE" in r]
    answered = [r for r in replies if r not in limited]
    assert all("Qoder" in r for r in answered)
    assert len(answered) <= QUESTIONS_PER_MINUTE * WORKERS
    assert len(limited) >= 30 - QUESTIONS_PER_MINUTE * WORKERS
    assert "Try again in" in limited[0]
    assert "Qoder" in calm and "POLICYBOT_QUESTIONS" not in calm
    assert metric(served, "question") - before >= len(limited)


def test_one_person_rating_many_answers_is_limited_and_counted(served: Served) -> None:
    user = "U0VOTER"
    before = metric(served, "feedback")
    urls = [
        press(served, NOT_HELPFUL_ACTION, f"is tool number {n} allowed?", user)[1]
        for n in range(12)
    ]
    texts = [str(response_to(served.standin, url, 20).body.get("text")) for url in urls]

    kept = rows(served, select(AnswerFeedback.id).where(AnswerFeedback.user_id == user))
    assert len(kept) == FEEDBACK_PER_HOUR
    assert sum("POLICYBOT_FEEDBACK_PER_HOUR" in t for t in texts) == 12 - FEEDBACK_PER_HOUR
    assert metric(served, "feedback") - before >= 12 - FEEDBACK_PER_HOUR


def test_one_person_watching_many_tools_is_limited_and_counted(served: Served) -> None:
    user = "U0WATCHER"
    before = metric(served, "watch")
    tools = [p.name for p in slack_registry()][:10]
    urls = [press(served, f"{WATCH_ACTION}:0", tool, user)[1] for tool in tools]
    texts = [str(response_to(served.standin, url, 20).body.get("text")) for url in urls]

    kept = rows(served, select(ToolWatch.id).where(ToolWatch.user_id == user))
    assert len(kept) == WATCHES_PER_HOUR
    assert sum("POLICYBOT_WATCHES_PER_HOUR" in t for t in texts) == len(tools) - WATCHES_PER_HOUR
    assert metric(served, "watch") - before >= len(tools) - WATCHES_PER_HOUR


# -- F7: what a payload says is not trusted ----------------------------------------------------


def test_a_decision_form_never_rewrites_another_message(served: Served) -> None:
    said(served, "set Windsurf allowed --reason announced-for-f7", ADMIN)
    announcement = wait_until(
        lambda: next(
            (m for m in served.standin.messages(ANNOUNCE_CHANNEL) if "Windsurf" in m.text), None
        ),
        20,
        "the announcement",
    )
    assert announcement is not None
    asked = said(
        served,
        "exception Perplexity --purpose owner-check --data internal --days 5 --why w",
        "U0ASKER7",
    )
    label = f"E{exception_number(asked)}"
    post = admin_post(served, label)
    count = len(served.standin.calls_to("views.open"))
    press(served, "policybot_exception_approve", label[1:], OWNER, post)
    form = opened_view(served, count + 1)
    tampered = json.loads(form["private_metadata"])
    tampered["message"] = [ANNOUNCE_CHANNEL, announcement.ts]
    values = {"until": {"selected_date": None}, "reason": ""}

    forged = submit(served, form, values, OWNER, private_metadata=json.dumps(tampered))
    assert forged.status == 400
    genuine = submit(served, form, values, OWNER)
    updated = wait_until(
        lambda: [c for c in served.standin.calls_to("chat.update") if c.args.get("ts") == post.ts],
        20,
        "the admin post updated",
    )

    rewritten = [
        c for c in served.standin.calls_to("chat.update") if c.args.get("ts") == announcement.ts
    ]
    assert genuine.status == 200
    assert updated and rewritten == []
    assert "Windsurf" in next(
        m.text for m in served.standin.messages(ANNOUNCE_CHANNEL) if m.ts == announcement.ts
    )


def test_acknowledge_takes_only_a_policy_announcements_id(served: Served) -> None:
    asked = said(
        served,
        "exception Claude Code --purpose ack-check --data internal --days 5 --why w",
        "U0ACKER",
    )
    number = exception_number(asked)
    [notice_id] = rows(
        served, select(PolicyException.admin_notice_id).where(PolicyException.id == number)
    )
    assert notice_id is not None

    result, url = press(served, ACK_ACTION, str(notice_id), "U0ACKER")
    reply = response_to(served.standin, url, 20).body

    assert result.status == 200
    assert ":warning:" in str(reply.get("text"))
    assert (
        rows(
            served,
            select(Acknowledgement.id).where(Acknowledgement.announcement_id == notice_id),
        )
        == []
    )


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("bad-json", payloads.view_submission("policy_edit", {}, private_metadata="{not json")),
        (
            "unsigned",
            payloads.view_submission(
                "policybot_decision_form",
                {"reason": {"value": {"value": "no"}}},
                private_metadata='{"kind": "E", "id": 1, "approve": false, "revoke": false}',
                user_id=ADMIN,
            ),
        ),
        ("list", payloads.view_submission("policy_edit", {}, private_metadata="[1, 2]")),
        (
            "no-actions",
            {
                **payloads.block_actions(ACK_ACTION, "1", response_url="https://hooks.slack.com/x"),
                "actions": [],
            },
        ),
    ],
)
def test_payloads_that_do_not_parse_get_400_never_500(
    served: Served, kind: str, payload: dict[str, Any]
) -> None:
    if "response_url" in payload:
        payload = {**payload, "response_url": served.standin.response_url()}

    result = served.slack.interaction(payload)

    assert result.status == 400, (kind, result.status, result.text)
    assert "Traceback" not in served.bot.log()


# -- informational: the search box and the request line ------------------------------------------


def test_the_longest_search_the_box_allows_is_read_by_the_server(served: Served) -> None:
    page = http(f"{served.bot.url}/catalogue/").text
    found = re.search(r'<input id="q"[^>]* maxlength="(\d+)"', page)
    assert found
    longest = "中" * int(found.group(1))  # three bytes of UTF-8, nine once %-escaped

    result = http(f"{served.bot.url}/catalogue/?q={urllib.parse.quote(longest)}")

    assert result.status == 200

"""Requests, exceptions, watches, feedback and the unanswered queue, on a real database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db import audit
from bot.adapters.db.models import Announcement, Delivery
from bot.adapters.db.store import Store
from bot.app.changes import Actor, ImportPolicies, SavePolicy
from bot.app.desk import Desk
from bot.app.notices import NOTICE_KIND, Notice
from bot.app.policy_exceptions import GroupMembers
from bot.app.runtime import Runtime
from bot.app.tool_requests import RequestError
from bot.config import Settings
from bot.domain.policy import Status
from tests.conftest import FakeClock
from tests.factories import make_policy, seed_registry
from tests.wiring import apply, runtime_on, seed

ADMIN = "UADMIN"
OTHER_ADMIN = "UADMIN2"
ALICE = "UALICE"
BOB = "UBOB"
ADMIN_CHANNEL = "C0ADMINS"


def build(
    engine: sa.Engine,
    clock: FakeClock,
    group_members: GroupMembers | None = None,
    **overrides: object,
) -> Runtime:
    values: dict[str, object] = {
        "admins": [ADMIN, OTHER_ADMIN],
        "admin_channel": ADMIN_CHANNEL,
        "requests_per_day": 3,
        "exception_max_days": 30,
        "exception_reminder": "3d",
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    return runtime_on(Store(engine, clock=clock), settings, group_members=group_members)


def set_owner(runtime: Runtime, owner: str) -> None:
    policy = replace(runtime.policies.resolve("Claude Code"), owner=owner)
    apply(runtime, SavePolicy(policy, tool="Claude Code"))


def restart_numbering(engine: sa.Engine) -> None:
    """R1 and E1 in every test: PostgreSQL keeps counting ids after the tables are emptied."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("tool_request", "policy_exception", "answer_feedback"):
            connection.execute(sa.text(f"ALTER SEQUENCE {table}_id_seq RESTART WITH 1"))


@pytest.fixture
def runtime(engine: sa.Engine, clock: FakeClock) -> Runtime:
    restart_numbering(engine)
    rt = build(engine, clock)
    seed(rt, [*seed_registry(), make_policy("Midjourney", status=Status.CONDITIONAL)])
    return rt


def desk_of(runtime: Runtime) -> Desk:
    assert runtime.desk is not None
    return runtime.desk


def notices_to(store: Store, recipient: str) -> list[Notice]:
    with Session(store.engine) as session:
        rows = session.exec(
            select(Announcement)
            .join(Delivery, col(Delivery.announcement_id) == col(Announcement.id))
            .where(Announcement.kind == NOTICE_KIND, Delivery.recipient == recipient)
            .order_by(col(Announcement.id))
        ).all()
    return [Notice.from_details(row.details) for row in rows]


def say(runtime: Runtime, text: str, user: str) -> str:
    return runtime.service.handle(text, user=user, source="console").text


# -- tool requests ---------------------------------------------------------------------------


def test_requests_for_one_tool_are_merged_with_every_asker_counted(runtime: Runtime) -> None:
    first = say(runtime, "request Kiro we want spec-driven development", ALICE)
    second = say(runtime, "request kiro: for the mobile team", BOB)
    again = say(runtime, "request KIRO", ALICE)

    [view] = desk_of(runtime).requests.listing()
    assert "Asked the policy admins to review Kiro (R" in first
    assert "1 other(s) asked too" in second
    assert "You already asked about Kiro" in again
    assert [a.user for a in view.askers] == [ALICE, BOB]
    [posted] = notices_to(runtime.store, ADMIN_CHANNEL)
    assert posted.title.endswith("review requested for Kiro")
    assert [b.label for b in posted.buttons] == ["Add for review", "Decline…"]


def test_a_request_for_a_tool_with_a_policy_is_refused_with_the_way_to_ask(
    runtime: Runtime,
) -> None:
    text = say(runtime, "request claude cli", ALICE)
    assert "Claude Code already has a policy" in text
    assert desk_of(runtime).requests.listing() == []


def test_add_for_review_creates_the_tool_through_the_add_command_and_tells_askers(
    runtime: Runtime,
) -> None:
    say(runtime, "request Kiro for specs", ALICE)
    [view] = desk_of(runtime).requests.listing()

    reply = say(runtime, f"approve {view.label}", ADMIN)

    policy = runtime.policies.get("Kiro")
    assert policy is not None and policy.status is Status.UNDER_REVIEW
    assert runtime.policies.history("Kiro")[-1].author == ADMIN  # the ordinary revision
    assert "Added Kiro for review" in reply
    [told] = notices_to(runtime.store, ALICE)
    assert "now under review" in told.lines[0]
    assert desk_of(runtime).requests.get(view.id).status == "added"


def test_askers_are_told_again_when_the_tool_gets_a_decided_status(
    runtime: Runtime, clock: FakeClock
) -> None:
    say(runtime, "request Kiro", ALICE)
    say(runtime, "request Kiro", BOB)
    [view] = desk_of(runtime).requests.listing()
    say(runtime, f"approve {view.label}", ADMIN)
    clock.advance(days=2)
    say(runtime, "set Kiro conditional --conditions Public repositories only", ADMIN)

    for asker in (ALICE, BOB):
        _under_review, decided = notices_to(runtime.store, asker)
        assert decided.lines[0] == (
            "You asked about Kiro on 2026-11-25: Kiro: it is now allowed with conditions "
            "(conditions: Public repositories only)."
        )
    assert desk_of(runtime).requests.get(view.id).status == "resolved"


def test_nobody_decides_their_own_request_and_staff_cannot_decide(runtime: Runtime) -> None:
    say(runtime, "request Kiro", ADMIN)
    [view] = desk_of(runtime).requests.listing()

    own = say(runtime, f"approve {view.label}", ADMIN)
    staff = say(runtime, f"decline {view.label} --reason no", ALICE)

    assert "another admin has to decide" in own
    assert "Only policy admins" in staff
    assert runtime.policies.get("Kiro") is None
    assert desk_of(runtime).requests.get(view.id).status == "open"


def test_declining_tells_every_asker_the_reason(runtime: Runtime) -> None:
    say(runtime, "request Kiro", ALICE)
    say(runtime, "request Kiro", BOB)
    reply = say(runtime, "decline R1 --reason We standardise on Qoder", ADMIN)

    assert reply == "Declined R1 (Kiro); 2 told."
    for asker in (ALICE, BOB):
        [told] = notices_to(runtime.store, asker)
        assert "Reason: We standardise on Qoder" in told.lines


def test_an_alias_covering_the_name_resolves_the_request(runtime: Runtime) -> None:
    say(runtime, 'request "claude desktop" for drafting', ALICE)
    say(runtime, 'alias "Claude Code" "claude desktop"', ADMIN)

    [told] = notices_to(runtime.store, ALICE)
    assert "Claude Code (which covers claude desktop): it is now banned" in told.lines[0]


def test_requests_per_day_are_limited_with_a_clear_message(
    runtime: Runtime, clock: FakeClock
) -> None:
    for tool in ("Kiro", "Lovable", "Bolt"):
        say(runtime, f"request {tool}", ALICE)
    over = say(runtime, "request Zed", ALICE)
    clock.advance(days=1, seconds=1)
    later = say(runtime, "request Zed", ALICE)

    assert "You have filed 3 requests in the last 24 hours" in over
    assert "POLICYBOT_REQUESTS_PER_DAY" in over
    assert "Asked the policy admins to review Zed" in later


# -- exceptions ------------------------------------------------------------------------------

ASK = "exception Claude Code --purpose the payments migration --data internal --days 20 --why CLI"


def test_an_approved_exception_shows_in_that_persons_answers_only(runtime: Runtime) -> None:
    asked = say(runtime, ASK, ALICE)
    approved = say(runtime, "approve E1", ADMIN)

    alice = say(runtime, "can I use claude code?", ALICE)
    bob = say(runtime, "can I use claude code?", BOB)

    assert "Asked for an exception (E1)" in asked
    assert "Approved E1 until 2026-12-15" in approved
    assert (
        "You have an exception until 2026-12-15 for the payments migration, data up to internal."
        in alice
    )
    assert "exception" not in bob
    [told] = notices_to(runtime.store, ALICE)
    assert told.title == "Your exception for Claude Code is approved"


def test_an_approval_may_shorten_but_not_lengthen(runtime: Runtime) -> None:
    say(runtime, ASK, ALICE)
    longer = say(runtime, "approve E1 --until 2027-01-31", ADMIN)
    shorter = say(runtime, "approve E1 --until 2026-11-30", ADMIN)

    assert "shorten the period, not lengthen it" in longer
    assert "Approved E1 until 2026-11-30" in shorter


def test_exceptions_are_only_for_banned_or_conditional_tools_within_the_maximum(
    runtime: Runtime,
) -> None:
    allowed = say(runtime, "exception Qoder --purpose x --data public --days 3 --why y", ALICE)
    too_long = say(runtime, ASK.replace("--days 20", "--days 31"), ALICE)

    assert "exceptions are for banned or conditional tools" in allowed
    assert "1 to 30 days (POLICYBOT_EXCEPTION_MAX_DAYS)" in too_long


def test_the_requester_the_staff_and_the_owner(runtime: Runtime) -> None:
    set_owner(runtime, "<@UOWNER>")
    say(runtime, ASK, ALICE)
    exceptions = desk_of(runtime).exceptions

    with pytest.raises(RequestError, match="Nobody decides their own"):
        exceptions.approve(1, user=ALICE)
    with pytest.raises(RequestError, match="Only policy admins or the owner"):
        exceptions.approve(1, user=BOB)
    assert exceptions.get(1).status == "pending"
    assert exceptions.approve(1, user="UOWNER").status == "active"


def test_owner_user_group_members_may_decide(engine: sa.Engine, clock: FakeClock) -> None:
    def members(group: str) -> frozenset[str]:
        return frozenset({"UCAROL"} if group == "S0SEC" else ())

    restart_numbering(engine)
    runtime = build(engine, clock, group_members=members)
    seed(runtime, seed_registry())
    set_owner(runtime, "<!subteam^S0SEC|security>")
    exceptions = desk_of(runtime).exceptions
    say(runtime, ASK, ALICE)
    with pytest.raises(RequestError, match="Only policy admins or the owner"):
        exceptions.approve(1, user=BOB)

    assert exceptions.approve(1, user="UCAROL").decided_by == "UCAROL"


def test_reminded_before_the_end_then_expires_by_itself(runtime: Runtime, clock: FakeClock) -> None:
    say(runtime, ASK.replace("--days 20", "--days 4"), ALICE)
    say(runtime, "approve E1", ADMIN)
    exceptions = desk_of(runtime).exceptions

    assert exceptions.sweep(clock()) == (0, 0)
    clock.advance(days=2, seconds=1)  # 4 days, reminded at the half (the 3 days come earlier)
    assert exceptions.sweep(clock()) == (1, 0)
    assert exceptions.sweep(clock()) == (0, 0)  # once
    clock.advance(days=2)
    answer_at_end = say(runtime, "can I use claude code?", ALICE)  # before any sweep
    assert exceptions.sweep(clock()) == (0, 1)

    assert "You have an exception" not in answer_at_end
    titles = [n.title for n in notices_to(runtime.store, ALICE)]
    assert titles[1:] == [
        "Your exception for Claude Code ends soon",
        "Your exception for Claude Code has ended",
    ]
    actions = [e.action for e in audit.events(runtime.engine, subject="E1")]
    assert actions == [
        "exception.requested",
        "exception.approved",
        "exception.reminded",
        "exception.expired",
    ]
    assert "E1 Claude Code for UALICE: expired" in say(runtime, "exceptions expired", ADMIN)


def test_an_admin_revokes_an_exception(runtime: Runtime) -> None:
    say(runtime, ASK, ALICE)
    say(runtime, "approve E1", ADMIN)

    refused = say(runtime, "revoke E1 --reason no", BOB)
    revoked = say(runtime, "revoke E1 --reason Project cancelled", ADMIN)

    assert "Only policy admins" in refused
    assert "Revoked E1" in revoked
    assert "You have an exception" not in say(runtime, "can I use claude code?", ALICE)
    [audited] = [
        e
        for e in audit.events(runtime.engine, subject="E1")
        if e.action.endswith("ed") and e.action == "exception.revoked"
    ]
    assert (audited.actor, audited.details["reason"]) == (ADMIN, "Project cancelled")


def test_a_policy_change_ends_active_and_pending_exceptions_of_that_tool(
    runtime: Runtime,
) -> None:
    say(runtime, ASK, ALICE)
    say(runtime, "approve E1", ADMIN)
    say(runtime, ASK, BOB)  # still pending
    say(runtime, "exception Midjourney --purpose ads --data public --days 3 --why art", BOB)

    say(runtime, "set Claude Code conditional --conditions Sandbox only", ADMIN)

    exceptions = desk_of(runtime).exceptions
    assert [(e.label, e.status) for e in exceptions.listing()] == [
        ("E1", "ended"),
        ("E2", "ended"),
        ("E3", "pending"),
    ]
    assert exceptions.get(1).end_reason == "Claude Code changed its policy"
    assert "You have an exception" not in say(runtime, "can I use claude code?", ALICE)
    assert notices_to(runtime.store, ALICE)[-1].title == "Your exception for Claude Code has ended"


MIDJOURNEY_ASK = "exception Midjourney --purpose ads --data public --days 30 --why art"


def test_a_ban_scheduled_for_later_keeps_exceptions_until_its_day_then_ends_them(
    runtime: Runtime, clock: FakeClock
) -> None:
    say(runtime, MIDJOURNEY_ASK, ALICE)
    say(runtime, "approve E1", ADMIN)
    day = (clock() + dt.timedelta(days=14)).date()

    said = say(runtime, f"set Midjourney banned --effective {day.isoformat()}", ADMIN)
    exceptions = desk_of(runtime).exceptions
    before_the_day = exceptions.get(1).status
    clock.advance(days=14)
    runtime.changes.apply_due()

    assert "Midjourney" in said
    assert before_the_day == "active"
    assert exceptions.get(1).status == "ended"
    assert runtime.policies.resolve("Midjourney").status is Status.BANNED
    assert notices_to(runtime.store, ALICE)[-1].title == "Your exception for Midjourney has ended"


def test_an_exception_granted_after_a_ban_was_scheduled_ends_when_the_ban_takes_effect(
    runtime: Runtime, clock: FakeClock
) -> None:
    day = (clock() + dt.timedelta(days=14)).date()
    say(runtime, f"set Midjourney banned --effective {day.isoformat()}", ADMIN)
    say(runtime, MIDJOURNEY_ASK, ALICE)
    say(runtime, "approve E1", ADMIN)
    granted = desk_of(runtime).exceptions.get(1).status

    clock.advance(days=14)
    runtime.changes.apply_due()

    assert granted == "active"
    assert desk_of(runtime).exceptions.get(1).status == "ended"


def test_a_scheduled_change_on_its_day_tells_no_watcher_twice(
    runtime: Runtime, clock: FakeClock
) -> None:
    say(runtime, "watch Midjourney", BOB)
    day = (clock() + dt.timedelta(days=3)).date()
    say(runtime, f"set Midjourney banned --effective {day.isoformat()}", ADMIN)
    told_when_scheduled = len(notices_to(runtime.store, BOB))

    clock.advance(days=3)
    runtime.changes.apply_due()

    assert told_when_scheduled == 1
    assert len(notices_to(runtime.store, BOB)) == 1


def test_a_reworded_reason_keeps_exceptions(runtime: Runtime) -> None:
    say(runtime, ASK, ALICE)
    say(runtime, "approve E1", ADMIN)
    reworded = replace(runtime.policies.resolve("Claude Code"), reason="Reworded.")
    apply(runtime, SavePolicy(reworded, tool="Claude Code"), Actor(ADMIN, "console"))
    assert desk_of(runtime).exceptions.get(1).status == "active"


def test_staff_list_their_own_exceptions_admins_everyones(runtime: Runtime) -> None:
    say(runtime, ASK, ALICE)
    say(runtime, "exception Midjourney --purpose ads --data public --days 3 --why art", BOB)

    assert "E2" not in say(runtime, "exceptions", ALICE)
    assert "E1" in say(runtime, "exceptions", ALICE)
    both = say(runtime, "exceptions pending", ADMIN)
    assert "E1" in both and "E2" in both


# -- watches ---------------------------------------------------------------------------------


def test_a_watcher_gets_one_dm_per_change_set_listing_every_watched_tool(
    runtime: Runtime,
) -> None:
    say(runtime, "watch claude code", ALICE)
    say(runtime, "watch Qoder", ALICE)
    say(runtime, "watch Cursor", BOB)
    policies = {p.name: p for p in runtime.policies.policies()}
    changed = [
        policies["Claude Code"].__class__(**{**policies["Claude Code"].__dict__, "reason": "New"}),
        policies["Qoder"].__class__(**{**policies["Qoder"].__dict__, "status": Status.BANNED}),
        *[p for name, p in policies.items() if name not in ("Claude Code", "Qoder")],
    ]

    runtime.changes.import_policies(
        ImportPolicies(tuple(changed)), Actor(ADMIN, "import", trusted=True)
    )

    [dm] = notices_to(runtime.store, ALICE)
    assert dm.title == "2 policies you watch changed"
    assert len(dm.lines) == 2 and "Qoder: allowed → banned" in dm.lines[1]
    assert notices_to(runtime.store, BOB) == []


def test_unwatch_stops_the_dms(runtime: Runtime) -> None:
    say(runtime, "watch Qoder", ALICE)
    assert say(runtime, "unwatch qoder", ALICE) == "You no longer watch Qoder."
    say(runtime, "set Qoder banned", ADMIN)
    assert notices_to(runtime.store, ALICE) == []


# -- feedback and the queue -----------------------------------------------------------------


def test_not_helpful_reaches_the_admin_queue_and_the_digest_counts_per_tool(
    runtime: Runtime, clock: FakeClock
) -> None:
    feedback = desk_of(runtime).feedback
    feedback.record(
        user=ALICE, question="can I use cursor?", answer="…", tools=["Cursor"], helpful=False
    )
    feedback.record(
        user=BOB, question="can I use cursor?", answer="…", tools=["Cursor"], helpful=True
    )
    feedback.record(
        user=BOB, question="can I use cursor?", answer="…", tools=["Cursor"], helpful=True
    )  # a second press replaces, not adds

    queue = say(runtime, "feedback", ADMIN)
    assert runtime.announcements is not None
    details = runtime.announcements.digest_details(
        clock() - dt.timedelta(days=7), clock() + dt.timedelta(seconds=1)
    )

    assert "“can I use cursor?” (Cursor) by UALICE" in queue
    assert details["feedback"] == [["Cursor", 1, 1]]


def test_unanswered_questions_group_by_term_and_leave_once_covered(runtime: Runtime) -> None:
    for question in ("can I use Kiro?", "is kiro allowed", "Kiro ok?", "can I use Zed?"):
        runtime.service.ask(question, asker=ALICE)
    say(runtime, "request Kiro", BOB)
    desk = desk_of(runtime)

    groups = desk.unanswered.groups(runtime.service.registry())
    say(runtime, "alias Qoder = kiro", ADMIN)
    after = desk.unanswered.groups(runtime.service.registry())

    assert [(g.term.lower(), g.count, g.askers) for g in groups] == [
        ("kiro", 3, (BOB,)),
        ("zed", 1, ()),
    ]
    assert [g.key for g in after] == ["zed"]
    assert "Qoder (which covers Kiro)" in notices_to(runtime.store, BOB)[0].lines[0]


def test_answering_a_term_tells_the_askers_and_takes_it_off_the_queue(runtime: Runtime) -> None:
    runtime.service.ask("can I use Zed?", asker=ALICE)
    say(runtime, "request Zed", BOB)

    reply = say(runtime, "answer zed: Zed is fine for personal notes, not for code.", ADMIN)

    assert reply == (
        "Answered 'zed': it leaves the queue, and 1 person who asked was sent your answer."
    )
    [told] = notices_to(runtime.store, BOB)
    assert told.lines == (
        "The policy admins answered: Zed is fine for personal notes, not for code.",
    )
    assert desk_of(runtime).unanswered.groups(runtime.service.registry()) == []


def test_the_auditors_export_lists_every_exception_with_who_decided(
    runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bot.entrypoints.cli import app

    say(runtime, ASK, ALICE)
    say(runtime, "approve E1", ADMIN)
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = CliRunner().invoke(app, ["export-exceptions"])

    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.startswith("id,tool,user,status,purpose")
    assert row.startswith("E1,Claude Code,UALICE,active,the payments migration,internal,20,")
    assert ",UADMIN," in row


def test_a_tool_that_becomes_allowed_ends_exceptions_saying_none_is_needed(
    runtime: Runtime,
) -> None:
    say(runtime, ASK, ALICE)
    say(runtime, "approve E1", ADMIN)

    say(runtime, "set Claude Code allowed", ADMIN)

    assert desk_of(runtime).exceptions.get(1).status == "ended"
    assert notices_to(runtime.store, ALICE)[-1].lines == (
        "Claude Code is now allowed: you no longer need an exception.",
    )


def test_two_first_askers_at_once_make_one_request_on_postgresql(runtime: Runtime) -> None:
    import threading

    from tests.adapters.db.test_store_postgres import wait_for_lock_waiters

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL database to run the concurrency tests")
    replies: dict[str, str] = {}

    def file(user: str) -> None:
        replies[user] = say(runtime, "request Kiro", user)

    # Hold the name's lock so both askers have started before either may look for a request.
    with runtime.engine.connect() as holder, holder.begin():
        holder.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('request:kiro'))"))
        threads = [threading.Thread(target=file, args=(user,)) for user in (ALICE, BOB)]
        for thread in threads:
            thread.start()
        wait_for_lock_waiters(runtime.engine, 2)
    for thread in threads:
        thread.join(timeout=30)

    [view] = desk_of(runtime).requests.listing()
    assert sorted(a.user for a in view.askers) == [ALICE, BOB]
    assert len(notices_to(runtime.store, ADMIN_CHANNEL)) == 1

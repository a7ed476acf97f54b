"""The real `policybot serve` in HTTP mode, driven with signed requests shaped like Slack's."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from bot.domain.policy import DataClass, Status
from tests.adapters.slack.conftest import ADMIN, GROUP_ADMIN, STAFF, Served
from tests.adapters.slack.harness import COMMAND, all_text, http, response_to, wait_until
from tests.standin import Message, payloads

# -- helpers -----------------------------------------------------------------------------------


def command(served: Served, text: str, *, user: str = STAFF, **options: Any) -> tuple[int, str]:
    """Send `/aipolicy text` as `user`; returns (HTTP status, the response_url it carries)."""
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    result = served.slack.command(form, **options)
    return result.status, url


def ask(served: Served, text: str, *, user: str = STAFF) -> dict[str, Any]:
    """The bot's reply to `/aipolicy text`: in the acknowledgement, or at the response_url."""
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    result = served.slack.command(form)
    assert result.status == 200
    if result.body:
        reply: dict[str, Any] = result.json()
        return reply
    return response_to(served.standin, url).body


def replies_in(served: Served, channel: str, count: int = 1) -> list[Message]:
    return wait_until(
        lambda: len(served.standin.messages(channel)) >= count and served.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def mention(
    served: Served, text: str, channel: str, *, retry_num: int | None = None
) -> dict[str, Any]:
    """An app_mention as a person posted it in `channel`; returns the payload sent."""
    payload = payloads.app_mention(text, channel=channel)
    served.standin.person_message(
        channel, payload["event"]["text"], user=STAFF, ts=payload["event"]["ts"]
    )
    assert served.slack.event(payload, retry_num=retry_num).status == 200
    return payload


# -- asking --------------------------------------------------------------------------------------


def test_slash_question_is_answered_privately_in_the_acknowledgement(http_bot: Served) -> None:
    url = http_bot.standin.response_url()
    form = payloads.slash_command(COMMAND, "can I use claude code?", response_url=url)
    result = http_bot.slack.command(form)

    body = result.json()
    assert result.status == 200
    assert body["response_type"] == "ephemeral"
    assert ":no_entry: *Claude Code* is *banned*" in all_text(body["blocks"])
    assert "Claude Code is BANNED" in body["text"]
    assert all(post.url != url for post in http_bot.standin.responses)  # answered once


def test_slash_command_is_acknowledged_then_answered_at_the_response_url(
    http_bot: Served,
) -> None:
    status, url = command(http_bot, "list banned", user=ADMIN)

    body = response_to(http_bot.standin, url).body
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "Claude Code" in body["text"]


def test_slash_help_explains_how_to_ask(http_bot: Served) -> None:
    body = ask(http_bot, "help")

    assert "can I use Claude Code?" in body["text"]
    assert "Admin commands" not in body["text"]


def test_slash_help_shows_admins_the_commands(http_bot: Served) -> None:
    body = ask(http_bot, "help", user=ADMIN)

    assert "Admin commands" in body["text"] and "set &lt;tool&gt;" in body["text"]


def test_mention_is_answered_once_in_its_thread_even_when_slack_resends_it(
    http_bot: Served,
) -> None:
    payload = mention(http_bot, "is cursor allowed?", "C0MENTION")
    [reply] = replies_in(http_bot, "C0MENTION")

    assert http_bot.slack.event(payload, retry_num=1).status == 200
    mention(http_bot, "and qoder?", "C0MENTION")  # answered after the re-send was dealt with
    replies_in(http_bot, "C0MENTION", 2)

    replies = http_bot.standin.messages("C0MENTION")
    assert reply.thread_ts == payload["event"]["ts"]
    assert ":hourglass_flowing_sand: *Cursor*" in all_text(reply.blocks)
    assert [m.thread_ts for m in replies].count(payload["event"]["ts"]) == 1


def test_mention_inside_a_thread_is_answered_in_that_thread(http_bot: Served) -> None:
    parent = http_bot.standin.person_message("C0THREAD", "we need a tool", user=STAFF)
    payload = payloads.app_mention("can I use qoder?", channel="C0THREAD", thread_ts=parent.ts)
    http_bot.standin.person_message(
        "C0THREAD", payload["event"]["text"], user=STAFF, ts=payload["event"]["ts"]
    )

    assert http_bot.slack.event(payload).status == 200

    [reply] = replies_in(http_bot, "C0THREAD")
    assert reply.thread_ts == parent.ts


def test_direct_message_is_answered_in_the_dm(http_bot: Served) -> None:
    payload = payloads.direct_message("can I use qoder?", user="U0DMUSER")

    assert http_bot.slack.event(payload).status == 200

    [reply] = replies_in(http_bot, "DU0DMUSER")
    assert reply.thread_ts is None
    assert ":white_check_mark: *Qoder* is *allowed*" in all_text(reply.blocks)


def test_messages_from_bots_and_from_itself_are_ignored(http_bot: Served) -> None:
    channel = "DU0BOTTY"
    ignored = [
        {"bot_id": "B0OTHER"},
        {"user": "U0BOT", "bot_id": "B0BOT"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"subtype": "message_changed"},
    ]
    for extra in ignored:
        payload = payloads.direct_message("can I use qoder?", user="U0BOTTY")
        payload["event"].update(extra)
        assert http_bot.slack.event(payload).status == 200
    sentinel = payloads.direct_message("can I use cursor?", user="U0BOTTY")
    http_bot.slack.event(sentinel)

    [reply] = replies_in(http_bot, channel)
    assert "Cursor" in reply.text


def test_home_tab_shows_the_registry_grouped_by_status(http_bot: Served) -> None:
    payload = payloads.app_home_opened(user="U0HOMER")

    assert http_bot.slack.event(payload).status == 200

    view = wait_until(lambda: http_bot.standin.home_views.get("U0HOMER"), what="a Home view")
    shown = all_text(view["blocks"])
    headings = [
        shown.index(f"*{label}* (")
        for label in ("Allowed", "Allowed with conditions", "Under review", "Banned")
    ]
    assert view["type"] == "home"
    assert headings == sorted(headings)
    assert shown.index("*Qoder*") < headings[1] < shown.index("*GitHub Copilot*") < headings[2]
    assert shown.index("*Claude Code*") > headings[3]
    assert "can I use Claude Code?" in shown


# -- admin commands ------------------------------------------------------------------------------


def test_admin_set_changes_the_policy_and_records_the_slack_user_as_author(
    http_bot: Served,
) -> None:
    body = ask(
        http_bot,
        'set "GitHub Copilot" banned --reason "Sends code to a third party" '
        "--alternatives Qoder --effective 2026-12-01",
        user=ADMIN,
    )

    policy = http_bot.policies.resolve("GitHub Copilot")
    last = http_bot.policies.history("GitHub Copilot")[-1]
    assert "status: conditional → banned" in body["text"]
    assert (policy.status, policy.reason, policy.alternatives) == (
        Status.BANNED,
        "Sends code to a third party",
        ("Qoder",),
    )
    assert (last.author, last.source) == (ADMIN, "slack")


def test_non_admin_is_refused_and_nothing_changes(http_bot: Served) -> None:
    revisions = len(http_bot.policies.history("Gemini"))

    body = ask(http_bot, "set Gemini banned --reason because", user=STAFF)

    assert "Only policy admins can do that" in body["text"]
    assert http_bot.policies.resolve("Gemini").status is Status.ALLOWED
    assert len(http_bot.policies.history("Gemini")) == revisions


def test_member_of_the_admin_user_group_may_change_a_policy(http_bot: Served) -> None:
    ask(http_bot, "set Tabnine allowed", user=GROUP_ADMIN)

    assert http_bot.policies.resolve("Tabnine").status is Status.ALLOWED
    assert http_bot.policies.history("Tabnine")[-1].author == GROUP_ADMIN


def test_admin_history_lists_the_changes(http_bot: Served) -> None:
    ask(http_bot, "set Replit banned", user=ADMIN)

    body = ask(http_bot, "history Replit", user=ADMIN)

    assert "History of Replit" in body["text"] and f"by {ADMIN} (slack)" in body["text"]


# -- the edit form -------------------------------------------------------------------------------


def open_form(served: Served, text: str, user: str = ADMIN) -> dict[str, Any]:
    """Send `/aipolicy edit ...` and return the view the bot opened."""
    before = len(served.standin.calls_to("views.open"))
    status, _url = command(served, text, user=user)
    assert status == 200
    calls = served.standin.wait_for("views.open", before + 1)
    view: dict[str, Any] = calls[-1].response["view"]
    return view


def form_values(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """view.state.values as Slack would send them for the form as opened, with `changes`."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        field = block["block_id"]
        if element["type"] == "static_select":
            option = element.get("initial_option")
            state = {"type": "static_select", "selected_option": option}
            if field in changes:
                state["selected_option"] = {"value": changes[field]} if changes[field] else None
        elif element["type"] == "datepicker":
            state = {"type": "datepicker", "selected_date": element.get("initial_date")}
            if field in changes:
                state["selected_date"] = changes[field]
        else:
            state = {"type": "plain_text_input", "value": element.get("initial_value")}
            if field in changes:
                state["value"] = changes[field]
        values[field] = {"value": state}
    return values


def submit(served: Served, view: dict[str, Any], user: str = ADMIN, **changes: Any) -> Any:
    payload = payloads.view_submission(
        view["callback_id"],
        form_values(view, **changes),
        private_metadata=view["private_metadata"],
        view_id=view["id"],
        user_id=user,
    )
    result = served.slack.interaction(payload)
    assert result.status == 200
    return result.json() if result.body else None


def test_edit_opens_a_form_with_every_field(http_bot: Served) -> None:
    view = open_form(http_bot, "edit Windsurf")

    fields = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert view["type"] == "modal"
    assert fields == {
        "status",
        "vendor",
        "aliases",
        "category",
        "reason",
        "conditions",
        "max_data",
        "alternatives",
        "effective",
        "owner",
        "link",
    }
    metadata = json.loads(view["private_metadata"])
    assert len(metadata.pop("sig")) == 64  # signed: bot/adapters/slack/metadata.py
    assert metadata == {"tool": "Windsurf", "version": 1, "create": False}


def test_valid_form_saves_and_records_the_author(http_bot: Served) -> None:
    view = open_form(http_bot, "edit Windsurf")

    answer = submit(
        http_bot,
        view,
        status="conditional",
        reason="Uploads whole repositories",
        alternatives="Qoder",
        effective="2026-12-01",
        max_data="internal",
        link="https://intranet.example.com/windsurf",
    )

    policy = http_bot.policies.resolve("Windsurf")
    assert answer is None  # an empty ack closes the form
    assert (policy.status, policy.reason) == (Status.CONDITIONAL, "Uploads whole repositories")
    assert (policy.effective, policy.max_data) == (dt.date(2026, 12, 1), DataClass.INTERNAL)
    assert http_bot.policies.history("Windsurf")[-1].author == ADMIN
    [note] = replies_in(http_bot, f"D{ADMIN}")
    assert "Saved Windsurf" in note.text


def test_invalid_form_shows_errors_on_the_fields_and_changes_nothing(http_bot: Served) -> None:
    view = open_form(http_bot, "edit Devin")

    answer = submit(http_bot, view, status=None, link="not a link")

    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"status", "link"}
    assert http_bot.policies.version_of("Devin") == 1


def test_form_breaking_a_rule_shows_it_on_the_field_and_changes_nothing(
    http_bot: Served,
) -> None:
    view = open_form(http_bot, "edit Devin")

    unknown = submit(http_bot, view, status="banned", alternatives="Nonexistent Tool")
    taken = submit(http_bot, view, status="banned", aliases="Qoder")

    assert "Nonexistent Tool" in unknown["errors"]["alternatives"]
    assert "Qoder" in taken["errors"]["aliases"]
    assert http_bot.policies.version_of("Devin") == 1


def test_every_problem_of_a_form_is_shown_in_one_round(http_bot: Served) -> None:
    view = open_form(http_bot, "edit Devin")

    answer = submit(
        http_bot,
        view,
        link="not a link",  # the form's own check
        aliases="Qoder, <!channel>",  # another tool's name; markup
        alternatives="Nonexistent Tool",  # not in the registry
        reason="x" * 5_000,  # over the limit
    )

    errors = answer["errors"]
    assert set(errors) == {"link", "aliases", "alternatives", "reason"}
    assert "https://" in errors["link"] and "5000 characters" in errors["reason"]
    assert "Nonexistent Tool" in errors["alternatives"]
    assert http_bot.policies.version_of("Devin") == 1
    # Only the rules: every broken one named at once, and still nothing saved.
    rules = submit(http_bot, view, aliases="<!here>", alternatives="Devin", reason="x" * 5_000)
    assert set(rules["errors"]) == {"aliases", "alternatives", "reason"}
    assert all(text.startswith("Nothing was saved") for text in rules["errors"].values())
    assert http_bot.policies.version_of("Devin") == 1


def test_banning_through_the_form_clears_conditions_and_data_limit_as_set_does(
    http_bot: Served,
) -> None:
    # Amazon Q is conditional with conditions and a data limit; the form keeps them filled in.
    view = open_form(http_bot, "edit Amazon Q")

    answer = submit(http_bot, view, status="banned", alternatives="Claude_Code")

    policy = http_bot.policies.resolve("Amazon Q")
    assert answer is None
    assert (policy.status, policy.conditions, policy.max_data) == (Status.BANNED, None, None)
    assert policy.alternatives == ("Claude Code",)  # stored by the tool's own name
    shown = all_text(ask(http_bot, "can I use amazon q?"))
    assert "internal" not in shown and "sandbox" not in shown


def test_stale_form_is_refused_and_keeps_the_newer_change(http_bot: Served) -> None:
    view = open_form(http_bot, "edit Midjourney")
    ask(http_bot, "set Midjourney banned --reason Licensing", user=ADMIN)

    answer = submit(http_bot, view, status="allowed")

    assert answer["response_action"] == "errors"
    assert "changed by someone else" in answer["errors"]["status"]
    assert http_bot.policies.resolve("Midjourney").status is Status.BANNED


def test_non_admin_cannot_open_or_submit_the_form(http_bot: Served) -> None:
    body = ask(http_bot, "edit Devin", user=STAFF)
    view = open_form(http_bot, "edit Devin")

    answer = submit(http_bot, view, user=STAFF, status="banned")

    assert "Only policy admins" in body["text"]
    assert answer["response_action"] == "errors"
    assert http_bot.policies.resolve("Devin").status is Status.UNDER_REVIEW


def test_add_opens_a_form_that_creates_the_tool(http_bot: Served) -> None:
    view = open_form(http_bot, "add Zed AI")

    submit(http_bot, view, status="allowed", vendor="Zed Industries")

    policy = http_bot.policies.resolve("Zed AI")
    assert (policy.status, policy.vendor) == (Status.ALLOWED, "Zed Industries")
    assert http_bot.policies.history("Zed AI")[-1].author == ADMIN


# -- request signing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"signed": False},
        {"secret": "not-the-signing-secret"},
        {"timestamp": int(time.time()) - 6 * 60},
    ],
    ids=["unsigned", "wrongly-signed", "stale"],
)
def test_requests_not_signed_by_slack_are_refused_and_change_nothing(
    http_bot: Served, options: dict[str, Any]
) -> None:
    revisions = len(http_bot.policies.history("Qoder"))

    status, url = command(http_bot, "set Qoder banned", user=ADMIN, **options)
    ask(http_bot, "can I use qoder?")  # a signed request after it is answered...

    assert status == 401
    assert all(post.url != url for post in http_bot.standin.responses)  # ...this one never
    assert http_bot.policies.resolve("Qoder").status is Status.ALLOWED
    assert len(http_bot.policies.history("Qoder")) == revisions


def test_unsigned_event_is_refused(http_bot: Served) -> None:
    payload = payloads.direct_message("can I use qoder?", user="U0UNSIGNED")

    result = http_bot.slack.post(json.dumps(payload).encode(), "application/json", signed=False)

    assert result.status == 401


# -- safety of what is shown ---------------------------------------------------------------------


def test_policy_text_cannot_ping_or_hide_links(http_bot: Served) -> None:
    mention(http_bot, "why is perplexity banned?", "C0ESCAPE")

    [reply] = replies_in(http_bot, "C0ESCAPE")
    shown = all_text(reply.blocks) + reply.text

    assert "<!channel>" not in shown and "<!here>" not in shown and "<https://evil" not in shown
    assert "<@U0BOSS>" not in shown
    assert "&lt;!channel&gt;" in shown and "&lt;!here&gt;" in shown and "&amp; more" in shown


def test_question_echoed_back_cannot_ping(http_bot: Served) -> None:
    body = ask(http_bot, "can <@U123> use <!channel> perplexity?")
    shown = all_text(body)

    assert "<@U123>" not in shown and "<!channel>" not in shown
    assert "&lt;@U123&gt;" in shown


# -- probes --------------------------------------------------------------------------------------


def test_probes_answer_on_the_same_port(http_bot: Served) -> None:
    health = http(f"{http_bot.bot.url}/healthz")
    ready = http(f"{http_bot.bot.url}/readyz")
    metrics = http(f"{http_bot.bot.url}/metrics")

    assert (health.status, health.text) == (200, "ok\n")
    assert ready.status == 200
    assert metrics.status == 200 and "policybot_questions_total" in metrics.text


# -- answers composed from the question frame (issue 25) ----------------------------------------


def test_slash_yes_no_question_opens_with_the_verdict(http_bot: Served) -> None:
    url = http_bot.standin.response_url()
    form = payloads.slash_command(
        COMMAND, "may I paste client contracts into Pieces?", response_url=url
    )
    body = http_bot.slack.command(form).json()
    # Pieces is this test's own tool: the module's other tests change GitHub Copilot.
    assert "*No. Pieces takes public data at most" in all_text(body["blocks"])
    assert body["text"].startswith("No. Pieces takes public data at most")


def test_slash_chinese_question_opens_with_a_chinese_verdict(http_bot: Served) -> None:
    url = http_bot.standin.response_url()
    form = payloads.slash_command(COMMAND, "Claude Code 现在可以用吗", response_url=url)
    body = http_bot.slack.command(form).json()
    assert "*不可以。*" in all_text(body["blocks"])

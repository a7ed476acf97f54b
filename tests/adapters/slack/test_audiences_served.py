"""The real `policybot serve` answering for the person asking: audiences from listed members
and from the stand-in's user groups (read once per audience per refresh, and again after
`subteam_members_changed`), through signed requests."""

# Chinese text takes full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.slack.harness import (
    COMMAND,
    SECRET,
    BotProcess,
    SignedPoster,
    response_to,
    wait_until,
)
from tests.standin import StandinSlack, payloads

CHINA_GROUP = "S0CHINA"
LISTED = "U0CHINA1"  # listed in audiences.yaml
GROUPED = "U0CHINA9"  # only in the Slack user group
LATER = "U0NEWHIRE"  # joins the user group during the module
OUTSIDER = "U0ALICE"

AUDIENCES = """\
audiences:
  - name: china-engineering
    title: China engineering
    slack_usergroup: china-eng
    members: [U0CHINA1]
    translations:
      zh:
        title: 中国工程团队
  - name: contractors
    title: Contractors
    slack_usergroup: contractors
"""

TOOLS = """\
tools:
  - name: Tongyi Lingma
    aliases: [通义灵码]
    status: banned
    reason: Qoder is the supported choice.
    alternatives: [Qoder]
    rules:
      - audience: china-engineering
        status: conditional
        conditions: Signed in with the company Alibaba Cloud account.
        max_data: internal
        translations:
          zh:
            conditions: 使用公司的阿里云账号登录。
  - name: Qoder
    status: allowed
    reason: The approved assistant.
    translations:
      zh:
        reason: 公司批准的编程助手。
"""


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinSlack]:
    with StandinSlack(
        usergroups={CHINA_GROUP: [GROUPED], "S0CONTRACT": ["U0CONTRACT"]},
        usergroup_handles={CHINA_GROUP: "china-eng", "S0CONTRACT": "contractors"},
    ) as slack:
        yield slack


@pytest.fixture(scope="module")
def served(
    standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BotProcess, SignedPoster]]:
    workdir = tmp_path_factory.mktemp("audiences-bot")
    folder = workdir / "policies"
    folder.mkdir()
    (folder / "audiences.yaml").write_text(AUDIENCES, encoding="utf-8")
    (folder / "tools.yaml").write_text(TOOLS, encoding="utf-8")
    env = {
        "DATABASE_URL": f"sqlite:///{Path(workdir) / 'policybot.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.api_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "POLICYBOT_COMMAND": COMMAND,
        "POLICYBOT_POLICIES": str(folder),
        "LOG_LEVEL": "INFO",
    }
    bot = BotProcess(env, workdir)
    bot.start()
    try:
        yield bot, SignedPoster(bot, standin)
    finally:
        bot.stop()


def ask(standin: StandinSlack, slack: SignedPoster, text: str, user: str) -> str:
    url = standin.response_url()
    result = slack.command(payloads.slash_command(COMMAND, text, response_url=url, user_id=user))
    assert result.status == 200
    body: dict[str, Any] = result.json() if result.body else response_to(standin, url).body
    return str(body["text"])


def group_reads(standin: StandinSlack) -> int:
    return len(standin.calls_to("usergroups.users.list"))


def test_members_get_their_rule_and_everyone_else_the_default_with_one_read_per_audience(
    standin: StandinSlack, served: tuple[BotProcess, SignedPoster]
) -> None:
    _bot, slack = served
    listed = ask(standin, slack, "can I use Tongyi Lingma?", LISTED)
    grouped = ask(standin, slack, "can I use Tongyi Lingma?", GROUPED)
    outsider = ask(standin, slack, "can I use Tongyi Lingma?", OUTSIDER)
    for _ in range(3):
        ask(standin, slack, "can I use Tongyi Lingma?", OUTSIDER)
        ask(standin, slack, "is Qoder allowed?", GROUPED)

    assert "For you (China engineering): ALLOWED WITH CONDITIONS; everyone else: BANNED." in listed
    assert "Conditions: Signed in with the company Alibaba Cloud account." in listed
    assert "For you (China engineering)" in grouped
    assert outsider.startswith("No.")
    assert "For China engineering: ALLOWED WITH CONDITIONS" in outsider
    # Only the audience a rule names is read: once, for every question since.
    assert group_reads(standin) == 1
    assert "U0CONTRACT" not in str(standin.calls_to("usergroups.users.list"))


def test_a_user_group_change_is_read_again_once_after_slack_says_so(
    standin: StandinSlack, served: tuple[BotProcess, SignedPoster]
) -> None:
    _bot, slack = served
    ask(standin, slack, "can I use Tongyi Lingma?", LATER)  # the cache is warm
    before = group_reads(standin)
    standin.workspace.config.usergroups[CHINA_GROUP].append(LATER)
    event = payloads.event_callback(
        {"type": "subteam_members_changed", "subteam_id": CHINA_GROUP, "team_id": "T0TEAM",
         "added_users": [LATER], "added_users_count": "1", "event_ts": "1.0"}
    )  # fmt: skip
    assert slack.event(event).status == 200

    answer = wait_until(
        lambda: (
            (a := ask(standin, slack, "can I use Tongyi Lingma?", LATER)) and "For you" in a and a
        ),
        what="the new member's own answer",
    )
    ask(standin, slack, "Tongyi Lingma?", LATER)

    assert "For you (China engineering)" in answer
    assert group_reads(standin) == before + 1


def test_a_chinese_question_gets_the_chinese_texts_and_the_audience_title_in_chinese(
    standin: StandinSlack, served: tuple[BotProcess, SignedPoster]
) -> None:
    _bot, slack = served
    answer = ask(standin, slack, "通义灵码可以用吗？", LISTED)
    qoder = ask(standin, slack, "Qoder 可以用吗？", OUTSIDER)

    assert "对你（中国工程团队）：有条件允许；其他人：禁止使用。" in answer
    assert "使用公司的阿里云账号登录。" in answer
    assert "公司批准的编程助手。" in qoder and "The approved assistant." not in qoder

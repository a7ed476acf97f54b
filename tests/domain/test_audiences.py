"""Policies for the person asking: rules per audience, texts per language, what `check` sees."""

from __future__ import annotations

import datetime as dt

from bot.domain.audiences import (
    disagreeing_rules,
    effective_policy,
    localised,
    missing_languages,
    overlaps,
)
from bot.domain.policy import Audience, AudienceRule, DataClass, Status, Translation
from tests.domain.factories import make_policy

CHINA = "china-engineering"
LINGMA = make_policy(
    "Tongyi Lingma",
    Status.BANNED,
    reason="Qoder is the supported choice.",
    alternatives=("Qoder",),
    effective=dt.date(2026, 10, 1),
    translations=(Translation("zh", reason="请使用 Qoder。"),),
    rules=(
        AudienceRule(
            CHINA,
            status=Status.CONDITIONAL,
            conditions="Signed in with the company Alibaba Cloud account.",
            max_data=DataClass.INTERNAL,
            translations=(Translation("zh", conditions="使用公司的阿里云账号登录。"),),
        ),
        AudienceRule("contractors", status=Status.UNDER_REVIEW),
    ),
)


def test_a_member_gets_the_rule_over_the_default_field_by_field() -> None:
    mine = effective_policy(LINGMA, frozenset({CHINA}))
    assert mine.status is Status.CONDITIONAL
    assert mine.conditions == "Signed in with the company Alibaba Cloud account."
    assert mine.max_data is DataClass.INTERNAL
    # Fields the rule leaves alone are the default's.
    assert mine.reason == "Qoder is the supported choice." and mine.alternatives == ("Qoder",)
    assert mine.effective == dt.date(2026, 10, 1)


def test_someone_in_no_audience_of_the_rules_gets_the_default() -> None:
    assert effective_policy(LINGMA, frozenset({"marketing"})) == LINGMA
    assert effective_policy(LINGMA, frozenset()) == LINGMA


def test_the_first_rule_in_file_order_wins_for_someone_in_two_audiences() -> None:
    both = effective_policy(LINGMA, frozenset({"contractors", CHINA}))
    assert both.status is Status.CONDITIONAL


def test_chinese_texts_replace_the_default_where_written_and_fall_back_elsewhere() -> None:
    default_zh = localised(LINGMA, "zh")
    assert default_zh.reason == "请使用 Qoder。"
    member_zh = localised(effective_policy(LINGMA, frozenset({CHINA})), "zh")
    assert member_zh.conditions == "使用公司的阿里云账号登录。"
    assert member_zh.reason == "请使用 Qoder。"  # the rule keeps the default's reason
    assert localised(LINGMA, "fr") == LINGMA


def test_a_rule_of_its_own_reason_drops_the_translation_of_the_default_reason() -> None:
    policy = make_policy(
        "Kimi",
        Status.BANNED,
        reason="Not covered.",
        translations=(Translation("zh", reason="不在协议范围内。"),),
        rules=(AudienceRule("china-marketing", status=Status.ALLOWED, reason="Pilot."),),
    )
    mine = localised(effective_policy(policy, frozenset({"china-marketing"})), "zh")
    assert mine.reason == "Pilot."


def test_a_ban_for_an_audience_clears_the_default_conditions() -> None:
    policy = make_policy(
        "Cursor",
        Status.CONDITIONAL,
        conditions="Use SSO.",
        max_data=DataClass.INTERNAL,
        rules=(AudienceRule("contractors", status=Status.BANNED),),
    )
    theirs = effective_policy(policy, frozenset({"contractors"}))
    assert theirs.status is Status.BANNED and theirs.conditions is None and theirs.max_data is None


def test_disagreeing_rules_are_reported_only_for_audiences_known_to_overlap() -> None:
    apart = [
        Audience(CHINA, "China", members=("U1",)),
        Audience("contractors", "C", members=("U2",)),
    ]
    shared = [
        Audience(CHINA, "China", members=("U1",)),
        Audience("contractors", "C", members=("U1",)),
    ]
    assert disagreeing_rules(LINGMA, overlaps(apart)) == []
    [(first, second)] = disagreeing_rules(LINGMA, overlaps(shared))
    assert (first.audience, second.audience) == (CHINA, "contractors")


def test_missing_languages_names_tools_without_the_texts_others_have() -> None:
    plain = make_policy("Cursor", reason="Approved.")
    quiet = make_policy("Zed", reason=None)
    assert missing_languages([LINGMA, plain, quiet]) == {"Cursor": ["zh"]}


def test_rule_problems_name_the_fix() -> None:
    policy = make_policy(
        "Cursor", rules=(AudienceRule("China Eng"), AudienceRule("x"), AudienceRule("x"))
    )
    texts = [text for _field, text in policy.problems()]
    assert any("not an audience name" in t for t in texts)
    assert any("two rules for the audience 'x'" in t for t in texts)

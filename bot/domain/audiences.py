"""Policies for the person asking: audiences, rules per audience and texts per language.

A tool's top-level policy is its default. Its `rules` override the default for the members
of an audience, field by field; the first rule whose audience holds the person wins, in the
order written. Reason and conditions (and an audience's title) may be written per language;
an answer in that language uses them and falls back to the default text. No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.domain.policy import (
    TRANSLATED,
    Audience,
    AudienceRule,
    DataClass,
    Status,
    ToolPolicy,
    Translation,
    normalised_translations,
)

# -- the person's policy ---------------------------------------------------------------------


def rule_for(policy: ToolPolicy, audiences: frozenset[str]) -> AudienceRule | None:
    """The first of `policy`'s rules whose audience is one of `audiences`."""
    for rule in policy.rules:
        if rule.audience in audiences:
            return rule
    return None


def with_rule(policy: ToolPolicy, rule: AudienceRule) -> ToolPolicy:
    """`policy` as `rule` makes it: the rule's fields over the default's, and its texts per
    language over the default's (a default's translation of a text the rule replaces is
    dropped: it translates the default's text, not the rule's)."""
    fields = rule.given()
    by_language: dict[str, dict[str, str]] = {}
    for item in policy.translations:
        texts = {k: v for k, v in item.plain().items() if k not in fields}
        by_language[item.language] = texts
    for item in rule.translations:
        by_language.setdefault(item.language, {}).update(item.plain())
    translations = tuple(Translation(lang, **texts) for lang, texts in by_language.items())
    changed: dict[str, Any] = {**fields, "translations": normalised_translations(translations)}
    return replace(policy, **changed).normalised()


def effective_policy(policy: ToolPolicy, audiences: frozenset[str]) -> ToolPolicy:
    """The policy for a person in `audiences`: the default, with the first matching rule."""
    if not policy.rules or not audiences:
        return policy
    rule = rule_for(policy, audiences)
    return with_rule(policy, rule) if rule is not None else policy


def localised(policy: ToolPolicy, language: str) -> ToolPolicy:
    """`policy` with its reason and conditions in `language` where written, else as it is."""
    for item in policy.translations:
        if item.language == language:
            return replace(
                policy,
                reason=item.reason if item.reason and policy.reason else policy.reason,
                conditions=(
                    item.conditions if item.conditions and policy.conditions else policy.conditions
                ),
            )
    return policy


def without_stale_translations(before: ToolPolicy | None, after: ToolPolicy) -> ToolPolicy:
    """Domain rule: a reason or conditions changed without its translations loses them
    (they said the old text); `check` then lists the language as missing. For the default
    and for each audience's rule alike."""
    if before is None:
        return after

    def kept(
        old: Any, new: Any, translations: tuple[Translation, ...], old_translations: Any
    ) -> tuple[Translation, ...]:
        if translations != old_translations:
            return translations  # translated in the same edit: as given
        changed = [name for name in TRANSLATED if getattr(old, name) != getattr(new, name)]
        if not changed:
            return translations
        return normalised_translations(
            Translation(t.language, **{k: v for k, v in t.plain().items() if k not in changed})
            for t in translations
        )

    old_rules = {r.audience: r for r in before.rules}
    rules = tuple(
        replace(rule, translations=kept(old, rule, rule.translations, old.translations))
        if (old := old_rules.get(rule.audience)) is not None
        else rule
        for rule in after.rules
    )
    translations = kept(before, after, after.translations, before.translations)
    return replace(after, rules=rules, translations=translations)


def ruled_audiences(policies: Iterable[ToolPolicy]) -> frozenset[str]:
    """Every audience some rule names: only these can make one person's answers differ."""
    return frozenset(rule.audience for p in policies for rule in p.rules)


# -- checks -----------------------------------------------------------------------------------


def disagreeing_rules(
    policy: ToolPolicy, overlapping: Mapping[str, frozenset[str]]
) -> list[tuple[AudienceRule, AudienceRule]]:
    """Pairs of `policy`'s rules that give a person in both audiences different policies,
    for audiences known to share a member (`overlapping`: audience -> audiences it shares
    someone with). The first rule wins for that person; the pair is worth a look."""
    found = []
    for index, first in enumerate(policy.rules):
        for second in policy.rules[index + 1 :]:
            if second.audience not in overlapping.get(first.audience, frozenset()):
                continue
            if with_rule(policy, first) != with_rule(policy, second):
                found.append((first, second))
    return found


def overlaps(audiences: Sequence[Audience]) -> dict[str, frozenset[str]]:
    """Audience -> the other audiences known to share a member (listed IDs, or the same
    Slack user group)."""
    found: dict[str, set[str]] = {a.name: set() for a in audiences}
    for index, first in enumerate(audiences):
        for second in audiences[index + 1 :]:
            same_group = first.slack_usergroup and first.slack_usergroup == second.slack_usergroup
            if same_group or set(first.members) & set(second.members):
                found[first.name].add(second.name)
                found[second.name].add(first.name)
    return {name: frozenset(others) for name, others in found.items()}


def missing_languages(policies: Sequence[ToolPolicy]) -> dict[str, list[str]]:
    """Tool -> the languages other tools have texts in that it lacks (for its reason or
    conditions, where it has one)."""
    languages = sorted({t.language for p in policies for t in p.translations})
    missing: dict[str, list[str]] = {}
    for policy in policies:
        if not (policy.reason or policy.conditions):
            continue
        have = {t.language: t.plain() for t in policy.translations}
        lacking = [
            language
            for language in languages
            if any(
                getattr(policy, name) and name not in have.get(language, {}) for name in TRANSLATED
            )
        ]
        if lacking:
            missing[policy.name] = lacking
    return missing


# -- JSON-friendly forms (database rows, revisions, drafts) -----------------------------------


def translations_plain(translations: Iterable[Translation]) -> dict[str, dict[str, str]]:
    return {t.language: t.plain() for t in translations}


def translations_from(values: Mapping[str, Any] | None) -> tuple[Translation, ...]:
    if not values:
        return ()
    return tuple(
        Translation(language, **{k: v for k, v in texts.items() if k in TRANSLATED})
        for language, texts in values.items()
    )


def rule_plain(rule: AudienceRule) -> dict[str, Any]:
    values: dict[str, Any] = {"audience": rule.audience}
    for name, value in rule.given().items():
        if isinstance(value, Status | DataClass):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        values[name] = value
    if rule.translations:
        values["translations"] = translations_plain(rule.translations)
    return values


def rule_from(values: Mapping[str, Any]) -> AudienceRule:
    status = values.get("status")
    max_data = values.get("max_data")
    alternatives = values.get("alternatives")
    effective = values.get("effective")
    return AudienceRule(
        audience=values["audience"],
        status=Status(status) if status else None,
        reason=values.get("reason"),
        conditions=values.get("conditions"),
        max_data=DataClass(max_data) if max_data else None,
        alternatives=tuple(alternatives) if alternatives is not None else None,
        effective=dt.date.fromisoformat(effective) if effective else None,
        translations=translations_from(values.get("translations")),
    )


def rules_plain(rules: Iterable[AudienceRule]) -> list[dict[str, Any]]:
    return [rule_plain(rule) for rule in rules]


def rules_from(values: Iterable[Mapping[str, Any]] | None) -> tuple[AudienceRule, ...]:
    return tuple(rule_from(v) for v in values or ())

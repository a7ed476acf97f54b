"""An answer for the person asking: the rules of audiences beside their own verdict, and the
policy texts in the answer's language. No I/O.

The answer itself is worked out from the asker's own policies (`effective_policy`, through a
registry of them); this step only adds what else is true — "For you (China engineering):
ALLOWED WITH CONDITIONS; everyone else: BANNED." — and swaps in the translated texts.
"""

# Chinese text takes full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from bot.domain.answers import Answer, ToolAnswer
from bot.domain.audiences import localised, rule_for, with_rule
from bot.domain.phrases import phrases_for
from bot.domain.policy import ToolPolicy

# How many other audiences' rules a note names before "and N more".
_MAX_OTHER_RULES = 3

_WORDS = {
    "en": {
        "mine": "For you ({title}): {mine}; everyone else: {default}.",
        "other": "For {title}: {status}",
        "more": "and {count} more audience(s) with rules of their own",
        "stop": ".",
        "dash": " — ",
    },
    "zh": {
        "mine": "对你（{title}）：{mine}；其他人：{default}。",
        "other": "{title}：{status}",
        "more": "另有 {count} 个群体有各自的规定",
        "stop": "。",
        "dash": "——",
    },
}


def _label(policy: ToolPolicy, language: str) -> str:
    phrases = phrases_for(language)
    label = phrases.status_labels[policy.status]
    return label.upper() if language == "en" else label


def rule_notes(
    policy: ToolPolicy,
    audiences: frozenset[str],
    title: Callable[[str, str], str],
    language: str,
) -> list[str]:
    """The note on a tool with rules: the asker's rule against everyone else's policy, or,
    for someone outside them, each audience's rule after their own verdict (they may be
    asking for a colleague). `title(audience, language)` names an audience, never members."""
    if not policy.rules:
        return []
    words = _WORDS.get(language, _WORDS["en"])
    mine = rule_for(policy, audiences)
    if mine is not None:
        own = with_rule(policy, mine)
        if own.status == policy.status:
            return []  # the same verdict for everyone: nothing to tell apart
        return [
            words["mine"].format(
                title=title(mine.audience, language),
                mine=_label(own, language),
                default=_label(policy, language),
            )
        ]
    notes = []
    for rule in policy.rules[:_MAX_OTHER_RULES]:
        theirs = localised(with_rule(policy, rule), language)
        text = words["other"].format(
            title=title(rule.audience, language), status=_label(theirs, language)
        )
        if theirs.conditions and theirs.conditions != policy.conditions:
            text += words["dash"] + theirs.conditions.rstrip(".。")
        notes.append(text + words["stop"])
    if len(policy.rules) > _MAX_OTHER_RULES:
        more = words["more"].format(count=len(policy.rules) - _MAX_OTHER_RULES)
        notes.append(more + words["stop"])
    return notes


def for_the_asker(
    answer: Answer,
    defaults: Callable[[str], ToolPolicy | None],
    audiences: frozenset[str],
    titles: Mapping[str, Mapping[str, str]],
) -> Answer:
    """`answer` (worked out from the asker's own policies) with the audience rules of its
    tools as notes and its policy texts in the answer's language.

    `defaults(name)` is a tool's policy as written (default and rules); `titles` maps an
    audience to its title per language ("" for the default title)."""

    def title(audience: str, language: str) -> str:
        names = titles.get(audience, {})
        return names.get(language) or names.get("") or audience

    language = answer.language
    notes: list[tuple[str, str]] = []
    for tool in answer.tools:
        written = defaults(tool.policy.name)
        if written is not None:
            notes += [(written.name, n) for n in rule_notes(written, audiences, title, language)]
    if notes:
        answer = replace(answer, notes=(*notes, *answer.notes))
    if language == "en" or not _has_translations(answer):
        return answer

    def local(tool: ToolAnswer) -> ToolAnswer:
        return replace(
            tool,
            policy=localised(tool.policy, language),
            alternatives=tuple(localised(p, language) for p in tool.alternatives),
        )

    return replace(
        answer,
        tools=tuple(local(tool) for tool in answer.tools),
        listed=tuple(localised(p, language) for p in answer.listed),
        family=tuple(localised(p, language) for p in answer.family),
    )


def _has_translations(answer: Answer) -> bool:
    return any(t.policy.translations for t in answer.tools) or any(
        p.translations for p in (*answer.listed, *answer.family)
    )

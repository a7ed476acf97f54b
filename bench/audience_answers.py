"""What answering for the person asking costs: today's answer against the answer for a person
in two audiences, at 10,000 tools and 100 audiences.

    .venv/bin/python bench/audience_answers.py [--size 10000] [--audiences 100] [--rounds 20]

The registry is bench/matching.py's (the labelled sample padded with generated tools); every
tenth tool gets a rule for one of the audiences (so 1,000 rules over 100 audiences) and a
Chinese reason. Today's answer is `answer_question` on that registry (no person); per question, the
person's answer does what `PolicyService.ask` adds: their
audiences from the listed members of 100 audiences, their registry (built once per pair of
audiences and kept, as `RegistrySnapshot.for_audiences` keeps it), `answer_question` on it
and the "For you …; everyone else …" step. The difference of the medians is the cost.
A script, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import median, percentile
from matching import build_policies

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.app.audiences import AudienceMembers
from bot.domain.answers import Registry, answer_question
from bot.domain.audiences import effective_policy, rule_for, ruled_audiences
from bot.domain.personal import for_the_asker
from bot.domain.policy import Audience, AudienceRule, Status, Translation

TODAY = dt.date(2026, 12, 8)
PERSON = "U0BENCH"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--audiences", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    policies, questions = build_policies(args.size)
    names = [f"team-{i:03d}" for i in range(args.audiences)]
    ruled = []
    for index, policy in enumerate(policies):
        if index % 10 == 0:
            rule = AudienceRule(names[index % len(names)], status=Status.CONDITIONAL,
                                conditions="Only on the team's own projects.")  # fmt: skip
            policy = replace(
                policy, rules=(rule,), translations=(Translation("zh", reason="基准"),)
            )
        ruled.append(policy)
    # The person is listed in two audiences; everyone else fills the lists.
    audiences = [
        Audience(name, name.title(), members=(*((PERSON,) if i in (3, 7) else ()), f"U{i:06d}"))
        for i, name in enumerate(names)
    ]
    asked = [q for q, _ in questions] + [f"can I use {ruled[30].name}?", "what can I use?"]

    words = shipped_vocabulary()
    registry = Registry(ruled, words)
    answer_question(asked[0], registry, today=TODAY)  # the indexes, built once
    with_rules = tuple(p for p in ruled if p.rules)
    known = ruled_audiences(with_rules)
    members = AudienceMembers()
    titles = {a.name: {"": a.title} for a in audiences}
    kept: dict[frozenset[str], Registry] = {}

    def today(question: str) -> object:
        return answer_question(question, registry, today=TODAY)

    def personal(question: str) -> object:
        mine = members.audiences_of(PERSON, audiences) & known
        own = kept.get(mine)
        if own is None:  # once per pair of audiences, as the snapshot keeps it
            changed = [effective_policy(p, mine) for p in with_rules if rule_for(p, mine)]
            own = kept[mine] = registry.with_policies(changed)
        answer = answer_question(question, own, today=TODAY)
        return for_the_asker(answer, registry.get, mine, titles)

    started = time.perf_counter()
    personal(asked[0])
    first_ms = (time.perf_counter() - started) * 1000
    for question in asked:  # each registry's lazy indexes (lists, capabilities), once
        today(question)
        personal(question)
    # Interleaved, question by question, so a busy machine slows both alike.
    today_times: list[float] = []
    person_times: list[float] = []
    for _ in range(args.rounds):
        for question in asked:
            for answer, times in ((today, today_times), (personal, person_times)):
                started = time.perf_counter()
                answer(question)
                times.append((time.perf_counter() - started) * 1000)

    today_p50, person_p50 = median(today_times), median(person_times)
    print(f"{len(policies)} tools, {len(with_rules)} rules, {len(audiences)} audiences, "
          f"{len(asked)} questions x {args.rounds} rounds")  # fmt: skip
    print("| answer | p50 ms | p99 ms |")
    print("|---|--:|--:|")
    today_p99 = percentile(today_times, 0.99)
    print(f"| today's (the same registry, no person) | {today_p50:.3f} | {today_p99:.3f} |")
    print(f"| for a person in two audiences | {person_p50:.3f} | "
          f"{percentile(person_times, 0.99):.3f} |")  # fmt: skip
    print(f"cost of answering for the person: {person_p50 - today_p50:+.3f} ms at the median "
          f"(target ≤ 0.1 ms); their registry built once: {first_ms:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Answer quality on a labelled question set, and matching speed on a large registry.

    python bench/answer_quality.py [--policies PATH] [--questions PATH] [--scale N]

A question is answered right when the set of tools matched equals its `expect` exactly and
every string in `says` appears in the rendered text. Answers naming a tool outside `expect`
are listed separately: those are the ones that must never happen. With `--scale N` the
registry is padded with N generated tools and the time per question is compared with a
naive rapidfuzz `extractOne` over every name and alias.

A script, not a test: it always exits 0 unless an input file is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from bot.adapters.files.vocabularyfile import shipped_vocabulary  # noqa: E402
from bot.domain.answers import Registry, answer_question, render_text  # noqa: E402
from bot.domain.policy import DataClass, Status, ToolPolicy  # noqa: E402

# The shared sample set sits next to the main checkout (/work/shared beside /work/main), or
# two levels up from a worktree (/work/wt/iNN).
_SHARED = next(
    (path for path in (REPO.parent / "shared", REPO.parent.parent / "shared") if path.is_dir()),
    REPO.parent / "shared",
)
DEFAULT_POLICIES = _SHARED / "eval" / "policies.yaml"
DEFAULT_QUESTIONS = _SHARED / "eval" / "questions.jsonl"
CONTACT = "#ai-governance"


@dataclass(frozen=True)
class Case:
    question: str
    expect: frozenset[str]
    says: tuple[str, ...]


def _load_simple(path: Path) -> list[ToolPolicy]:
    """A tiny YAML loader, used only when bot.adapters.files.policyfile is not there."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["tools"]
    policies = []
    for entry in entries:
        effective = entry.get("effective")
        policies.append(
            ToolPolicy(
                name=str(entry["name"]),
                status=Status.parse(str(entry["status"])),
                vendor=entry.get("vendor"),
                aliases=tuple(str(a) for a in entry.get("aliases") or ()),
                category=entry.get("category"),
                reason=entry.get("reason"),
                conditions=entry.get("conditions"),
                max_data=DataClass.parse(entry["max_data"]) if entry.get("max_data") else None,
                alternatives=tuple(str(a) for a in entry.get("alternatives") or ()),
                effective=dt.date.fromisoformat(str(effective)) if effective else None,
                owner=entry.get("owner"),
                link=entry.get("link"),
            )
        )
    return policies


def load_policies(path: Path) -> list[ToolPolicy]:
    """The project's importer when it exists, else the tiny loader above."""
    try:
        from bot.adapters.files.policyfile import load_policies as project_loader
    except ImportError:
        return _load_simple(path)
    return list(project_loader(path))


def load_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["q"], frozenset(row["expect"]), tuple(row.get("says", ()))))
    return cases


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_quality(policies: list[ToolPolicy], cases: list[Case]) -> None:
    registry = Registry(policies, shipped_vocabulary())
    today = dt.datetime.now(dt.UTC).date()
    right = 0
    wrong_tool: list[str] = []
    misses: list[str] = []
    timings: list[float] = []
    for case in cases:
        started = time.perf_counter()
        answer = answer_question(case.question, registry, today)
        timings.append(time.perf_counter() - started)
        text = render_text(answer, CONTACT)
        matched = frozenset(tool.policy.name for tool in answer.tools)
        missing_text = [s for s in case.says if s not in text]
        if matched == case.expect and not missing_text:
            right += 1
            continue
        detail = f"  {case.question!r}: matched {sorted(matched)}, expected {sorted(case.expect)}"
        if missing_text:
            detail += f", text lacks {missing_text}"
        if matched - case.expect:
            wrong_tool.append(detail)
        else:
            misses.append(detail)

    print(f"registry: {len(registry)} tools, {len(cases)} questions")
    print(f"answered right: {right}/{len(cases)} = {100 * right / len(cases):.1f}%")
    print(f"answers about a wrong tool: {len(wrong_tool)}")
    print("\n".join(wrong_tool) if wrong_tool else "  (none)")
    print(f"misses: {len(misses)}")
    print("\n".join(misses) if misses else "  (none)")
    ms = [t * 1000 for t in timings]
    print(
        f"time per question: mean {statistics.mean(ms):.3f} ms, "
        f"p99 {_percentile(ms, 0.99):.3f} ms (answer_question, matching included)"
    )


def _synthetic(count: int, rng: random.Random, avoid: set[str]) -> list[ToolPolicy]:
    """Generated tools with realistic-looking names from the whole alphabet.

    Names and aliases never use a word in `avoid`: a generated tool that happens to be
    called "Hide" would rightly match "how do I hide the cursor", and the labels would lie.
    """
    consonants, vowels = "bcdfghjklmnprstvwxz", "aeiouy"
    suffixes = ("", "", "", " AI", " Code", " Studio", " Pro", " Chat", " Assistant")

    def word() -> str:
        while True:
            made = "".join(
                rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))
            )
            if made not in avoid:
                return made

    names: dict[str, ToolPolicy] = {}
    while len(names) < count:
        base = word().capitalize()
        name = base + rng.choice(suffixes)
        aliases = tuple(f"{base.lower()}{rng.choice(('-', ' ', ''))}{word()}" for _ in range(2))
        if name.lower() not in avoid:
            names.setdefault(
                name.lower(),
                ToolPolicy(
                    name=name, status=rng.choice(list(Status)), vendor=word(), aliases=aliases
                ),
            )
    return list(names.values())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _time_per_question(ask: Callable[[str], Any], questions: list[str]) -> list[float]:
    timings = []
    for question in questions:
        started = time.perf_counter()
        ask(question)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_scale(policies: list[ToolPolicy], cases: list[Case], scale: int) -> None:
    from rapidfuzz import fuzz, process

    known = {p.name.lower() for p in policies}
    asked = {w for case in cases for w in _words(case.question)}
    extra = _synthetic(scale, random.Random(42), avoid=known | asked)
    big = policies + extra
    started = time.perf_counter()
    registry = Registry(big, shipped_vocabulary())
    built = time.perf_counter() - started
    questions = [case.question for case in cases] * 5
    registry.matcher.find("warm up")
    ours = _time_per_question(registry.matcher.find, questions)

    choices = [form for p in big for form in (p.name, *p.aliases)]
    naive_questions = questions[: len(cases)]
    naive = _time_per_question(
        lambda q: process.extractOne(q, choices, scorer=fuzz.WRatio), naive_questions
    )
    print(
        f"\nscale: {len(big)} tools, {len(choices)} names and aliases, index built in {built:.2f} s"
    )
    print(
        f"  Matcher.find:        median {statistics.median(ours):.3f} ms, "
        f"p99 {_percentile(ours, 0.99):.3f} ms, max {max(ours):.3f} ms"
    )
    print(
        f"  naive extractOne:    median {statistics.median(naive):.3f} ms, "
        f"p99 {_percentile(naive, 0.99):.3f} ms"
    )
    right = 0
    for case in cases:
        answer = answer_question(case.question, registry)
        if frozenset(t.policy.name for t in answer.tools) == case.expect:
            right += 1
    print(f"  tools matched right at this scale: {right}/{len(cases)}")


def measure_heldout(policies_path: Path) -> None:
    """Our own held-out questions (tests/data/heldout_*.jsonl) against the shipped registry:
    single-tool questions, and broad ones (lists, variants, follow-ups, small talk)."""
    from tests import heldout

    registry = Registry(load_policies(policies_path), shipped_vocabulary())
    for label, path in (("single-tool", heldout.SINGLE), ("broad", heldout.BROAD)):
        cases = heldout.load(path)
        failures = [(case, heldout.judge(registry, case)) for case in cases]
        wrong = [(case, problem) for case, problem in failures if problem]
        wrong_tool = [case for case in cases if heldout.wrong_tools(registry, case)]
        right = len(cases) - len(wrong)
        kinds: dict[str, list[int]] = {}
        for case, problem in failures:
            tally = kinds.setdefault(case.kind, [0, 0])
            tally[0] += problem is None
            tally[1] += 1
        by_kind = ", ".join(f"{kind} {ok}/{n}" for kind, (ok, n) in sorted(kinds.items()))
        print(
            f"\nheld-out {label} ({path.name}, {registry_label(policies_path)}): "
            f"{right}/{len(cases)} = {100 * right / len(cases):.1f}% right ({by_kind}); "
            f"answers about a wrong tool: {len(wrong_tool)}"
        )
        for case, problem in wrong:
            print(f"  {case.kind} {case.question!r}: {problem}")


def registry_label(path: Path) -> str:
    return f"{len(load_policies(path))} tools in {path.name}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=Path, default=DEFAULT_POLICIES)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--scale", type=int, default=0, help="also time N generated tools")
    parser.add_argument(
        "--no-heldout", action="store_true", help="skip our held-out sets (tests/data/)"
    )
    args = parser.parse_args(argv)
    for path in (args.policies, args.questions):
        if not path.is_file():
            print(f"{path.resolve()}: no such file; pass --policies/--questions", file=sys.stderr)
            return 2
    policies = load_policies(args.policies)
    cases = load_cases(args.questions)
    measure_quality(policies, cases)
    if not args.no_heldout:
        measure_heldout(REPO / "policies")
    if args.scale:
        measure_scale(policies, cases, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())

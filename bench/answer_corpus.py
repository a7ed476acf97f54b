# ruff: noqa: RUF001, RUF002
"""Score the staff-question corpus automatically from each question's expectations.

    python bench/answer_corpus.py [BATCH ...] [--today 2026-12-08] [--failures] [--json OUT]

BATCH is a name under tests/data/corpus/ ("newhire", "frozen") or a path; without one, the
six development batches are scored (never the frozen one: name it explicitly, once).

Each row of a batch says what a right answer holds (docs/answer-quality.md):

- `expect_tools`: every tool named must be in the answer's text; an answer *about* tools
  (a policy card) must be about no tool outside this list ("wrong-tool" otherwise);
- `verdict` ("yes", "no", "only-if", or null): the answer's first words must be the verdict
  ("Yes." / "No." / "Only if …"; "可以。" / "不可以。" / "有条件：…");
- `must_mention` / `must_not_mention`: strings that must / must not be in the text
  (case-insensitive);
- `previous`: asked first in the same conversation (the answer scored is the second).

The policies are the shipped policies/ files, answered in-process the way `ask --json` does,
with today fixed (the day the corpus was written) so dates read as they did then.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from bot.adapters.files.policyfile import load_policies  # noqa: E402
from bot.adapters.files.vocabularyfile import VocabularyFile  # noqa: E402
from bot.domain.answers import AnswerKind, Registry, answer_question, render_text  # noqa: E402

CORPUS = REPO / "tests" / "data" / "corpus"
DEV_BATCHES = (
    "newhire",
    "china-engineer",
    "marketing",
    "legal",
    "manager",
    "contractor",
    "round2-en",
    "round2-zh",
    "fresh2",
)
CONTACT = "#ai-governance"
CORPUS_DAY = dt.date(2026, 12, 8)
VERDICT_WORDS = {
    "yes": ("Yes.", "可以。"),
    "no": ("No.", "不可以。"),
    "only-if": ("Only if", "有条件："),
}


@dataclass(frozen=True)
class Scored:
    row: dict[str, Any]
    label: str  # right | wrong-tool | no-verdict | missing | says-too-much
    detail: str
    text: str


def score_row(row: dict[str, Any], registry: Registry, today: dt.date) -> Scored:
    previous: list[str] = []
    if row.get("previous"):
        previous = answer_question(row["previous"], registry, today).tool_names
    answer = answer_question(row["q"], registry, today, previous=previous)
    text = render_text(answer, CONTACT)
    lower = text.casefold()
    expected = set(row["expect_tools"])
    if answer.kind is AnswerKind.TOOLS:
        other = [name for name in answer.tool_names if name not in expected]
        if other:
            return Scored(row, "wrong-tool", f"about {other}", text)
    missing = [name for name in expected if name.casefold() not in lower]
    if missing:
        return Scored(row, "missing", f"does not name {missing}", text)
    if row["verdict"] and not text.startswith(VERDICT_WORDS[row["verdict"]]):
        return Scored(row, "no-verdict", f"does not open with {row['verdict']}", text)
    lacks = [s for s in row["must_mention"] if s.casefold() not in lower]
    if lacks:
        return Scored(row, "missing", f"does not mention {lacks}", text)
    extra = [s for s in row["must_not_mention"] if s.casefold() in lower]
    if extra:
        return Scored(row, "says-too-much", f"mentions {extra}", text)
    return Scored(row, "right", "", text)


def batch_path(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    stem = name if name == "frozen" else f"batch-{name}"
    return CORPUS / f"{stem}.jsonl"


def table(title: str, groups: dict[str, list[Scored]]) -> list[str]:
    lines = [f"| {title} | n | right | % |", "|---|---|---|---|"]
    total = right = 0
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        rows = groups[key]
        good = sum(s.label == "right" for s in rows)
        total += len(rows)
        right += good
        lines.append(f"| {key} | {len(rows)} | {good} | {100 * good / len(rows):.0f}% |")
    lines.append(f"| **total** | {total} | {right} | **{100 * right / max(total, 1):.1f}%** |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="*", default=list(DEV_BATCHES))
    parser.add_argument("--today", type=dt.date.fromisoformat, default=CORPUS_DAY)
    parser.add_argument("--policies", type=Path, default=REPO / "policies")
    parser.add_argument("--failures", action="store_true", help="print every answer not right")
    parser.add_argument("--json", type=Path, help="write every scored answer here")
    args = parser.parse_args(argv)
    registry = Registry(load_policies(args.policies), VocabularyFile(args.policies).current())
    scored: list[Scored] = []
    by_batch: dict[str, list[Scored]] = collections.defaultdict(list)
    for name in args.batches:
        path = batch_path(name)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                result = score_row(json.loads(line), registry, args.today)
                scored.append(result)
                by_batch[path.stem.removeprefix("batch-")].append(result)
    by_kind: dict[str, list[Scored]] = collections.defaultdict(list)
    for result in scored:
        by_kind[result.row["kind"]].append(result)
    labels = collections.Counter(s.label for s in scored)
    print("\n".join(table("batch", by_batch)))
    print()
    print("\n".join(table("kind", by_kind)))
    print()
    print("labels:", dict(labels.most_common()))
    if args.failures:
        for s in scored:
            if s.label != "right":
                first = s.text.splitlines()[0] if s.text else ""
                print(f"- [{s.row['kind']}] {s.label}: {s.row['q']!r} — {s.detail}\n    {first}")
    if args.json:
        with args.json.open("w", encoding="utf-8") as out:
            for s in scored:
                record = {"q": s.row["q"], "label": s.label, "detail": s.detail, "text": s.text}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

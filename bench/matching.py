"""Matching as the registry grows: answer latency, correctness, index build time and memory.

    .venv/bin/python bench/matching.py [--sizes 40,1000,10000] [--rounds 20] [--json PATH]

Each registry is the labelled sample registry (`../shared/eval/policies.yaml`, 18 tools)
padded with generated tools (answer_quality's generator, plus multi-word and Chinese
aliases) up to the size; the real `policies/` is timed as well. The question set is the
labelled one (typos, several tools, no match, Chinese, Slack markup) plus questions about
generated tools (by name, multi-word alias, Chinese alias, a typo).

For each size, in the same child process: `answer_question` timed per question (median,
p99, max), a naive `rapidfuzz.process.extractOne` over every name and alias (WRatio), how
many questions each gets right, the index build time, and memory (VmRSS after imports,
after the build, and the peak VmHWM before the naive comparison allocates anything).
Each size runs in its own child so one size's memory cannot hide in another's.

A script, not a test: it always exits 0 unless a child fails.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import REPO, median, percentile, progress

NAIVE_CUTOFF = 80.0  # WRatio score the naive matcher needs to count as an answer
# Characters Chinese product names are made of, minus any the questions use (用, 可, 以, ...).
_CJK_POOL = (
    "阿巴比达德迪多厄法菲弗盖格哈海赫吉加卡凯科克拉莱兰朗雷里利林隆鲁罗马迈曼梅米莫"
    "穆纳内尼诺帕佩皮普齐萨塞森斯索塔泰特提托瓦威维沃西希辛雅亚伊尤扎泽智云星光言思"
)


@dataclass(frozen=True)
class SizeResult:
    """What one registry size measured."""

    label: str
    tools: int
    forms: int  # names and aliases
    build_s: float
    questions: int
    ours_median_ms: float
    ours_p99_ms: float
    ours_max_ms: float
    ours_right: int
    naive_median_ms: float
    naive_p99_ms: float
    naive_right: int
    checked: int  # questions with a known right answer
    rss_imports_mib: float
    rss_built_mib: float
    peak_rss_mib: float
    wrong: list[str]
    list_median_ms: float = float("nan")  # list questions ("what is banned?")
    list_p99_ms: float = float("nan")
    variant_median_ms: float = float("nan")  # unregistered products ("the Claude API")
    variant_p99_ms: float = float("nan")


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _chinese_alias(rng: random.Random, taken: set[str]) -> str:
    while True:
        alias = "".join(rng.choice(_CJK_POOL) for _ in range(rng.randint(3, 4)))
        if alias not in taken:
            taken.add(alias)
            return alias


def _typo(word: str, rng: random.Random) -> str:
    """`word` with two neighbouring letters swapped (never the first letter)."""
    for _ in range(20):
        i = rng.randrange(1, len(word) - 1)
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def build_policies(size: int, seed: int = 42) -> tuple[list[Any], list[tuple[str, frozenset[str]]]]:
    """The sample registry padded to `size` tools, and questions about generated tools."""
    import answer_quality as aq

    from bot.domain.policy import ToolPolicy

    base = aq.load_policies(aq.DEFAULT_POLICIES)
    cases = aq.load_cases(aq.DEFAULT_QUESTIONS)
    if size <= len(base):
        return base[:size], []
    rng = random.Random(seed)
    known = {p.name.lower() for p in base}
    asked = {w for case in cases for w in aq._words(case.question)}
    generated = aq._synthetic(size - len(base), rng, avoid=known | asked)
    taken: set[str] = set()
    extra: list[ToolPolicy] = []
    for index, policy in enumerate(generated):
        aliases = list(policy.aliases)
        if index % 3 == 0:  # a third of the tools also have a Chinese name
            aliases.append(_chinese_alias(rng, taken))
        if index % 4 == 0:  # and a quarter a vendor-and-product alias: "Kuma Lotavi Code"
            aliases.append(f"{(policy.vendor or 'acme').capitalize()} {policy.name}")
        extra.append(
            ToolPolicy(
                name=policy.name,
                status=policy.status,
                vendor=policy.vendor,
                aliases=tuple(aliases),
                reason="Generated for the benchmark.",
                effective=dt.date(2026, 1, 1),
                owner="#ai-governance",
            )
        )
    forms = {f.lower() for p in base + extra for f in (p.name, *p.aliases)}
    questions: list[tuple[str, frozenset[str]]] = []
    for policy in rng.sample(extra, min(12, len(extra))):
        expect = frozenset({policy.name})
        cjk = [a for a in policy.aliases if not a.isascii()]
        multi = [a for a in policy.aliases if " " in a and a.isascii()]
        questions.append((f"can I use {policy.name}?", expect))
        if multi:
            questions.append((f"is {multi[0]} allowed for internal code", expect))
        if cjk:
            questions.append((f"我可以用{cjk[0]}吗\uff1f", expect))
        # A slip in the first word of the full name ("Kosefa Pro" alone is not "Kosefa").
        word, *rest = policy.name.lower().split()
        typo = _typo(word, rng)
        if len(word) >= 5 and typo not in forms:
            questions.append((" ".join([typo, *rest]) + " ok?", expect))
    return base + extra, questions


def measure(size: int | None, rounds: int, naive_rounds: int) -> SizeResult:
    """Everything for one registry (`size` tools, or the real policies/ when None)."""
    import answer_quality as aq
    from rapidfuzz import fuzz, process

    from bot.adapters.files.vocabularyfile import shipped_vocabulary
    from bot.domain.answers import Registry, answer_question, render_text

    rss_imports = _status_mib("VmRSS")
    cases = aq.load_cases(aq.DEFAULT_QUESTIONS)
    labelled: list[tuple[str, frozenset[str] | None, tuple[str, ...]]]
    if size is None:
        policies = aq.load_policies(REPO / "policies")
        # The labels are for the sample registry; here the questions are only timed.
        labelled = [(c.question, None, ()) for c in cases]
        label = "policies/ (real)"
    else:
        policies, generated = build_policies(size)
        labelled = [(c.question, c.expect, c.says) for c in cases]
        labelled += [(q, expect, ()) for q, expect in generated]
        label = f"{len(policies):,} tools"
    started = time.perf_counter()
    registry = Registry(policies, shipped_vocabulary())
    build_s = time.perf_counter() - started
    rss_built = _status_mib("VmRSS")
    today = dt.date(2026, 6, 1)

    right, wrong = 0, []
    for question, expect, says in labelled:  # also the warm-up
        answer = answer_question(question, registry, today)
        if expect is None:
            continue
        matched = frozenset(t.policy.name for t in answer.tools)
        text = render_text(answer, "#ai-governance")
        if matched == expect and all(s in text for s in says):
            right += 1
        else:
            wrong.append(f"{question!r}: {sorted(matched)} (expected {sorted(expect)})")
    ours: list[float] = []
    for _ in range(rounds):
        for question, _expect, _says in labelled:
            begun = time.perf_counter_ns()
            answer_question(question, registry, today)
            ours.append((time.perf_counter_ns() - begun) / 1e6)
    peak = _status_mib("VmHWM")
    broad = {
        kind: _time_broad(questions, registry, today, rounds)
        for kind, questions in broad_questions(policies).items()
    }

    # The naive alternative: the best-scoring name or alias over all of them, every time.
    owner: dict[str, str] = {}
    for policy in policies:
        for form in (policy.name, *policy.aliases):
            owner.setdefault(form.lower(), policy.name)
    choices = list(owner)
    naive: list[float] = []
    naive_right = 0
    for round_number in range(naive_rounds):
        for question, expect, _says in labelled:
            begun = time.perf_counter_ns()
            best = process.extractOne(question.lower(), choices, scorer=fuzz.WRatio)
            naive.append((time.perf_counter_ns() - begun) / 1e6)
            if round_number == 0 and expect is not None:
                found = (
                    frozenset({owner[best[0]]})
                    if best is not None and best[1] >= NAIVE_CUTOFF
                    else frozenset()
                )
                naive_right += found == expect
    checked = sum(1 for _q, expect, _s in labelled if expect is not None)
    return SizeResult(
        label=label,
        tools=len(registry),
        forms=len(choices),
        build_s=build_s,
        questions=len(labelled),
        ours_median_ms=median(ours),
        ours_p99_ms=percentile(ours, 0.99),
        ours_max_ms=max(ours),
        ours_right=right,
        naive_median_ms=median(naive),
        naive_p99_ms=percentile(naive, 0.99),
        naive_right=naive_right,
        checked=checked,
        rss_imports_mib=rss_imports,
        rss_built_mib=rss_built,
        peak_rss_mib=peak,
        wrong=wrong,
        list_median_ms=median(broad["list"]),
        list_p99_ms=percentile(broad["list"], 0.99),
        variant_median_ms=median(broad["variant"]),
        variant_p99_ms=percentile(broad["variant"], 0.99),
    )


def broad_questions(policies: list[Any]) -> dict[str, list[str]]:
    """List and variant questions for a registry: by status, vendor, category, data class,
    in English and Chinese; and products of registered families that are not registered."""
    vendors = sorted({p.vendor for p in policies if p.vendor})[:3]
    names = [p.name for p in policies[-3:]]
    return {
        "list": [
            "what AI tools can I use?",
            "what is banned?",
            "what's not allowed?",
            "which coding tools are approved?",
            "tools approved for confidential data?",
            "有哪些工具被禁止了？",
            "哪些编程工具可以用？",
            *(f"is anything from {vendor} ok?" for vendor in vendors),
        ],
        "variant": [
            "does the ban cover the Claude API?",
            "is Copilot Studio allowed?",
            "can I use Claude Sonnet through Amazon Bedrock?",
            "is the Claude VS Code extension ok?",
            *(f"is the {name} API allowed?" for name in names),
        ],
    }


def _time_broad(questions: list[str], registry: Any, today: dt.date, rounds: int) -> list[float]:
    from bot.domain.answers import answer_question

    timings: list[float] = []
    for _ in range(rounds):
        for question in questions:
            begun = time.perf_counter_ns()
            answer_question(question, registry, today)
            timings.append((time.perf_counter_ns() - begun) / 1e6)
    return timings


def run_child(size: int | None, rounds: int, naive_rounds: int) -> SizeResult:
    """`measure` in a fresh interpreter, so its memory figures are its own."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "real" if size is None else str(size),
        "--rounds",
        str(rounds),
        "--naive-rounds",
        str(naive_rounds),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"matching child for {size} failed: {done.stderr[-2000:]}")
    return SizeResult(**json.loads(done.stdout))


def table(results: list[SizeResult]) -> str:
    """The results as a Markdown table, with growth relative to the smallest size."""
    lines = [
        "| registry | names+aliases | index build | policybot p50 | p99 | max "
        "| right | naive extractOne p50 | p99 | naive right | RSS after imports "
        "| RSS built | peak RSS |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        right = f"{r.ours_right}/{r.checked}" if r.checked else "timed only"
        naive_right = f"{r.naive_right}/{r.checked}" if r.checked else "—"
        lines.append(
            f"| {r.label} | {r.forms:,} | {r.build_s * 1000:.0f} ms "
            f"| {r.ours_median_ms:.3f} ms | {r.ours_p99_ms:.3f} ms | {r.ours_max_ms:.3f} ms "
            f"| {right} | {r.naive_median_ms:.3f} ms | {r.naive_p99_ms:.3f} ms | {naive_right} "
            f"| {r.rss_imports_mib:.0f} MiB | {r.rss_built_mib:.0f} MiB "
            f"| {r.peak_rss_mib:.0f} MiB |"
        )
    return "\n".join(lines)


def growth(results: list[SizeResult]) -> str:
    """One line: how the median grows from the smallest to the largest generated registry."""
    sized = [r for r in results if r.checked]
    if len(sized) < 2:
        return ""
    small, big = sized[0], sized[-1]
    return (
        f"From {small.tools:,} to {big.tools:,} tools ({big.tools / small.tools:.0f}x): "
        f"policybot's median x{big.ours_median_ms / small.ours_median_ms:.2f}, "
        f"p99 x{big.ours_p99_ms / small.ours_p99_ms:.2f}; "
        f"naive extractOne's median x{big.naive_median_ms / small.naive_median_ms:.0f}. "
        f"Memory for {big.tools:,} tools: {big.peak_rss_mib - big.rss_imports_mib:.0f} MiB "
        f"above the {big.rss_imports_mib:.0f} MiB of the interpreter with the same imports."
    )


# -- adversarial input: bounded time and memory per question (issue 12, finding 2) ----------

ADVERSARIAL_SIZES = (1_000, 4_000, 10_000, 20_000, 40_000)
ADVERSARIAL_LIMIT_MS = 50.0  # at 40,000 characters, each
ADVERSARIAL_LIMIT_MB = 50.0


def _repeat(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


ADVERSARIAL_INPUTS: dict[str, Any] = {
    "cursor, cursor, …": lambda n: _repeat("cursor, ", n),
    "one long word": lambda n: _repeat("claudecodex", n),
    "one letter repeated": lambda n: "a" * n,
    "hyphen chain (words)": lambda n: _repeat("claude-", n),
    "hyphen chain (letters)": lambda n: _repeat("q-", n),
    "repeated names": lambda n: _repeat("Claude Code ", n),
    "repeated question": lambda n: _repeat("can I use cursor? ", n),
    "near-typos": lambda n: _repeat("curosr calude windsrf ", n),
    "Chinese names": lambda n: _repeat("通义灵码和通义千问", n),
    "markup": lambda n: _repeat("<@U1> <https://x.com|cursor> :smile: ", n),
    "list words": lambda n: _repeat("which tools are allowed and ", n),
    "verdicts then banned": lambda n: _repeat("allowed ", n - 7) + " banned",
    "follow-up words": lambda n: _repeat("why it ", n),
}


@dataclass(frozen=True)
class AdversarialResult:
    kind: str
    chars: int
    median_ms: float
    max_ms: float
    peak_mib: float  # tracemalloc peak during one answer, above what was allocated before
    tools: list[str]
    cpu_median_ms: float = float("nan")  # CPU time: what the question costs, whatever the load


def measure_adversarial(rounds: int = 5) -> list[AdversarialResult]:
    """Every adversarial input at every size against the sample registry: time and memory."""
    import tracemalloc

    import answer_quality as aq

    from bot.adapters.files.vocabularyfile import shipped_vocabulary
    from bot.domain.answers import Registry, answer_question

    registry = Registry(aq.load_policies(aq.DEFAULT_POLICIES), shipped_vocabulary())
    today = dt.date(2026, 6, 1)
    answer_question("warm up", registry, today)
    results = []
    for kind, make in ADVERSARIAL_INPUTS.items():
        for size in ADVERSARIAL_SIZES:
            question = make(size)
            timings, cpu = [], []
            for _ in range(rounds):  # timed without tracemalloc, which slows allocation
                begun, begun_cpu = time.perf_counter_ns(), time.process_time_ns()
                answer = answer_question(question, registry, today)
                cpu.append((time.process_time_ns() - begun_cpu) / 1e6)
                timings.append((time.perf_counter_ns() - begun) / 1e6)
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            answer_question(question, registry, today)
            peak = tracemalloc.get_traced_memory()[1] - before
            tracemalloc.stop()
            results.append(
                AdversarialResult(
                    kind=kind,
                    chars=size,
                    median_ms=median(timings),
                    max_ms=max(timings),
                    cpu_median_ms=median(cpu),
                    peak_mib=peak / 2**20,
                    tools=(
                        [f"a list of {len(answer.listed)}"]
                        if answer.kind.value == "list"
                        else sorted(t.policy.name for t in answer.tools)
                    ),
                )
            )
    return results


def run_adversarial_child() -> list[AdversarialResult]:
    """`measure_adversarial` in a fresh interpreter."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "adversarial"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"adversarial child failed: {done.stderr[-2000:]}")
    return [AdversarialResult(**row) for row in json.loads(done.stdout)]


def adversarial_table(results: list[AdversarialResult]) -> str:
    """Time and peak memory per input and size, with the verdict at the largest size."""
    lines = [
        "| input | chars | p50 | max | CPU p50 | peak memory | tools answered | verdict |",
        "|---|--:|--:|--:|--:|--:|---|---|",
    ]
    biggest = max(ADVERSARIAL_SIZES)
    for r in results:
        verdict = ""
        if r.chars == biggest:  # CPU time: other processes on a busy machine are not the code
            ok = r.cpu_median_ms < ADVERSARIAL_LIMIT_MS and r.peak_mib < ADVERSARIAL_LIMIT_MB
            verdict = "ok" if ok else "OVER LIMIT"
        lines.append(
            f"| {r.kind} | {r.chars:,} | {r.median_ms:.2f} ms | {r.max_ms:.2f} ms "
            f"| {r.cpu_median_ms:.2f} ms "
            f"| {r.peak_mib:.2f} MiB | {', '.join(r.tools) or '—'} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40,1000,10000", help="comma-separated tool counts")
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the questions")
    parser.add_argument("--naive-rounds", type=int, default=2, help="passes for extractOne")
    parser.add_argument("--no-real", action="store_true", help="skip the real policies/ row")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--adversarial-only", action="store_true", help="only the adversarial inputs"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "adversarial":
        print(json.dumps([asdict(r) for r in measure_adversarial()]))
        return 0
    if args.child:
        size = None if args.child == "real" else int(args.child)
        print(json.dumps(asdict(measure(size, args.rounds, args.naive_rounds))))
        return 0

    progress("matching: adversarial inputs")
    adversarial = run_adversarial_child()
    print(
        "Adversarial questions (sample registry; time without tracemalloc, memory with it; "
        f"verdict at {max(ADVERSARIAL_SIZES):,} characters: median CPU time under "
        f"{ADVERSARIAL_LIMIT_MS:g} ms and peak under {ADVERSARIAL_LIMIT_MB:g} MB):"
    )
    print(adversarial_table(adversarial))
    print()
    if args.adversarial_only:
        return 0

    sizes: list[int | None] = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not args.no_real:
        sizes.insert(0, None)
    results = []
    for size in sizes:
        progress(f"matching: {'policies/' if size is None else f'{size:,} tools'}")
        results.append(run_child(size, args.rounds, args.naive_rounds))
    print(table(results))
    print(growth(results))
    print()
    print("List and variant questions (answer_question, the same registries):")
    print("| registry | list p50 | list p99 | variant p50 | variant p99 |")
    print("|---|--:|--:|--:|--:|")
    for r in results:
        print(
            f"| {r.label} | {r.list_median_ms:.3f} ms | {r.list_p99_ms:.3f} ms "
            f"| {r.variant_median_ms:.3f} ms | {r.variant_p99_ms:.3f} ms |"
        )
    for r in results:
        for line in r.wrong:
            print(f"  wrong at {r.label}: {line}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

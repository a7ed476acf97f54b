"""What `policybot import` costs for a large registry, on SQLite and PostgreSQL (issue 30).

    .venv/bin/python bench/import_cost.py [--tools 10000] [--files 5] [--changed 0.01]
                                          [--rounds 1] [--no-postgres] [--json PATH]

Writes `--files` policy files of generated tools in the format of policies/ (names, two or
three aliases, every field, an alternative on every tenth tool), then, for each database,
times the real command (`policybot import DIR --database-url URL`, a child process, start-up
included) three times in a row:

- fresh:     into a database with no schema (migrations, then every tool created);
- unchanged: the same files again (nothing written);
- changed:   the files with `--changed` of the tools given a new reason (one revision each).

Each figure is printed with the load average (`os.getloadavg()`) just before it ran: the
machine is shared, so a figure means little without it. A script, not a test: it exits 0
unless an import fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import (
    bench_env,
    drop_postgres_database,
    machine,
    policybot_command,
    postgres_database,
    progress,
    run,
)

from bot.adapters.files.policyfile import dump_policies
from bot.domain.policy import DataClass, Status, ToolPolicy

AIM_FRESH_S = 5.0  # issue 30: 10,000 tools into a fresh database
AIM_UNCHANGED_S = 2.0  # issue 30: the same files again

_SYLLABLES = ("ka", "lo", "mi", "ra", "ten", "vo", "zu", "quin", "dex", "pha", "nor", "sil")
_SUFFIXES = ("AI", "Pilot", "Studio", "Assist", "Writer", "Lens", "Code", "Chat")
_CATEGORIES = ("chat-assistant", "coding-assistant", "image-and-media", "productivity", "voice")


@dataclass(frozen=True)
class Timing:
    """One database's three imports, in seconds, and the load average before each."""

    database: str
    tools: int
    changed: int
    fresh_s: float
    unchanged_s: float
    changed_s: float
    fresh_cpu_s: float
    unchanged_cpu_s: float
    changed_cpu_s: float
    load_fresh: float
    load_unchanged: float
    load_changed: float


def generated_tools(count: int, seed: int = 30) -> list[ToolPolicy]:
    """`count` distinct tools with every field set as policies/ sets them."""
    rng = random.Random(seed)
    taken: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        name = f"{word} {rng.choice(_SUFFIXES)}"
        if name.casefold() not in taken:
            taken.add(name.casefold())
            names.append(name)
    tools = []
    for index, name in enumerate(names):
        status = rng.choice(list(Status))
        aliases = [a for a in (f"{name.lower()}-{index}", f"{name.split()[0]}{index}") if a]
        if index % 3 == 0:
            aliases.append(f"{name} desktop {index}")
        tools.append(
            ToolPolicy(
                name=name,
                status=status,
                vendor=f"Vendor {rng.randint(1, 400):03}",
                aliases=tuple(aliases),
                category=_CATEGORIES[index % len(_CATEGORIES)],
                reason=f"Reviewed by security in round {rng.randint(1, 40)}.",
                conditions="Company account only." if status is Status.CONDITIONAL else None,
                max_data=None if status is Status.BANNED else rng.choice(list(DataClass)),
                alternatives=(names[index - 1],) if index % 10 == 9 else (),
                effective=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 300)),
                owner="#ai-governance",
                link=f"https://intranet.example.com/ai-policy/{index}",
            )
        )
    return tools


def write_files(folder: Path, tools: list[ToolPolicy], files: int) -> None:
    """The tools in `files` files of equal size (policies/ has one file per category)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    size = -(-len(tools) // files)
    for number in range(files):
        part = tools[number * size : (number + 1) * size]
        (folder / f"registry-{number + 1}.yaml").write_text(dump_policies(part), encoding="utf-8")


def with_changes(tools: list[ToolPolicy], share: float, seed: int = 31) -> list[ToolPolicy]:
    """`tools` with `share` of them given a new reason."""
    rng = random.Random(seed)
    picked = set(rng.sample(range(len(tools)), max(1, round(len(tools) * share))))
    return [
        replace(tool, reason=f"Reviewed again after the incident {index}.")
        if index in picked
        else tool
        for index, tool in enumerate(tools)
    ]


def timed_import(folder: Path, url: str) -> tuple[float, float, float]:
    """Seconds `policybot import folder` took against `url` (wall, and the child's CPU: on a
    shared machine the wall time is mostly waiting), and the load just before."""
    load = os.getloadavg()[0]
    command = [*policybot_command(), "import", str(folder), "--database-url", url]
    cpu_before = _children_cpu()
    began = time.perf_counter()
    run(command, env=bench_env(), timeout=1800)
    return time.perf_counter() - began, _children_cpu() - cpu_before, load


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(database: str, url: str, tools: list[ToolPolicy], args: argparse.Namespace) -> Timing:
    folder = Path(args.workdir) / "files"
    write_files(folder, tools, args.files)
    progress(f"{database}: fresh import of {len(tools):,} tools")
    fresh, fresh_cpu, load_fresh = timed_import(folder, url)
    progress(f"{database}: re-import, nothing changed ({fresh:.2f} s fresh)")
    unchanged, unchanged_cpu, load_unchanged = timed_import(folder, url)
    changed_tools = with_changes(tools, args.changed)
    changed = sum(1 for a, b in zip(tools, changed_tools, strict=True) if a != b)
    write_files(folder, changed_tools, args.files)
    progress(f"{database}: re-import, {changed} changed ({unchanged:.2f} s unchanged)")
    changed_s, changed_cpu, load_changed = timed_import(folder, url)
    return Timing(
        DATABASE_NAMES[database],
        len(tools),
        changed,
        fresh,
        unchanged,
        changed_s,
        fresh_cpu,
        unchanged_cpu,
        changed_cpu,
        load_fresh,
        load_unchanged,
        load_changed,
    )


DATABASE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def table(results: list[Timing]) -> str:
    """Wall seconds (the aims' figure) and the import process's CPU seconds, which a busy
    machine does not inflate (the PostgreSQL server's own CPU is not in it)."""

    def verdict(wall: float, cpu: float, aim: float) -> str:
        return f"{wall:.2f} s ({cpu:.2f} s CPU) {'met' if wall <= aim else 'MISSED'}"

    lines = [
        f"| database | tools | fresh (aim <= {AIM_FRESH_S:g} s) | unchanged "
        f"(aim <= {AIM_UNCHANGED_S:g} s) | changed | load before (fresh / unchanged / changed) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.tools:,} | {verdict(r.fresh_s, r.fresh_cpu_s, AIM_FRESH_S)} | "
            f"{verdict(r.unchanged_s, r.unchanged_cpu_s, AIM_UNCHANGED_S)} | "
            f"{r.changed_s:.2f} s ({r.changed_cpu_s:.2f} s CPU, {r.changed} tools) "
            f"| {r.load_fresh:.2f} / {r.load_unchanged:.2f} / {r.load_changed:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--changed", type=float, default=0.01, help="share of tools changed")
    parser.add_argument("--rounds", type=int, default=1, help="runs of the three imports")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--sqlite-only", dest="no_postgres", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    tools = generated_tools(args.tools)
    results: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="policybot-import-") as workdir:
        args.workdir = workdir
        for round_number in range(args.rounds):
            if not args.postgres_only:
                db_path = Path(workdir) / f"import-{round_number}.db"
                results.append(measure("sqlite", f"sqlite:///{db_path}", tools, args))
            if args.no_postgres:
                continue
            name = f"policybot_import_bench_{os.getpid()}"
            url = postgres_database(name)
            if url is None:
                progress("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
                continue
            try:
                results.append(measure("postgres", url, tools, args))
            finally:
                drop_postgres_database(name)

    print(f"Machine: {machine().describe()}")
    print(
        f"`policybot import` of {args.tools:,} tools in {args.files} files (start-up included), "
        f"then the same files, then {args.changed:.0%} of the tools changed:"
    )
    print()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The catalogue at scale: how long each page takes to render with 10,000 tools.

    .venv/bin/python bench/catalogue.py [--tools 10000] [--rounds 30] [--json PATH]

A SQLite registry of generated tools (12 categories, 400 vendors, every status, a few
alternatives, aliases in English and Chinese) is imported through the real Store, then 500
of them are changed so "recently changed" and "what changed" have something to show. The
real catalogue app (bot.adapters.web.catalogue.app.CatalogueApp on a real PolicyService) is called
as
WSGI, in process, so the figures are server time: routing, data, Jinja and encoding.

The first request of the process loads the registry and builds the catalogue's indexes and
is reported apart as "cold"; every page is then timed `rounds` times (median, p95, max).
Exports are not pages (they hold every tool) and are timed for information: their first
round writes the export, later rounds serve it from the per-snapshot cache. At the end one
tool is changed through the write path, and the first page after it and the first search
after it (which builds the answers' matcher) are timed. The aim is under 200 ms per page at
10,000 tools. The load average is printed, since on a shared machine the max mostly
measures the neighbours.

A script, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import machine, median, percentile, progress

from bot.adapters.db import engines as db
from bot.adapters.web.catalogue.app import CatalogueApp
from bot.app.changes import Actor, ImportPolicies
from bot.compose import build_runtime
from bot.config import Settings
from bot.domain.commands import SetPolicy
from bot.domain.policy import DataClass, Status, ToolPolicy

AIM_MS = 200.0
CATEGORIES = (
    "coding-assistant",
    "chat-assistant",
    "image-and-media",
    "productivity",
    "translation",
    "meeting-notes",
    "search",
    "data-analysis",
    "design",
    "voice",
    "security",
    "customer-support",
)
_SYLLABLES = ("ka", "lo", "mi", "ra", "ten", "vo", "zu", "quin", "dex", "pha", "nor", "sil")
_CJK = "阿巴比达德迪多法菲盖格哈海吉加卡凯科克拉莱兰朗雷里利林隆鲁罗马迈曼梅米莫纳内尼诺"


def generated_registry(count: int, seed: int = 18) -> list[ToolPolicy]:
    """`count` distinct tools with realistic fields; every 10th has an alternative."""
    rng = random.Random(seed)
    names: list[str] = []
    taken: set[str] = set()
    while len(names) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        name = f"{word} {rng.choice(('AI', 'Pilot', 'Studio', 'Assist', 'Writer', 'Lens'))}"
        if name.casefold() not in taken:
            taken.add(name.casefold())
            names.append(name)
    aliases_taken: set[str] = set()
    policies = []
    for index, name in enumerate(names):
        status = rng.choice(list(Status))
        alias = "".join(rng.choice(_CJK) for _ in range(4))
        aliases = (alias,) if alias not in aliases_taken else ()
        aliases_taken.update(aliases)
        policies.append(
            ToolPolicy(
                name=name,
                status=status,
                vendor=f"Vendor {rng.randint(1, 400):03}",
                aliases=aliases,
                category=rng.choice(CATEGORIES),
                reason=f"Reviewed by security in round {rng.randint(1, 40)}.",
                conditions="Company account only." if status is Status.CONDITIONAL else None,
                max_data=None if status is Status.BANNED else rng.choice(list(DataClass)),
                alternatives=(names[index - 1],) if index % 10 == 9 else (),
                effective=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
                owner="#ai-governance",
                link=f"https://intranet.example.com/ai-policy/{index}",
            )
        )
    return policies


class GcPauses:
    """The garbage collector's pauses while timing, to tell its outliers from ours."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int]] = []  # (milliseconds, generation)
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(((time.perf_counter() - self._started) * 1000, info["generation"]))

    def worst(self) -> str:
        full = [ms for ms, generation in self.pauses if generation == 2]
        return (
            f"{len(self.pauses)} collections, {len(full)} full; "
            f"longest full {max(full, default=0.0):.0f} ms"
        )


def timed(app: CatalogueApp, path: str, query: str = "") -> tuple[float, int, bytes]:
    """One GET through the WSGI app: (milliseconds, status code, body)."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        status.append(line)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_ACCEPT_LANGUAGE": "en",
    }
    started = time.perf_counter()
    body = b"".join(app(environ, start_response))  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, int(status[0].split()[0]), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)

    args = parser.parse_args()

    # The 20 MB database goes with the run, whatever happens to it.
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as workdir:
        measure(args, Path(workdir))


def measure(args: argparse.Namespace, workdir: Path) -> None:
    engine = db.make_engine(f"sqlite:///{workdir / 'catalogue.db'}")
    db.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    clock_now = [now - dt.timedelta(days=90)]
    runtime = build_runtime(Settings(), engine, clock=lambda: clock_now[0])
    bench = Actor("bench", "bench", trusted=True)
    policies = generated_registry(args.tools)
    progress(f"importing {len(policies)} generated tools")
    started = time.perf_counter()
    runtime.changes.import_policies(ImportPolicies(tuple(policies), quiet=True), bench)
    import_s = time.perf_counter() - started
    clock_now[0] = now - dt.timedelta(days=3)
    changed = min(500, len(policies) // 2)
    progress(f"changing {changed} of them")
    rng = random.Random(1)
    for policy in rng.sample(policies, changed):
        again = SetPolicy(policy.name, policy.status, reason="Looked at again.")
        runtime.changes.run(again, Actor("U0ADMIN", "bench", trusted=True))
    clock_now[0] = now

    app = CatalogueApp(
        runtime.service,
        runtime.policies,
        clock=lambda: clock_now[0],
        versions=runtime.announcements.versions,
    )
    sample = policies[len(policies) // 2]
    typo = sample.name[0] + sample.name[2] + sample.name[1] + sample.name[3:]
    pages: list[tuple[str, str, str]] = [
        ("catalogue, page 1", "/catalogue/", ""),
        ("catalogue, page 50", "/catalogue/", "page=50"),
        ("filter: status", "/catalogue/", "status=banned"),
        ("filter: category + data", "/catalogue/", "category=coding-assistant&data=internal"),
        ("filter: vendor", "/catalogue/", "vendor=Vendor+007"),
        ("search: a typo", "/catalogue/", "q=" + typo.replace(" ", "+")),
        ("search: no match", "/catalogue/", "q=is+figma+allowed"),
        ("tool page", "/catalogue/tools/" + sample.name.lower().replace(" ", "-"), ""),
        ("radar (240 drawn)", "/catalogue/radar", ""),
        ("radar: one category", "/catalogue/radar", "category=design&status=allowed"),
        ("what changed", "/catalogue/changes", ""),
    ]
    downloads = [
        ("export.json (all)", "/catalogue/export.json", ""),
        ("export.csv (all)", "/catalogue/export.csv", ""),
        ("export.yaml (all)", "/catalogue/export.yaml", ""),
    ]
    cold_ms, cold_status, _ = timed(app, "/catalogue/")
    collections = GcPauses()
    rows = []
    for label, path, query in [*pages, *downloads]:
        times = []
        code, body = 0, b""
        rounds = args.rounds if (label, path, query) in pages else max(3, args.rounds // 10)
        for _ in range(rounds):
            ms, code, body = timed(app, path, query)
            times.append(ms)
        rows.append(
            {
                "page": label,
                "url": path + ("?" + query if query else ""),
                "status": code,
                "bytes": len(body),
                "tool_links": body.count(b'href="/catalogue/tools/'),
                "median_ms": round(median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "max_ms": round(max(times), 1),
                "is_page": (label, path, query) in pages,
            }
        )

    # A change while serving: the first page after it reloads the registry (the changed
    # rows only) and rebuilds the catalogue's indexes; the first search builds the matcher.
    change = SetPolicy(sample.name, Status.BANNED, reason="Changed while serving.")
    runtime.changes.run(change, Actor("U0ADMIN", "bench", trusted=True))
    after_change_ms, _, _ = timed(app, "/catalogue/")
    search_after_ms, _, _ = timed(app, "/catalogue/", "q=" + typo.replace(" ", "+"))

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"# catalogue at {args.tools} tools ({machine().describe()}; load average {load})")
    print(f"import of {args.tools} tools through the Store: {import_s:.1f} s")
    print(f"cold first request (loads the registry, builds the page's indexes): {cold_ms:.0f} ms")
    print(f"first page after a registry change: {after_change_ms:.0f} ms")
    print(f"first search after that change (builds the matcher): {search_after_ms:.0f} ms")
    print(
        f"{'page':26} {'status':>6} {'KiB':>6} {'links':>5} "
        f"{'median':>8} {'p95':>8} {'max':>8}  aim"
    )
    worst = 0.0
    for row in rows:
        aim = ("ok" if row["max_ms"] < AIM_MS else "OVER") if row["is_page"] else "(export)"
        if row["is_page"]:
            worst = max(worst, row["max_ms"])
        print(
            f"{row['page']:26} {row['status']:>6} {row['bytes'] / 1024:>6.0f} "
            f"{row['tool_links']:>5} "
            f"{row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms {row['max_ms']:>6.1f}ms  {aim}"
        )
    print(f"slowest page (max over {args.rounds} rounds): {worst:.1f} ms; aim < {AIM_MS:.0f} ms")
    print(f"garbage collector while timing: {collections.worst()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tools": args.tools,
                    "import_s": import_s,
                    "cold_ms": cold_ms,
                    "cold_status": cold_status,
                    "after_change_ms": after_change_ms,
                    "search_after_change_ms": search_after_ms,
                    "rows": rows,
                    "aim_ms": AIM_MS,
                },
                indent=2,
            )
        )
    engine.dispose()


if __name__ == "__main__":
    main()

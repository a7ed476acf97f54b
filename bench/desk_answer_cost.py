"""What issue 16 adds to answering: the asker's active exceptions looked up for every answer.

    .venv/bin/python bench/desk_answer_cost.py [--rounds 7] [--questions 2000]

Times `PolicyService.ask` on a fresh SQLite file with the shipped `policies/` and one active
exception, with the desk (the lookup in its 1-second snapshot) and without it. The question
log is left out (the server writes it in batches off the request thread anyway).

A script, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import timeit
from pathlib import Path

from bot.app.service import PolicyService
from bot.compose import open_runtime
from bot.config import Settings
from bot.domain.answers import answer_question

QUESTIONS = ("can I use claude code?", "is cursor allowed?", "can I use Kiro?")


class _NoLog:
    def add(self, *args: object, **kwargs: object) -> None:
        pass


def per_question_us(service: PolicyService, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        service.ask(QUESTIONS[index % len(QUESTIONS)], asker="UALICE")
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        policies_path=Path(__file__).resolve().parents[1] / "policies",
        admins=["UADMIN"],
    )
    service = open_runtime(settings).service
    service.handle(
        "exception Claude Code --purpose bench --data internal --days 10 --why bench",
        user="UALICE",
        source="console",
    )
    print(service.handle("approve E1", user="UADMIN", source="console").text)
    service.question_log = _NoLog()  # type: ignore[assignment]
    per_question_us(service, 300)  # warm the registry and the snapshot
    desk = service.desk
    timings: dict[bool, list[float]] = {True: [], False: []}
    for _round in range(args.rounds):  # interleaved, so a busy machine hits both alike
        for use_desk in (True, False):
            service.desk = desk if use_desk else None
            timings[use_desk].append(per_question_us(service, args.questions))
    service.desk = desk
    with_desk, without = min(timings[True]), min(timings[False])
    answer = answer_question(QUESTIONS[0], service.registry())
    holder = timeit.timeit(lambda: service._personal(answer, "UALICE"), number=20000) / 20000
    other = timeit.timeit(lambda: service._personal(answer, "UBOB"), number=20000) / 20000
    print(
        f"the lookup alone: {holder * 1e6:.1f} µs for the exception's holder, "
        f"{other * 1e6:.1f} µs for anyone else (20,000 calls each)"
    )
    print(
        f"ask(): {without:.0f} µs without the exception lookup, {with_desk:.0f} µs with it "
        f"({(with_desk - without) / without:+.1%}; best of {args.rounds} interleaved rounds of "
        f"{args.questions} questions; load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

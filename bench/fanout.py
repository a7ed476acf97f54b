"""Announcement fan-out: DM reminders to N members through the stand-in Slack's rate limit.

    .venv/bin/python bench/fanout.py [--members 10000] [--rate 100] [--burst 20]
                                     [--concurrency 8] [--start-rate 20] [--json PATH]

The stand-in accepts chat.postMessage at `--rate` per second with bursts of `--burst` and
answers 429 + Retry-After beyond that, like Slack. The real sender (bot/entrypoints/sender: outbox
claims, thread pool, adaptive pace, marks) runs in this process on a temporary SQLite
database; a policy change is made, its reminder round is due at once (POLICYBOT_REMINDER_AFTER
0s) and the time from the first to the last accepted DM gives the send rate, reported as a
share of the limit's ceiling (`--rate`). Lost = members with no DM, doubled = more than one.

A script, not a test: it prints one table row (and writes JSON with --json) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from bot.adapters.db import engines as db  # noqa: E402
from bot.app.changes import Actor, ImportPolicies  # noqa: E402
from bot.compose import build_runtime, build_sender  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.commands import SetPolicy  # noqa: E402
from bot.domain.policy import Status, ToolPolicy  # noqa: E402
from tests.standin import RateLimit, StandinSlack  # noqa: E402

CHANNEL = "C0ANNOUNCE"
AIM_SHARE = 0.90


def run(
    members: int, rate: float, burst: int, concurrency: int, start_rate: float
) -> dict[str, Any]:
    people = [f"U{n:06d}" for n in range(members)]
    limit = RateLimit(per_second=rate, burst=burst)
    with (
        StandinSlack(members={CHANNEL: people}, rate_limit=limit) as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = f"sqlite:///{Path(tmp) / 'fanout.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        settings = Settings(
            database_url=url,
            slack_bot_token="xoxb-bench",
            slack_api_url=slack.api_url,
            announce_channel=CHANNEL,
            reminder_after="0s",
            max_reminders=1,
            send_concurrency=concurrency,
            send_rate=start_rate,
        )
        runtime = build_runtime(settings, engine)
        bench = Actor("bench", "bench", trusted=True)
        runtime.changes.import_policies(
            ImportPolicies(
                (ToolPolicy("Qoder", Status.ALLOWED), ToolPolicy("Cursor", Status.ALLOWED)),
                quiet=True,
            ),
            bench,
        )
        scheduler = build_sender(runtime)
        assert scheduler.lock.acquire()

        started = time.monotonic()
        runtime.changes.run(SetPolicy("Cursor", Status.BANNED, alternatives=("Qoder",)), bench)
        while True:
            scheduler.dispatcher.run_once()
            counts = scheduler.outbox.counts()
            if not counts.get("pending") and not counts.get("claimed"):
                break
            time.sleep(0.2)  # retries wait for their backoff
            scheduler.lock.acquire()
        finished = time.monotonic() - started
        scheduler.dispatcher.stop()
        engine.dispose()

        accepted = [
            c
            for c in slack.calls_to("chat.postMessage")
            if c.status == 200 and c.response.get("channel", "").startswith("D")
        ]
        got = Counter(m.channel for m in slack.messages() if m.channel.startswith("D"))
    first, last = accepted[0].time, accepted[-1].time
    seconds = (last - first).total_seconds()
    sent_rate = (len(accepted) - 1) / seconds if seconds > 0 else float("nan")
    return {
        "members": members,
        "limit_per_s": rate,
        "burst": burst,
        "concurrency": concurrency,
        "sent": len(accepted),
        "send_seconds": round(seconds, 2),
        "msgs_per_s": round(sent_rate, 1),
        "share_of_ceiling": round(sent_rate / rate, 3),
        "time_to_finish_s": round(finished, 2),
        "rate_limited_429": slack.refusals,
        "lost": sum(1 for p in people if got[f"D{p}"] == 0),
        "doubled": sum(1 for p in people if got[f"D{p}"] > 1),
        "final_pace_per_s": round(scheduler.pacer.rate, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="stand-in limit, messages/s")
    parser.add_argument("--burst", type=int, default=20, help="stand-in burst")
    parser.add_argument("--concurrency", type=int, default=8, help="sending threads")
    parser.add_argument("--start-rate", type=float, default=20.0, help="the sender's first pace")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.members, args.rate, args.burst, args.concurrency, args.start_rate)
    print(
        "| members | limit | msgs/s | share of ceiling | send time | time to finish "
        "| 429s | lost | doubled |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['members']:,} | {result['limit_per_s']:g}/s burst {result['burst']} "
        f"| {result['msgs_per_s']} | {result['share_of_ceiling']:.1%} "
        f"(aim ≥ {AIM_SHARE:.0%}) | {result['send_seconds']} s | {result['time_to_finish_s']} s "
        f"| {result['rate_limited_429']} | {result['lost']} | {result['doubled']} |"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

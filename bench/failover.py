"""Failover: SIGKILL the sender in the middle of a fan-out, and time how soon sending resumes.

    .venv/bin/python bench/failover.py [--members 2000] [--rate 200] [--burst 20]
                                       [--database sqlite|postgres] [--mode restart|standby]
                                       [--process serve|scheduler] [--json PATH]

A stand-in Slack (rate limited like Slack: `--rate`/s, bursts of `--burst`) has `--members`
people in the announce channel. A policy change is made on a seeded database and its first
reminder round (due at once) fans out a DM to every member from a real policybot process
(`policybot serve` by default). When a third of the DMs went out the sender gets SIGKILL.

* `--mode restart`: the same process is started again (a supervisor restarting it). Resume time
  = from spawning the new process to the first DM Slack accepts from it.
* `--mode standby`: a second process was running all along; resume time = from the kill to its
  first accepted DM. Both need the sender lock (advisory lock on PostgreSQL, file lock on SQLite).

Also reported: rows left claimed at the kill (bounded by the sending threads), how many were
found already posted when reconciled (conversations.history calls), and lost / doubled DMs
(members with no DM / more than one). A script, not a test: it prints one table row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    bench_env,
    drop_postgres_database,
    free_port,
    policybot_command,
    postgres_database,
    progress,
    stop,
)
from sqlmodel import Session, select

from bot.adapters.db import engines as db
from bot.adapters.db.models import Delivery
from bot.adapters.db.store import Store
from bot.config import Settings
from tests.factories import seed_registry
from tests.standin import RateLimit, StandinSlack
from tests.wiring import runtime_on, seed

CHANNEL = "C0ANNOUNCE"
ADMIN = "U0ADMIN"
SECRET = "bench-signing-secret"
TARGET_SECONDS = 5.0


def claimed_rows(url: str) -> int:
    engine = db.make_engine(url)
    with engine.connect() as connection:
        count = connection.exec_driver_sql(
            "SELECT count(*) FROM delivery WHERE status = 'claimed'"
        ).scalar()
    engine.dispose()
    return int(count or 0)


def accepted_dms(slack: StandinSlack) -> list[dt.datetime]:
    return [
        c.time
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200 and str(c.response.get("channel", "")).startswith("D")
    ]


def spawn(kind: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    if kind == "serve":
        command = [*policybot_command(), "serve", "--host", "127.0.0.1", "--port", str(free_port())]
    else:
        command = [sys.executable, "-m", "bot.entrypoints.sender", "--poll", "1"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=log.parent, stdout=out, stderr=out)


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.02)


def run(
    members: int, rate: float, burst: int, database: str, mode: str, kind: str
) -> dict[str, Any]:
    people = [f"U{n:06d}" for n in range(members)]
    pg_name = f"policybot_failover_{os.getpid()}"
    with (
        StandinSlack(members={CHANNEL: people}, rate_limit=RateLimit(rate, burst)) as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        if database == "postgres":
            pg_url = postgres_database(pg_name)
            if pg_url is None:
                raise SystemExit("no PostgreSQL answers at 127.0.0.1:5432")
            url = pg_url
        else:
            url = f"sqlite:///{Path(tmp) / 'failover.db'}"
        try:
            engine = db.make_engine(url)
            db.upgrade(engine)
            seed(runtime_on(Store(engine)), seed_registry())
            engine.dispose()
            return _scenario(slack, people, url, Path(tmp), mode, kind, rate)
        finally:
            if database == "postgres":
                drop_postgres_database(pg_name)


def _scenario(
    slack: StandinSlack,
    people: list[str],
    url: str,
    tmp: Path,
    mode: str,
    kind: str,
    rate: float,
) -> dict[str, Any]:
    env = bench_env(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        POLICYBOT_ADMINS=ADMIN,
        POLICYBOT_POLICIES=str(tmp / "no-policies"),
        POLICYBOT_ANNOUNCE_CHANNEL=CHANNEL,
        POLICYBOT_REMINDER_AFTER="0s",
        POLICYBOT_MAX_REMINDERS="1",
        PYTHONPATH=str(REPO),
        LOG_LEVEL=os.environ.get("FAILOVER_LOG_LEVEL", "WARNING"),
    )
    first = spawn(kind, env, tmp / "first.log")
    standby = spawn(kind, env, tmp / "standby.log") if mode == "standby" else None
    processes = [p for p in (first, standby) if p is not None]
    try:
        _change_policy(url, slack)
        wait_for(lambda: len(accepted_dms(slack)) >= len(people) // 3, 120, "a third of the DMs")
        holder = _holder(url, processes)
        holder.kill()  # SIGKILL
        holder.wait(10)
        killed_at = dt.datetime.now(dt.UTC)
        sent_at_kill = len(accepted_dms(slack))
        left_claimed = claimed_rows(url)
        history_before = len(slack.calls_to("conversations.history"))
        if mode == "restart":
            restarted_at = dt.datetime.now(dt.UTC)
            progress(f"restarting at {restarted_at:%H:%M:%S.%f}")
            processes.append(spawn(kind, env, tmp / "restart.log"))
        else:
            restarted_at = killed_at
        wait_for(lambda: len(accepted_dms(slack)) > sent_at_kill, 60, "sending to resume")
        resumed = next(t for t in accepted_dms(slack) if t > restarted_at)
        wait_for(lambda: len(accepted_dms(slack)) >= len(people), 300, "every DM")
        time.sleep(1.0)  # let a stray double show up, if there were one
    finally:
        for process in processes:
            stop(process)
        if os.environ.get("FAILOVER_LOGS"):  # keep the processes' logs for a look
            for log in tmp.glob("*.log"):
                (Path(os.environ["FAILOVER_LOGS"]) / log.name).write_bytes(log.read_bytes())
    got = Counter(m.channel for m in slack.messages() if m.channel.startswith("D"))
    took_over = _first_claim_after(url, restarted_at)
    return {
        "mode": mode,
        "process": kind,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "members": len(people),
        "limit_per_s": rate,
        "sent_before_kill": sent_at_kill,
        "claimed_at_kill": left_claimed,
        "reconciled_lookups": len(slack.calls_to("conversations.history")) - history_before,
        "resume_seconds": round((resumed - restarted_at).total_seconds(), 2),
        # The split: until the new holder's first claim (process start, lock), then to the DM.
        "first_claim_seconds": round((took_over - restarted_at).total_seconds(), 2),
        "lost": sum(1 for p in people if got[f"D{p}"] == 0),
        "doubled": sum(1 for p in people if got[f"D{p}"] > 1),
    }


def _change_policy(url: str, slack: StandinSlack) -> None:
    """The admin's `set`, through the service (as the console and Slack run it)."""
    from bot.compose import open_runtime

    settings = Settings(
        database_url=url,
        slack_api_url=slack.api_url,
        announce_channel=CHANNEL,
        admins=[ADMIN],
        reminder_after="0s",
        max_reminders=1,
    )
    runtime = open_runtime(settings, migrate=False, seed=False)
    reply = runtime.service.handle(
        "set Cursor banned --alternatives Qoder", user=ADMIN, source="bench"
    )
    runtime.engine.dispose()
    progress(f"policy changed: {reply.text[:80]}")


def _first_claim_after(url: str, since: dt.datetime) -> dt.datetime:
    """When the process that took over first claimed (or reclaimed) a row."""
    engine = db.make_engine(url)
    with Session(engine) as session:
        times = session.exec(select(Delivery.claimed_at).where(Delivery.status == "sent")).all()
    engine.dispose()
    return min(t for t in times if t is not None and t > since)


def _holder(url: str, processes: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """The process whose worker (host:pid:tail) claimed the rows sent so far."""
    engine = db.make_engine(url)
    with engine.connect() as connection:
        workers = connection.exec_driver_sql(
            "SELECT DISTINCT claimed_by FROM delivery WHERE status = 'sent'"
        ).all()
    engine.dispose()
    pids = {int(str(w[0]).split(":")[1]) for w in workers if w[0]}
    [holder] = [p for p in processes if p.pid in pids]
    return holder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="stand-in limit, messages/s")
    parser.add_argument("--burst", type=int, default=20, help="stand-in burst")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--mode", choices=("restart", "standby"), default="restart")
    parser.add_argument("--process", choices=("serve", "scheduler"), default="serve")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.members, args.rate, args.burst, args.database, args.mode, args.process)
    print(
        "| mode | process | database | members | claimed at kill | looked up "
        "| resume after restart (first claim) | lost | doubled |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['mode']} | {result['process']} | {result['database']} "
        f"| {result['members']:,} | {result['claimed_at_kill']} "
        f"| {result['reconciled_lookups']} | {result['resume_seconds']} s "
        f"({result['first_claim_seconds']} s; aim < {TARGET_SECONDS:g} s) "
        f"| {result['lost']} | {result['doubled']} |"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

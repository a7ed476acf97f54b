"""`python -m bot.entrypoints.sender [--poll SECONDS]`: run only the scheduler (settings from the
env).

For a replica that sends announcements without serving Slack requests, and for the crash test,
which SIGKILLs this process mid-fan-out and starts it again.
"""

from __future__ import annotations

import argparse
import signal
import threading

from bot.compose import build_sender, configure_process, open_runtime
from bot.config import cron_problem, load_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.entrypoints.sender", description=__doc__)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between outbox ticks")
    options = parser.parse_args()
    settings = load_settings()
    problem = cron_problem(settings.digest_cron, settings.timezone)
    if problem:
        raise SystemExit(f"bad setting: {problem}")
    configure_process(settings)
    runtime = open_runtime(settings, seed=False)
    scheduler = build_sender(runtime, poll_seconds=options.poll)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    scheduler.start()
    print(f"scheduler running as {scheduler.worker}", flush=True)
    done.wait()
    scheduler.stop()


if __name__ == "__main__":
    main()

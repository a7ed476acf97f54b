"""How bursts of new keep-alive connections split between two gunicorn workers.

    .venv/bin/python bench/accept_sharing.py [--bursts 10] [--connections 40]

Starts `policybot serve` (HTTP mode, 2 workers, SQLite, the stand-in Slack), then opens
`--connections` connections at once, sends /healthz on each, and counts from Linux's /proc
which worker holds each connection; `--bursts` times. Without the accept pause
(bot/adapters/web/workers.py, `steps_back`) the worker that wakes first takes most of a burst
(measured
43/8, 50/0 and 48/7 of 50); with it, close to half each. The split depends on the OS scheduler
and the machine's load, so it is measured here, never asserted in a test
(tests/test_worker_accept.py checks the pause itself). A script, not a test; Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests/

from tests.adapters.slack.harness import SECRET, BotProcess, seeded_database, wait_until
from tests.factories import seed_registry
from tests.standin import StandinSlack

WORKERS = 2


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (the arbiter and its workers), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def connections_by_process(port: int, pids: set[int]) -> dict[int, int]:
    """How many established TCP connections to `port` each process holds, from /proc."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    counts: dict[int, int] = {}
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if held:
            counts[pid] = held
    return counts


def burst(port: int, workers: set[int], connections: int) -> dict[int, int]:
    """`connections` keep-alive connections at once, each answered, counted by worker."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    clients = [
        socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(connections)
    ]
    try:
        for client in clients:
            client.sendall(request)
        for client in clients:
            if not client.recv(4096).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("/healthz did not answer 200")
        return connections_by_process(port, workers)
    finally:
        for client in clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--connections", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accept-sharing-"))
    with StandinSlack() as standin:
        env = {
            "DATABASE_URL": seeded_database(work / "policybot.db", seed_registry()),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "POLICYBOT_POLICIES": str(work / "no-policies"),
            "POLICYBOT_WORKERS": str(WORKERS),
        }
        bot = BotProcess(env, work)
        bot.start()
        try:
            assert bot.process is not None
            workers = descendants(bot.process.pid)
            # /healthz answers once one worker is up; the other may still be starting.
            wait_until(
                lambda: len(burst(bot.port, workers, args.connections)) == WORKERS,
                60,
                "a burst both workers take part in",
            )
            splits = [burst(bot.port, workers, args.connections) for _ in range(args.bursts)]
        finally:
            bot.stop()
    shares = [min(counts.values(), default=0) / args.connections for counts in splits]
    for counts in splits:
        print("/".join(str(n) for n in sorted(counts.values(), reverse=True)))
    print(
        f"smaller worker's share of a burst of {args.connections}: "
        f"median {statistics.median(shares):.0%}, lowest {min(shares):.0%}",
        flush=True,
    )
    print(json.dumps({"splits": [sorted(c.values(), reverse=True) for c in splits]}))


if __name__ == "__main__":
    main()

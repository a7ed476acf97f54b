"""A stopping `policybot serve` (HTTP mode, gunicorn workers) answers or refuses a request sent
meanwhile, and never resets it.

On SIGTERM a worker stops accepting but used to keep the listening socket open while it
finished its work; the kernel went on queueing new connections for nobody, and reset each one
when the worker exited: a plain GET got ConnectionResetError seconds after it was sent. The
moment the workers stop accepting is read from Linux's /proc (the listening socket leaves
their epoll sets), so the test does not depend on timing or on the machine's load.
"""

from __future__ import annotations

import os
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.slack.harness import SECRET, BotProcess, seeded_database, wait_until
from tests.factories import seed_registry
from tests.standin import StandinSlack

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
WORKERS = 2


def listening_inode(port: int) -> int | None:
    """The inode of the socket listening on `port`, from /proc/net/tcp; None when none is."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return int(fields[9])
    return None


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (gunicorn's arbiter and its workers)."""
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


def polls(pid: int, inode: int) -> bool:
    """Whether process `pid` has the socket `inode` in one of its epoll sets (False once the
    process is gone)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) != "anon_inode:[eventpoll]":
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
        except OSError:
            continue  # closed meanwhile
        if inode in {int(ino, 16) for ino in re.findall(r"^tfd:.*\bino:([0-9a-f]+)", info, re.M)}:
            return True
    return False


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    with StandinSlack() as standin:
        env = {
            "DATABASE_URL": seeded_database(tmp_path / "policybot.db", seed_registry()),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "POLICYBOT_POLICIES": str(tmp_path / "no-policies"),
            "POLICYBOT_WORKERS": str(WORKERS),
        }
        process = BotProcess(env, tmp_path)
        process.start()
        try:
            yield process
        finally:
            process.stop()


def get_healthz(port: int) -> bytes:
    """GET /healthz on a new connection; what the server answered before closing it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_a_request_sent_while_the_server_stops_is_refused_not_reset(bot: BotProcess) -> None:
    assert bot.process is not None
    inode = listening_inode(bot.port)
    assert inode is not None
    # Half a request: a worker has a connection to finish, so its stop lasts a while (until
    # the request completes or IDLE_SECONDS pass).
    stalled = socket.create_connection(("127.0.0.1", bot.port), timeout=30)
    stalled.sendall(b"GET /healthz HTTP/1.1\r\n")
    # Connections are accepted in the order they came: once this one is answered, the
    # stalled one is held by a worker.
    assert get_healthz(bot.port).startswith(b"HTTP/1.1 200 ")
    processes = descendants(bot.process.pid)
    # /healthz answers once one worker is up: the other may still be starting.
    wait_until(
        lambda: sum(polls(pid, inode) for pid in processes) == WORKERS, 60, "both workers to accept"
    )

    bot.process.send_signal(signal.SIGTERM)
    wait_until(
        lambda: not any(polls(pid, inode) for pid in processes), 20, "the workers to stop accepting"
    )
    try:
        answer = get_healthz(bot.port)
    except ConnectionRefusedError:
        answer = b"refused"
    stalled.close()
    code = bot.process.wait(timeout=40)
    bot.process = None

    assert answer == b"refused", answer
    assert code == 0

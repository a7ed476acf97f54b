"""Helpers the benchmarks share: percentiles, the machine, processes, ports and HTTP probes.

Nothing here measures anything by itself; each bench/*.py script imports what it needs.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/ when run as .venv/bin/python
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script from anywhere


def progress(message: str) -> None:
    """One progress line on stderr, so stdout stays the result."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))  # ceil
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class Machine:
    """Where a benchmark ran."""

    cpu: str
    cores: int
    ram_gib: float
    python: str
    system: str
    date: str

    def describe(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores, {self.ram_gib:.1f} GiB RAM; "
            f"Python {self.python}; {self.system}; {self.date}"
        )


def machine() -> Machine:
    """The CPU model, core count, RAM, Python version and today's date."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    return Machine(
        cpu=cpu,
        cores=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1,
        ram_gib=ram,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of `GET path` on 127.0.0.1:`port`, or None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_for_http(
    port: int,
    path: str = "/healthz",
    timeout: float = 30.0,
    process: subprocess.Popen[bytes] | None = None,
) -> float:
    """Poll until `GET path` answers 200; the seconds it took. Raises if it never does."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        if http_status(port, path, timeout=0.5) == 200:
            return time.perf_counter() - started
        time.sleep(0.005)
    raise TimeoutError(f"nothing answered 200 at 127.0.0.1:{port}{path} within {timeout:.0f} s")


def policybot_command() -> list[str]:
    """The `policybot` entry point of this venv (or `python -m bot.entrypoints.cli` when not
    installed).
    """
    script = BIN / "policybot"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot.entrypoints.cli"]


def bench_env(**overrides: str) -> dict[str, str]:
    """The environment for a policybot child: this one, quiet logs, plus `overrides`.

    Without PYTHONDONTWRITEBYTECODE: a child writes the bytecode of what it imports and the
    next start reuses it, as an installed package's would be (else every start of an editable
    checkout compiles the bot from source, which is not what a restart in production costs).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "POLICYBOT_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    # The benches send thousands of questions as one user: they measure answering, so the
    # per-person question limit (docs/security.md) is off unless a bench sets it.
    env["POLICYBOT_QUESTIONS_PER_MINUTE"] = "0"
    env.update(overrides)
    return env


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM `process` (one we started) and wait; SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def run(
    command: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> str:
    """Run `command` to completion; its stdout. Raises with its stderr when it fails."""
    done = subprocess.run(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    return done.stdout


def postgres_database(name: str) -> str | None:
    """Create a fresh database `name` on the local PostgreSQL; its URL, or None if none answers."""
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(
            PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(name: str) -> None:
    """Drop the database `postgres_database` created; quiet if it is already gone."""
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    except Exception as error:
        progress(f"could not drop PostgreSQL database {name}: {error}")


def which(tool: str) -> str | None:
    return shutil.which(tool)


# The signed slash-command questions both HTTP benchmarks replay (typos, Chinese, several
# tools, no policy).
QUESTIONS = (
    "can I use Claude Code?",
    "is cursor allowed for internal code",
    "calude code?",
    "what do I use instead of chatgpt",
    "通义灵码能用吗\uff1f",
    "cursor, windsurf and kimi - which are ok?",
    "can I use Photoshop",
    "can I use copilot",
)

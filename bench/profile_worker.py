"""Where one `policybot serve` worker's CPU goes under load, per request.

    .venv/bin/pip install yappi      # a measuring tool, not a dependency
    .venv/bin/python bench/profile_worker.py [--seconds 10] [--concurrency 50] [--top 10]

Starts `policybot serve --workers 2` (8 threads each, a temporary SQLite database seeded from
policies/, pointed at a StandinSlack in this process) and loads it with wrk as
bench/http_endpoint.py does: signed `/aipolicy` questions, eight different ones, every request
with its own signature. Two runs:

1. unprofiled: the worker processes' CPU time per request (user + system, /proc);
2. profiled: yappi (CPU clock, every thread) started in each worker by a `sitecustomize`
   this script puts on the workers' PYTHONPATH, switched on and off around the run.

yappi slows the process down several times, so its figures are used only as shares: each
part's share of the profiled CPU time, times the unprofiled CPU per request, is what the
part costs per request. A part is a thread (the event loop, the question-log writer) or,
in the request threads, the code a function belongs to (its own time, not its callees').

A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

import http_endpoint as endpoint
from _common import REPO, free_port, policybot_command, progress

# Run in every gunicorn worker: yappi starts when `start` appears in the directory and
# writes its statistics when `stop` does.
SITECUSTOMIZE = """
import os, sys, threading, time

def _profile_worker():
    if "entrypoints/worker" not in sys.argv[0]:  # only gunicorn's workers, not `serve`
        return
    import yappi
    folder = os.environ["POLICYBOT_PROFILE_DIR"]

    def run():
        while not os.path.exists(os.path.join(folder, "start")):
            time.sleep(0.05)
        yappi.set_clock_type("cpu")
        yappi.set_context_name_callback(lambda: threading.current_thread().name)
        yappi.start(builtins=False, profile_threads=True)
        while not os.path.exists(os.path.join(folder, "stop")):
            time.sleep(0.05)
        yappi.stop()
        pid = os.getpid()
        for thread in yappi.get_thread_stats():
            stats = yappi.get_func_stats(filter={"ctx_id": thread.id})
            if not stats.empty():
                name = thread.name.replace("/", "_")
                stats.save(os.path.join(folder, f"{pid}-{thread.id}-{name}.pstat"), "pstat")
        open(os.path.join(folder, f"{pid}.done"), "w").close()

    threading.Thread(target=run, name="profiler", daemon=True).start()

if os.environ.get("POLICYBOT_PROFILE_DIR"):
    os.register_at_fork(after_in_child=_profile_worker)
"""

# Request-thread code by what it belongs to: the first pattern found in a function's file
# (or name) names its part.
PARTS = (
    ("gunicorn/http/", "gunicorn: parse the request, write the response"),
    ("gunicorn/workers/", "gunicorn: the thread's request handling"),
    ("gunicorn/", "gunicorn: other"),
    ("bot/adapters/web/workers.py", "policybot's worker class"),
    ("bot/adapters/web/gate.py", "turn gate"),
    ("threading.py", "locks and events (gate, Bolt, logging)"),
    ("bot/adapters/web/wsgi.py", "routing and body limit (WSGI app)"),
    ("event_repo.py", "replay key: insert and commit (SQLite)"),
    ("sqlalchemy/", "SQLAlchemy (replay key, question log)"),
    ("sqlite3", "SQLite driver"),
    ("bot/adapters/slack/guard.py", "signature check and guard middlewares"),
    ("hmac.py", "signature check and guard middlewares"),
    ("hashlib", "signature check and guard middlewares"),
    ("slack_bolt/", "Bolt: request parsing, middleware, dispatch"),
    ("slack_sdk/", "Bolt: request parsing, middleware, dispatch"),
    ("urllib/parse.py", "Bolt: request parsing, middleware, dispatch"),
    ("bot/adapters/slack/", "the answer: Slack listener and Block Kit"),
    ("bot/adapters/db/question_writer.py", "question log: queueing a row"),
    ("bot/domain/", "the answer: matching and text"),
    ("bot/app/", "the answer: matching and text"),
    ("dataclasses.py", "the answer: matching and text"),  # Answer objects
    ("<string>", "the answer: matching and text"),  # dataclasses' generated __init__
    ("re/__init__.py", "the answer: matching and text"),  # re.search in the answers
    ("weakref.py", "SQLAlchemy (replay key, question log)"),  # the pool's checkout
    ("prometheus_client/", "metrics (multiprocess files)"),
    ("logging/", "logging"),
    ("json/", "JSON encoding"),
    ("email/", "gunicorn: other"),  # the Date header
    ("concurrent/futures", "gunicorn: the thread's request handling"),
    ("selectors.py", "policybot's worker class"),
)


def part_of(filename: str) -> str:
    for pattern, part in PARTS:
        if pattern in filename:
            return part
    return "other"


def thread_part(path: Path) -> str | None:
    """The part a whole thread counts as, or None for a request thread."""
    name = path.stem.split("-", 2)[-1]
    if name == "profiler":
        return "(the profiler's own thread)"
    if name == "MainThread":
        return "event loop (main thread): accept, poll, read whole requests"
    if name == "question-log":
        return "question-log writer thread"
    return None


def own_times(path: Path) -> dict[tuple[str, int, str], float]:
    stats = pstats.Stats(str(path))
    return {key: value[2] for key, value in stats.stats.items()}  # type: ignore[attr-defined]


def worker_pids(server_pid: int) -> list[int]:
    """The gunicorn workers: the processes under `policybot serve` with no children."""
    tree = [pid for pid in all_descendants(server_pid)]
    return [pid for pid in tree if not all_descendants(pid)]


def all_descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per run")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--top", type=int, default=10, help="rows in each table")
    args = parser.parse_args(argv)
    try:
        import yappi  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        raise SystemExit("yappi is not installed: .venv/bin/pip install yappi") from None
    wrk = endpoint.ensure_wrk(allow_install=True)
    if wrk is None:
        raise SystemExit("this profile needs wrk (apt-get install wrk)")
    from tests.standin import StandinSlack

    with StandinSlack() as standin, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "profile"
        folder.mkdir()
        (Path(tmp) / "sitecustomize.py").write_text(SITECUSTOMIZE)
        port = free_port()
        env = endpoint.server_env(standin.api_url, f"sqlite:///{tmp}/policybot.db")
        env.update(
            POLICYBOT_THREADS="8",
            POLICYBOT_PROFILE_DIR=str(folder),
            PYTHONPATH=os.pathsep.join([tmp, env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        command = [*policybot_command(), "serve", "--port", str(port), "--host", "127.0.0.1"]
        command += ["--workers", "2"]
        with endpoint.started("policybot (SQLite)", command, env, port, True) as target:
            target.response_url = standin.response_url()
            endpoint.measure(standin, target, 10, 1.0, "wrk", wrk)  # warm-up
            workers = worker_pids(target.process.pid)
            load = os.getloadavg()[0]
            before = cpu_of(workers)
            plain = endpoint.measure(standin, target, args.concurrency, args.seconds, "wrk", wrk)
            per_request = 1000 * (cpu_of(workers) - before) / max(1, plain.requests)
            progress(f"unprofiled: {plain.rps:,.0f} req/s, workers' CPU {per_request:.3f} ms/req")
            target.response_url = standin.response_url()
            (folder / "start").touch()
            endpoint.measure(standin, target, args.concurrency, args.seconds, "wrk", wrk)
            (folder / "stop").touch()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(list(folder.glob("*.done"))) < len(workers):
                time.sleep(0.2)
        parts: dict[str, float] = {}
        functions: dict[str, float] = {}
        for path in folder.glob("*.pstat"):
            whole = thread_part(path)
            for (filename, line, name), seconds in own_times(path).items():
                part = whole or part_of(filename)
                parts[part] = parts.get(part, 0.0) + seconds
                if whole is None:
                    short = filename.split("site-packages/")[-1].split("python3.11/")[-1]
                    label = f"{name} ({short.removeprefix(str(REPO) + '/')}:{line})"
                    functions[label] = functions.get(label, 0.0) + seconds
        total = sum(parts.values()) or 1.0
    print(
        f"policybot serve, 2 workers x 8 threads, SQLite, {args.concurrency} connections, "
        f"{args.seconds:g} s per run; load average {load:.1f} ({os.cpu_count()} cores); "
        f"unprofiled {plain.rps:,.0f} req/s, workers' CPU {per_request:.3f} ms per request"
    )
    print()
    print("| part | CPU per request | share |")
    print("|---|--:|--:|")
    for part, seconds in sorted(parts.items(), key=lambda item: -item[1])[: args.top]:
        share = seconds / total
        print(f"| {part} | {1000 * share * per_request / 1000:.3f} ms | {100 * share:.1f}% |")
    print()
    print("| function in a request thread (own time) | CPU per request | share |")
    print("|---|--:|--:|")
    for label, seconds in sorted(functions.items(), key=lambda item: -item[1])[: args.top]:
        share = seconds / total
        print(f"| `{label}` | {1000 * share * per_request:.1f} us | {100 * share:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""HTTP mode on every core: gunicorn's arbiter and N worker processes with request threads.

`policybot serve` (bot/entrypoints/serve.py) checks the settings, migrates, checks the bot
token, binds the port and runs the announcement sender; it starts this module as a child
process, passing the listening socket:

    policybot serve                    settings, migrations, token check, the port, the sender
    └─ python -m bot.entrypoints.worker   gunicorn's arbiter: starts and restarts workers
       └─ N workers                    each its own runtime, Bolt app, answering registry and
                                       batched question log; no sender

Each worker answers from its own registry snapshot and checks the shared registry generation
at most a second after its last check, so a change made through any worker (or replica) is
answered by all of them within about a second. The worker class itself, and how it buffers
requests, is bot/adapters/web/workers.py.
"""

from __future__ import annotations

import argparse
import os
import resource
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

from bot.adapters.web import workers as worker_module
from bot.adapters.web.workers import IDLE_SECONDS, WORKER_CONNECTIONS, WORKER_SILENCE_SECONDS

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from bot.adapters.db.question_writer import BatchedQuestionLog


class WorkerState:
    """What a worker process must stop when it exits (it is built after the fork)."""

    question_log: BatchedQuestionLog | None = None
    dispose: Callable[[], None] | None = None


def build_worker_app(state: type[WorkerState] = WorkerState) -> WSGIApplication:
    """One worker's WSGI app: its own engine, runtime, Bolt app and question log."""
    from bot.compose import build_web, open_serving_runtime
    from bot.config import load_settings

    # `policybot serve` migrated, seeded and checked the token before starting the workers.
    runtime, slack_app = open_serving_runtime(load_settings(), migrate=False, seed=False)
    question_log = runtime.service.question_log
    if question_log is not None:
        question_log.start()
    state.question_log = question_log
    state.dispose = runtime.engine.dispose
    return build_web(runtime, slack_app)


def _worker_exit(_arbiter: Any, _worker: Any) -> None:
    # In the worker, after its last request: write the queued questions, close connections.
    if WorkerState.question_log is not None:
        WorkerState.question_log.stop()
    if WorkerState.dispose is not None:
        WorkerState.dispose()


def _child_exit(_arbiter: Any, worker: Any) -> None:
    # In the arbiter: a dead worker's live-gauge files must not count any more.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class WorkerServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from code (no config file, no command line of its own)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        return build_worker_app()


def gunicorn_options(fd: int, workers: int, threads: int, grace: float) -> dict[str, Any]:
    return {
        "bind": [f"fd://{fd}"],
        "workers": workers,
        "threads": threads,
        "worker_class": f"{worker_module.__name__}.PolicybotWorker",
        "worker_connections": WORKER_CONNECTIONS,
        "keepalive": IDLE_SECONDS,
        "timeout": WORKER_SILENCE_SECONDS,
        # In-flight requests get this long after SIGTERM (the caller keeps a margin).
        "graceful_timeout": max(1, int(grace)),
        "limit_request_line": 8190,
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
        "logger_class": f"{worker_module.__name__}.GunicornLogs",
        "worker_exit": _worker_exit,
        "child_exit": _child_exit,
        "control_socket_disable": True,
        "proc_name": "policybot",
        "preload_app": False,  # each worker builds its runtime after the fork
    }


def raise_open_file_limit(wanted: int) -> None:
    """Lift the soft limit on open files towards `wanted` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main(argv: Iterable[str] | None = None) -> None:
    from bot.compose import configure_process
    from bot.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.entrypoints.worker", description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="the listening socket's fd")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--grace", type=float, required=True, help="seconds for in-flight work")
    options = parser.parse_args(None if argv is None else list(argv))
    settings = load_settings()
    configure_process(settings)
    raise_open_file_limit(WORKER_CONNECTIONS + 256)  # per process; workers inherit it
    WorkerServer(
        gunicorn_options(options.fd, options.workers, options.threads, options.grace)
    ).run()


if __name__ == "__main__":
    # Run as bot.entrypoints.worker (not __main__), so gunicorn's hooks are one module's.
    from bot.entrypoints.worker import main as worker_main

    worker_main()

"""CPU per signed request, in-process: a gunicorn worker's WSGI app called directly.

    .venv/bin/python bench/request_cost.py [--requests 1000] [--rounds 5] [--postgres]
                                           [--profile policybot|bare] [--only policybot]

Builds, in this one process and pointed at a StandinSlack, the WSGI app one `policybot serve`
worker serves (`open_serving_runtime` + `build_web`, questions logged in batches, a
temporary SQLite database seeded from policies/, or PostgreSQL with `--postgres`) and the
bare Bolt app of bench/http_endpoint.py (Bolt's own WSGI adapter, ack only). Then, for
`--rounds` rounds, alternating, each app answers `--requests` unique signed slash-command
questions, one after another, as gunicorn would call it (an environ with the body in
memory). The figure is this process's CPU time (every thread: Bolt's listener pool, the
question-log writer) per request; the smallest round is the least disturbed by neighbours
on a shared machine, so it is reported beside the median.

This isolates the application's cost from the HTTP server's (which both apps share) and
needs no load generator, so it is steadier than req/s on a busy machine. `--profile` runs
one more round under yappi (CPU time in every thread) and prints where the time went.

A script, not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import (
    QUESTIONS,
    REPO,
    drop_postgres_database,
    median,
    postgres_database,
    progress,
)

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
COMMAND = "/aipolicy"
PG_DATABASE = "policybot_bench_cost"

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_for(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The environ gunicorn builds for a POST to /slack/events."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def make_requests(response_url: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    from tests.standin import payloads, signing

    made = []
    for n in range(count):
        body = signing.slash_command_body(
            payloads.slash_command(
                COMMAND, QUESTIONS[n % len(QUESTIONS)], response_url=response_url
            )
        )
        made.append(
            (body, signing.signed_headers(body, SECRET, content_type=signing.FORM_CONTENT_TYPE))
        )
    return made


def drive(app: WSGI, requests: list[tuple[bytes, dict[str, str]]], expect: bytes | None) -> float:
    """Call `app` once per request; CPU seconds per request (the whole process)."""
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses.append(status)

    environs = [environ_for(body, headers) for body, headers in requests]
    began = time.process_time()
    for environ in environs:
        body = b"".join(app(environ, start_response))
        if expect is not None and expect not in body:
            raise RuntimeError(f"no answer in the reply: {body[:300]!r}")
    spent = time.process_time() - began
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed, e.g. {bad[0]}")
    return spent / len(environs)


def profile(app: tuple[WSGI, bytes | None], requests: list[Any], sort: str) -> None:
    """One more round under yappi (CPU time, every thread; `pip install yappi` to use it)."""
    import yappi  # type: ignore[import-not-found]  # a measuring tool, not a dependency

    yappi.set_clock_type("cpu")
    yappi.start()
    drive(app[0], requests, app[1])
    yappi.stop()
    stats = yappi.get_func_stats()
    stats.sort(sort if sort in ("ttot", "tsub", "ncall") else "ttot")
    out = io.StringIO()
    stats.print_all(
        out=out,
        columns={0: ("name", 90), 1: ("ncall", 8), 2: ("tsub", 8), 3: ("ttot", 8), 4: ("tavg", 8)},
    )
    print(out.getvalue()[:40000])
    yappi.clear_stats()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="policybot on PostgreSQL")
    parser.add_argument("--profile", choices=("policybot", "bare"))
    parser.add_argument("--only", choices=("policybot", "bare"))
    parser.add_argument("--sort", default="ttot", help="ttot (inclusive), tsub (own) or ncall")
    args = parser.parse_args()

    from tests.standin import StandinSlack

    with StandinSlack() as slack, tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        if args.postgres:
            found = postgres_database(PG_DATABASE)
            if found is None:
                raise SystemExit("no PostgreSQL at 127.0.0.1:5432")
            database_url = found
        os.environ.update(
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            POLICYBOT_POLICIES=str(REPO / "policies"),
            POLICYBOT_COMMAND=COMMAND,
            # One user asks every question: the per-person limit is not what is measured.
            POLICYBOT_QUESTIONS_PER_MINUTE="0",
            LOG_LEVEL="WARNING",
            # As under `policybot serve`: metrics counted into shared files (set before
            # bot.metrics is imported).
            PROMETHEUS_MULTIPROC_DIR=str(Path(folder) / "metrics"),
        )
        (Path(folder) / "metrics").mkdir()
        try:
            run(args, slack.response_url())
        finally:
            if args.postgres:
                drop_postgres_database(PG_DATABASE)


def run(args: argparse.Namespace, response_url: str) -> None:
    from http_endpoint import bare_wsgi

    from bot.compose import build_web, open_serving_runtime
    from bot.config import load_settings
    from bot.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    runtime, slack_app = open_serving_runtime(settings)
    question_log = runtime.service.question_log
    if question_log is not None:
        question_log.start()
    apps: dict[str, tuple[WSGI, bytes | None]] = {
        "policybot": (build_web(runtime, slack_app), b"blocks"),
        "bare": (bare_wsgi(), None),
    }
    names = [args.only] if args.only else list(apps)
    for name in names:  # warm up: the registry, Bolt's pool, the database connection
        drive(apps[name][0], make_requests(response_url, 50), apps[name][1])
    figures: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            app, expect = apps[name]
            figures[name].append(drive(app, make_requests(response_url, args.requests), expect))
        progress(
            f"round {round_ + 1}: " + ", ".join(f"{n} {figures[n][-1] * 1e3:.3f} ms" for n in names)
        )
    load = os.getloadavg()
    print(
        f"CPU per request, {args.requests} requests x {args.rounds} rounds "
        f"({'PostgreSQL' if args.postgres else 'SQLite'}; load average {load[0]:.1f}):"
    )
    for name in names:
        values = figures[name]
        print(f"  {name:10s} min {min(values) * 1e3:.3f} ms  median {median(values) * 1e3:.3f} ms")
    if args.profile:
        profile(apps[args.profile], make_requests(response_url, args.requests), args.sort)
    if question_log is not None:
        question_log.stop()
    runtime.engine.dispose()


if __name__ == "__main__":
    main()

"""The HTTP endpoint under load: policybot against a bare Bolt app on the same server.

    .venv/bin/python bench/http_endpoint.py [--concurrency 50,100] [--seconds 10] [--rounds 2]
                                            [--workers N] [--threads 8] [--no-single]
                                            [--generator auto|wrk|python] [--no-postgres]

Starts, each as its own process tree on 127.0.0.1, all pointed at one StandinSlack (this
process):
- a bare Bolt app whose slash-command listener only calls `ack()`, deployed the ordinary way:
  stock gunicorn, `--workers N --threads 8 --worker-class gthread` (N: one per core);
- `policybot serve --workers N` (its gunicorn, N workers x 8 threads) on a temporary SQLite
  database seeded from policies/, and the same on PostgreSQL (a bench database created and
  dropped here) when one answers at 127.0.0.1:5432;
- unless `--no-stock`, policybot's very WSGI app (`bot.entrypoints.worker:build_worker_app()`,
  SQLite) on stock gunicorn's gthread worker, same workers and threads: what policybot's
  worker class (bot/adapters/web/workers.py) costs beyond stock gunicorn is the difference;
- unless `--no-single`, the single-process figures as before: the bare app and policybot
  (SQLite) on waitress, one process with 8 threads (`POLICYBOT_SERVER=waitress`).

Then `--rounds` times, per concurrency level, every server in turn (alternating, so a noisy
neighbour on a shared machine hits all of them alike): signed `/aipolicy` requests cycling
through eight different questions, every request with its own signature (a trigger_id of its
own, signed for the run: policybot records every signed request and would drop a replay) for
a fixed time: requests per second and latency percentiles of the HTTP answer (Slack's
3-second ack), and the server's CPU time per request (user + system of its whole process
tree, from /proc/PID/stat before and after). The machine's load average is printed beside
every run: on a shared machine compare the ratios of one round, not absolute figures. The
table shows each server's median round, with the range over rounds; each policybot row is
compared with the bare app on the same server, measured in the same round.

policybot answers a question in the acknowledgement itself (a command at the
response_url after it): every acknowledged request must carry one answer, policybot's own
count of questions answered (/metrics) must match, and nothing may also arrive at a
response_url. A probe sending 5 requests a second with unique response_urls checks that its
replies carry the answer and measures the time until the answer arrives.

The load generator is `wrk` (installed with apt-get when missing and allowed) or, as a
fall-back, a Python generator in its own process with keep-alive connections; its ceiling is
measured on the server's trivial `/healthz` so the reader can see it is not what limits.

A script, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import (
    QUESTIONS,
    REPO,
    bench_env,
    drop_postgres_database,
    free_port,
    median,
    percentile,
    policybot_command,
    postgres_database,
    progress,
    stop,
    wait_for_http,
    which,
)
from _common import run as run_command

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
COMMAND = "/aipolicy"
PG_DATABASE = "policybot_bench_http"
PROBE_INTERVAL = 0.2  # seconds between answer-latency probes
UNIQUE_PER_SECOND = 4000  # distinct signed requests per second of load (above any rate seen)
DRAIN_TIMEOUT = 60.0  # longest wait for queued answers after a load run


# -- the bare app -------------------------------------------------------------------------


def bare_bolt_app() -> Any:
    """A Bolt app that only acknowledges `/aipolicy` (settings from the environment)."""
    from slack_bolt import Ack, App

    from bot.adapters.slack.app import make_client
    from bot.config import load_settings

    settings = load_settings()
    secret = settings.slack_signing_secret
    app = App(
        client=make_client(settings),
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=False,  # as policybot's app
    )

    def acknowledge(ack: Ack) -> None:
        ack()

    app.command(settings.command)(acknowledge)
    return app


def bare_wsgi() -> Any:
    """The bare app as Bolt's own WSGI adapter serves it, for stock gunicorn
    (`http_endpoint:bare_wsgi()`); /healthz only so the benchmark sees it is up."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    bolt = SlackRequestHandler(bare_bolt_app(), path="/slack/events")

    def application(environ: Any, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return bolt(environ, start_response)

    return application


def serve_bare(port: int) -> None:
    """The bare app on policybot's single-process server function (waitress)."""
    from bot.compose import open_runtime
    from bot.config import load_settings
    from bot.entrypoints.serve import serve
    from bot.logs import configure_logging

    settings = load_settings(port=port)
    configure_logging(settings.log_format, settings.log_level)
    runtime = open_runtime(settings, seed=False)  # the server wants one; this app never asks
    serve(runtime, bare_bolt_app(), port=port, host="127.0.0.1")


def bare_gunicorn_command(port: int | str, workers: int, threads: int) -> list[str]:
    """Stock gunicorn serving the bare app, as a Bolt app is ordinarily deployed."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={Path(__file__).resolve().parent}",
        "--log-level=warning",
        "--no-control-socket",
        "http_endpoint:bare_wsgi()",
    ]


def stock_gunicorn_command(port: int | str, workers: int, threads: int) -> list[str]:
    """Stock gunicorn (gthread) serving policybot's own WSGI app, one per worker as
    `policybot serve` builds it; the database must be migrated and seeded first."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        f"--bind=127.0.0.1:{port}",
        "--keep-alive=5",  # as policybot's worker (IDLE_SECONDS)
        "--log-level=warning",
        "--no-control-socket",
        "bot.entrypoints.worker:build_worker_app()",
    ]


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and seed from policies/ what `policybot serve` would, for the stock server."""
    run_command([*policybot_command(), "db", "upgrade"], env)
    run_command([*policybot_command(), "import", str(REPO / "policies"), "--quiet"], env)


# -- servers ------------------------------------------------------------------------------


@dataclass
class Target:
    """One server under test."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    answers: bool  # whether each request must produce a response_url post
    server: str = ""  # the bare app it is compared with runs on the same server
    response_url: str = ""


@contextmanager
def started(
    name: str, command: list[str], env: dict[str, str], port: int, answers: bool
) -> Iterator[Target]:
    """Start a server process and wait for its /healthz; stop it afterwards."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 -- read only if the start fails
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_http(port, timeout=60, process=process)
        except (RuntimeError, TimeoutError):
            log.seek(0)
            raise RuntimeError(f"{name} did not start: {log.read().decode()[-3000:]}") from None
        yield Target(name, port, process, answers, server=name.split(", ", 1)[-1])
    finally:
        stop(process)
        log.close()


def server_env(api_url: str, database_url: str) -> dict[str, str]:
    return bench_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        POLICYBOT_POLICIES=str(REPO / "policies"),
        POLICYBOT_COMMAND=COMMAND,
    )


# -- requests -----------------------------------------------------------------------------


def signed_requests(
    response_url: str, questions: Sequence[str] = QUESTIONS, count: int | None = None
) -> list[tuple[bytes, dict[str, str]]]:
    """`count` signed slash-command bodies (default one per question) and their headers,
    signed now. Each is unique (its own trigger_id): policybot refuses a replayed slash
    command, so a load run cycles through more requests than it can send."""
    from tests.standin import payloads, signing

    made = []
    for n in range(count or len(questions)):
        question = questions[n % len(questions)]
        body = signing.slash_command_body(
            payloads.slash_command(COMMAND, question, response_url=response_url)
        )
        headers = signing.signed_headers(body, SECRET, content_type=signing.FORM_CONTENT_TYPE)
        made.append((body, headers))
    return made


@dataclass
class LoadResult:
    """What one load run measured (latencies in milliseconds)."""

    target: str
    concurrency: int
    seconds: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    answers_expected: int = 0
    answers_delivered: int = 0
    drain_s: float = 0.0  # after the load stopped, until the last answer arrived
    answer_p50: float = float("nan")  # probe: request sent -> answer at the response_url
    answer_p99: float = float("nan")
    probes: int = 0  # probe answers that arrived
    probe_ack_p50: float = float("nan")
    server_cpu_ms: float = 0.0  # the server process's CPU time per request
    load: float = 0.0  # the machine's 1-minute load average when the run began
    generator: str = ""
    round: int = 0
    server: str = ""
    notes: list[str] = field(default_factory=list)


_WRK_SCRIPT = """
local bodies = {%(bodies)s}
local headers = {%(headers)s}
local reqs = {}
local i = 0
init = function(args)
  for k = 1, #bodies do
    reqs[k] = wrk.format("POST", "%(path)s", headers[k], bodies[k])
  end
end
request = function()
  i = i %% #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"errors":%%d,' ..
    '"p50":%%d,"p95":%%d,"p99":%%d,"max":%%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def ensure_wrk(allow_install: bool) -> str | None:
    """The path of wrk, installing the Debian package when missing and allowed (root only)."""
    found = which("wrk")
    if found or not allow_install or os.geteuid() != 0 or which("apt-get") is None:
        return found
    progress("wrk is missing: apt-get install -y wrk")
    for command in (
        ["apt-get", "install", "-y", "wrk"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "wrk"],
    ):
        subprocess.run(command, capture_output=True, timeout=300, check=False)
        if which("wrk"):
            break
    return which("wrk")


def run_wrk(
    wrk: str,
    port: int,
    path: str,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    seconds: float,
) -> dict[str, Any]:
    """One wrk run (closed loop, keep-alive, one thread); its summary in microseconds."""
    method_requests = requests or [(b"", {})]
    bodies = ", ".join(_lua_string(body.decode()) for body, _ in method_requests)
    headers = ", ".join(
        "{" + ", ".join(f'["{k}"]={_lua_string(v)}' for k, v in h.items()) + "}"
        for _, h in method_requests
    )
    script_text = _WRK_SCRIPT % {"bodies": bodies, "headers": headers, "path": path}
    if not requests:  # a plain GET
        script_text = script_text.replace('wrk.format("POST"', 'wrk.format("GET"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        done = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{concurrency}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        os.unlink(script.name)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return dict(json.loads(line[8:]))
    raise RuntimeError(f"wrk gave no summary: {done.stdout[-1000:]} {done.stderr[-1000:]}")


# -- the Python fall-back generator -------------------------------------------------------


def python_load(
    port: int, path: str, spec_file: Path, concurrency: int, seconds: float
) -> dict[str, Any]:
    """Closed-loop load from `concurrency` threads with keep-alive connections (child process)."""
    spec = json.loads(spec_file.read_text())
    requests = [(bytes.fromhex(body), headers) for body, headers in spec] or [(b"", {})]
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = index
        while time.perf_counter() < deadline:
            body, headers = requests[i % len(requests)]
            i += 1
            begun = time.perf_counter()
            try:
                if body:
                    connection.request("POST", path, body, headers)
                else:
                    connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[index] += 1
            except OSError:
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[index].append((time.perf_counter() - begun) * 1e6)
        connection.close()

    begun = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    duration = time.perf_counter() - begun
    every = [v for per in latencies for v in per]
    return {
        "requests": len(every) + sum(errors),
        "duration_us": int(duration * 1e6),
        "errors": sum(errors),
        "p50": percentile(every, 0.50),
        "p95": percentile(every, 0.95),
        "p99": percentile(every, 0.99),
        "max": max(every, default=float("nan")),
    }


def run_python(
    port: int,
    path: str,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    seconds: float,
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump([(body.hex(), headers) for body, headers in requests], spec)
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--python-load",
                spec.name,
                "--port",
                str(port),
                "--path",
                path,
                "--concurrency",
                str(concurrency),
                "--seconds",
                str(seconds),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 90,
            check=False,
        )
    finally:
        os.unlink(spec.name)
    if done.returncode != 0:
        raise RuntimeError(f"the Python generator failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


# -- the answer-latency probe -------------------------------------------------------------


class Probe:
    """Sends one signed request every PROBE_INTERVAL with a fresh response_url, in a thread."""

    def __init__(self, standin: Any, port: int) -> None:
        self.standin = standin
        self.port = port
        self.sent: dict[str, dt.datetime] = {}  # response_url -> when the request left
        self.acks: list[float] = []  # milliseconds to each probe's HTTP answer
        self.answered_in_ack: dict[str, float] = {}  # response_url -> ms, answer in the body
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self._stop.wait(PROBE_INTERVAL):
            url = self.standin.response_url()
            body, headers = signed_requests(url, [QUESTIONS[n % len(QUESTIONS)]])[0]
            n += 1
            self.sent[url] = dt.datetime.now(dt.UTC)
            begun = time.perf_counter()
            try:
                connection.request("POST", "/slack/events", body, headers)
                response = connection.getresponse()
                reply = response.read()
                elapsed = (time.perf_counter() - begun) * 1000
                self.acks.append(elapsed)
                if response.status != 200:
                    self.failed += 1
                elif b'"blocks"' in reply:  # the answer itself came with the acknowledgement
                    self.answered_in_ack[url] = elapsed
            except OSError:
                self.failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.close()

    def answer_latencies(self, arrived: dict[str, dt.datetime]) -> list[float]:
        """Milliseconds from each probe request to its answer: in the HTTP reply itself (how
        policybot answers questions) or at the response_url."""
        return [
            self.answered_in_ack[url]
            if url in self.answered_in_ack
            else (arrived[url] - sent).total_seconds() * 1000
            for url, sent in self.sent.items()
            if url in self.answered_in_ack or url in arrived
        ]


# -- one measurement ----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process `pid` and every live descendant (gunicorn's
    workers, policybot's gunicorn), from Linux /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child, seconds in times.items():
        ancestor = child
        while ancestor not in (0, 1, pid) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == pid:
            total += seconds
    return total


def questions_answered(port: int) -> int:
    """policybot's own count of Slack questions answered, from its /metrics."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("policybot_questions_total{") and 'channel="slack"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def measure(
    standin: Any,
    target: Target,
    concurrency: int,
    seconds: float,
    generator: str,
    wrk: str | None,
    path: str = "/slack/events",
) -> LoadResult:
    """Load `target` for `seconds`; for policybot, wait for and check every answer."""
    requests = (
        signed_requests(target.response_url, count=int(UNIQUE_PER_SECOND * max(seconds, 1.0)))
        if path == "/slack/events"
        else []
    )
    before = len(standin.responses)
    counted_before = questions_answered(target.port) if target.answers else 0
    load = os.getloadavg()[0]
    cpu_before = cpu_seconds(target.process.pid)
    load_started = dt.datetime.now(dt.UTC)
    probe = Probe(standin, target.port) if target.answers and path == "/slack/events" else None
    with probe if probe is not None else ExitStack():
        if generator == "wrk" and wrk is not None:
            summary = run_wrk(wrk, target.port, path, requests, concurrency, seconds)
        else:
            summary = run_python(target.port, path, requests, concurrency, seconds)
    load_ended = time.perf_counter()
    cpu_used = cpu_seconds(target.process.pid) - cpu_before
    duration = summary["duration_us"] / 1e6
    ok = summary["requests"] - summary["errors"]
    result = LoadResult(
        server=target.server,
        target=target.name,
        concurrency=concurrency,
        seconds=duration,
        requests=summary["requests"],
        errors=summary["errors"],
        rps=ok / duration if duration else 0.0,
        p50=summary["p50"] / 1000,
        p95=summary["p95"] / 1000,
        p99=summary["p99"] / 1000,
        max=summary["max"] / 1000,
        generator=generator,
        server_cpu_ms=1000 * cpu_used / max(1, summary["requests"]),
        load=load,
    )
    if probe is None:
        return result
    # Every acknowledged request owes one answer: in its HTTP reply (policybot answers a
    # question in the acknowledgement) or at its response_url. policybot's own count of
    # questions answered must match, and no answer may come twice.
    acknowledged = ok + len(probe.sent) - probe.failed
    in_ack = len(probe.answered_in_ack) == len(probe.sent) - probe.failed and probe.sent
    deadline = load_ended + DRAIN_TIMEOUT
    while (
        not in_ack
        and len(standin.responses) - before < acknowledged
        and time.perf_counter() < deadline
    ):
        time.sleep(0.02)
    time.sleep(0.3)  # the in-flight ones, and anything doubled, arrive now
    posts = standin.responses[before:]
    counted = questions_answered(target.port) - counted_before
    result.answers_expected = counted
    result.answers_delivered = counted if in_ack else len(posts)
    if in_ack and posts:
        result.notes.append(f"{len(posts)} answers came twice (also at a response_url)")
    if not acknowledged <= counted <= acknowledged + concurrency:
        result.notes.append(
            f"policybot counted {counted} questions for {acknowledged} acknowledged requests"
        )
    per_probe: dict[str, int] = {}
    for post in posts:
        if post.url in probe.sent:
            per_probe[post.url] = per_probe.get(post.url, 0) + 1
    for url in probe.answered_in_ack:
        per_probe[url] = per_probe.get(url, 0) + 1
    odd = sum(1 for url in probe.sent if per_probe.get(url, 0) != 1)
    if odd:
        result.notes.append(f"{odd} of {len(probe.sent)} probes did not get exactly one answer")
    if posts:
        last = max(post.time for post in posts)
        result.drain_s = max(0.0, (last - load_started).total_seconds() - duration)
    arrived = {post.url: post.time for post in posts}
    latencies = probe.answer_latencies(arrived)
    result.probes = len(latencies)
    result.probe_ack_p50 = median(probe.acks)
    result.answer_p50 = median(latencies)
    result.answer_p99 = percentile(latencies, 0.99)
    expected_probes = int(duration / PROBE_INTERVAL)
    if result.probes < expected_probes // 2:
        result.notes.append(
            f"only {result.probes} of ~{expected_probes} probes were answered (the slowest "
            f"after {max(probe.acks, default=0) / 1000:.1f} s): the server fell behind the load"
        )
    if result.answers_delivered != counted:
        result.notes.append(f"{result.answers_delivered - counted:+d} answers vs questions counted")
    return result


# -- the whole run -------------------------------------------------------------------------


@dataclass
class EndpointReport:
    generator: str
    ceiling: list[LoadResult]
    results: list[LoadResult]
    postgres: str  # "ran" or why not
    workers: int = 1
    threads: int = 8
    rounds: int = 1
    load_before: float = 0.0
    load_after: float = 0.0


def run(
    concurrency: Sequence[int],
    seconds: float,
    generator: str,
    postgres: bool,
    install: bool,
    *,
    rounds: int,
    workers: int,
    threads: int,
    single: bool,
    stock: bool = True,
) -> EndpointReport:
    from tests.standin import StandinSlack

    wrk = ensure_wrk(install) if generator in ("auto", "wrk") else None
    if generator == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed and could not be installed; use --generator python")
    chosen = "wrk" if wrk is not None else "python"
    progress(f"load generator: {chosen}")
    report = EndpointReport(chosen, [], [], "not asked for", workers, threads, rounds)
    report.load_before = os.getloadavg()[0]
    gunicorn = f"gunicorn {workers}x{threads}"
    waitress = f"waitress 1x{threads}"
    with StandinSlack() as standin, tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        targets: list[Target] = []

        def start(name: str, command: list[str], database: str, answers: bool, **env: str) -> int:
            port = free_port()
            progress(f"starting {name} on :{port}")
            environment = {**server_env(standin.api_url, database), **env}
            for index, part in enumerate(command):
                command[index] = part.replace("{port}", str(port))
            targets.append(stack.enter_context(started(name, command, environment, port, answers)))
            return port

        serve = [*policybot_command(), "serve", "--port", "{port}", "--host", "127.0.0.1"]
        start(
            f"bare Bolt (ack only), {gunicorn}",
            bare_gunicorn_command("{port}", workers, threads),
            f"sqlite:///{tmp}/bare.db",
            answers=False,
        )
        databases = [("SQLite", f"sqlite:///{tmp}/policybot.db")]
        if postgres:
            url = postgres_database(PG_DATABASE)
            if url is None:
                report.postgres = "no PostgreSQL answers at 127.0.0.1:5432: skipped"
            else:
                stack.callback(drop_postgres_database, PG_DATABASE)
                databases.append(("PostgreSQL", url))
                report.postgres = "ran"
        progress(f"PostgreSQL: {report.postgres}")
        for label, url in databases:
            start(
                f"policybot ({label}), {gunicorn}",
                [*serve, "--workers", str(workers)],
                url,
                answers=True,
                POLICYBOT_THREADS=str(threads),
            )
        if stock:
            database = f"sqlite:///{tmp}/stock.db"
            environment = server_env(standin.api_url, database)
            progress("migrating and seeding the stock server's database")
            prepare_database(environment)
            metrics_dir = Path(tmp) / "stock-metrics"  # /metrics adds up every worker's
            metrics_dir.mkdir()
            start(
                f"policybot app (SQLite) on stock gthread, {gunicorn}",
                stock_gunicorn_command("{port}", workers, threads),
                database,
                answers=True,
                PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            )
        if single:
            start(
                f"bare Bolt (ack only), {waitress}",
                [sys.executable, str(Path(__file__).resolve()), "--serve-bare", "--port", "{port}"],
                f"sqlite:///{tmp}/bare-single.db",
                answers=False,
            )
            start(
                f"policybot (SQLite), {waitress}",
                serve,
                f"sqlite:///{tmp}/policybot-single.db",
                answers=True,
                POLICYBOT_SERVER="waitress",
            )
        for target in targets:
            target.response_url = standin.response_url()
            measure(standin, target, 10, 1.0, chosen, wrk)  # warm-up, not reported
        top = max(concurrency)
        progress(f"ceiling: GET /healthz at {top} concurrent")
        report.ceiling.append(measure(standin, targets[1], top, seconds, chosen, wrk, "/healthz"))
        for round_number in range(1, rounds + 1):
            for level in concurrency:
                for target in targets:
                    progress(f"round {round_number}: {target.name}: {level} concurrent")
                    target.response_url = standin.response_url()  # fresh signatures
                    result = measure(standin, target, level, seconds, chosen, wrk)
                    result.round = round_number
                    report.results.append(result)
    report.load_after = os.getloadavg()[0]
    return report


def median_run(runs: Sequence[LoadResult]) -> LoadResult:
    """The run with the median req/s (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda r: r.rps)
    return ordered[(len(ordered) - 1) // 2]


def share_of_bare(report: EndpointReport, run: LoadResult) -> list[float]:
    """Per round, the run's req/s as a share of the bare app on the same server, same round."""
    bare = {
        (r.round, r.concurrency, r.server): r.rps
        for r in report.results
        if r.target.startswith("bare")
    }
    shares = []
    for r in report.results:
        if r.target == run.target and r.concurrency == run.concurrency:
            reference = bare.get((r.round, r.concurrency, r.server))
            if reference:
                shares.append(r.rps / reference)
    return sorted(shares)


def table(report: EndpointReport) -> str:
    """The results as a Markdown table: per server and level the median round, the range of
    req/s and p99 over rounds, and each policybot row's share of the bare app's req/s on the
    same server in the same round."""
    lines = [
        "| server | concurrent | req/s (median; range) | vs bare, same server (median; range) "
        "| p50 | p99 (median; range) | max | errors | answers delivered / questions counted "
        "| answer p99 | server CPU/req (median; range) | load |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    groups: dict[tuple[str, int], list[LoadResult]] = {}
    for r in report.results:
        groups.setdefault((r.target, r.concurrency), []).append(r)
    for (target, level), runs in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
        r = median_run(runs)
        rps = sorted(x.rps for x in runs)
        p99 = sorted(x.p99 for x in runs)
        shares = share_of_bare(report, r)
        share = (
            f"{100 * median(shares):.0f}% ({100 * shares[0]:.0f}-{100 * shares[-1]:.0f}%)"
            if shares and not target.startswith("bare")
            else "—"
        )
        delivered = sum(x.answers_delivered for x in runs)
        counted = sum(x.answers_expected for x in runs)
        answered = f"{delivered}/{counted}" if counted else "(acks only)"
        answer_p99 = f"{r.answer_p99:.0f} ms" if counted else "—"
        cpu = sorted(x.server_cpu_ms for x in runs)
        loads = sorted(x.load for x in runs)
        lines.append(
            f"| {target} | {level} | {r.rps:,.0f} ({rps[0]:,.0f}-{rps[-1]:,.0f}) | {share} "
            f"| {r.p50:.1f} ms | {r.p99:.1f} ms ({p99[0]:.0f}-{p99[-1]:.0f}) | {r.max:.0f} ms "
            f"| {sum(x.errors for x in runs)} | {answered} | {answer_p99} "
            f"| {median(cpu):.2f} ms ({cpu[0]:.2f}-{cpu[-1]:.2f}) "
            f"| {loads[0]:.1f}-{loads[-1]:.1f} |"
        )
    for c in report.ceiling:
        lines.append(
            f"| ceiling: GET /healthz ({c.target}) | {c.concurrency} | {c.rps:,.0f} | — "
            f"| {c.p50:.1f} ms | {c.p99:.1f} ms | {c.max:.0f} ms | {c.errors} | — | — "
            f"| {c.server_cpu_ms:.2f} ms | {c.load:.1f} |"
        )
    return "\n".join(lines)


def cpu_table(report: EndpointReport) -> str:
    """Per round and level, each server's CPU per request beside the bare app's on the same
    server in the same round, and policybot's worker beside stock gthread running the same app."""
    lines = [
        "| round | concurrent | server | load | server CPU/req | x bare Bolt "
        "| vs stock gthread, same app |",
        "|--:|--:|---|--:|--:|--:|--:|",
    ]
    bare = {
        (r.round, r.concurrency, r.server): r.server_cpu_ms
        for r in report.results
        if r.target.startswith("bare")
    }
    stock = {
        (r.round, r.concurrency): r.server_cpu_ms
        for r in report.results
        if "stock gthread" in r.target
    }
    for r in sorted(report.results, key=lambda r: (r.concurrency, r.round)):
        reference = bare.get((r.round, r.concurrency, r.server))
        times = f"{r.server_cpu_ms / reference:.2f}" if reference and r.answers_expected else "—"
        delta = "—"
        same_app = stock.get((r.round, r.concurrency))
        if r.target.startswith("policybot (SQLite), gunicorn") and same_app is not None:
            delta = f"{r.server_cpu_ms - same_app:+.2f} ms"
        lines.append(
            f"| {r.round} | {r.concurrency} | {r.target} | {r.load:.1f} "
            f"| {r.server_cpu_ms:.2f} ms | {times} | {delta} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="50,100", help="comma-separated levels")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs per server and level")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--no-single", action="store_true", help="no single-process runs")
    parser.add_argument(
        "--no-stock", action="store_true", help="no run of policybot's app on stock gthread"
    )
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--python-load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", default="/slack/events", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.port)
        return 0
    if args.python_load:
        level = int(args.concurrency)
        print(json.dumps(python_load(args.port, args.path, args.python_load, level, args.seconds)))
        return 0
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    from bot.entrypoints.serve import default_workers

    report = run(
        levels,
        args.seconds,
        args.generator,
        not args.no_postgres,
        not args.no_install,
        rounds=args.rounds,
        workers=args.workers or default_workers(),
        threads=args.threads,
        single=not args.no_single,
        stock=not args.no_stock,
    )
    print(
        f"load generator: {report.generator}; PostgreSQL: {report.postgres}; "
        f"{report.workers} workers x {report.threads} threads; "
        f"{report.rounds} rounds, alternating; "
        f"load average {report.load_before:.1f} before, {report.load_after:.1f} after "
        f"({os.cpu_count()} cores)"
    )
    print(table(report))
    print()
    print(cpu_table(report))
    for r in report.results:
        for note in r.notes:
            print(f"  {r.target} at {r.concurrency}: {note}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

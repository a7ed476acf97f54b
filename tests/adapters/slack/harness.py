"""Run the real `policybot serve` as a subprocess against the stand-in Slack, and talk to it.

`BotProcess` starts and stops the server; `SignedPoster` sends requests signed as Slack signs
them; `wait_until` polls with a deadline instead of sleeping blindly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.adapters.db import engines as db
from bot.adapters.db.store import Store
from bot.domain.policy import ToolPolicy
from tests.standin import ResponsePost, StandinSlack
from tests.standin.signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    event_body,
    interactivity_body,
    signed_headers,
    slash_command_body,
)
from tests.standin.waiting import LIVENESS_SECONDS
from tests.wiring import runtime_on, seed

REPO = Path(__file__).resolve().parents[3]
SECRET = "standin-signing-secret"
COMMAND = "/aipolicy"
# How long a start may take before the test gives up: a liveness bound, not a speed check (a
# start is a few seconds; on a machine shared with other test runs it can take far longer).
START_TIMEOUT = 90.0

T = TypeVar("T")


ANNOUNCE_CHANNEL = "C0ANNOUNCE"
ANNOUNCE_ADMIN = "U0ADMIN"


def announcing_env(standin: StandinSlack, url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """Settings for a `policybot serve` that announces in ANNOUNCE_CHANNEL, with no policy files."""
    return {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.api_url,
        "POLICYBOT_ADMINS": ANNOUNCE_ADMIN,
        "POLICYBOT_COMMAND": COMMAND,
        "POLICYBOT_POLICIES": str(workdir / "no-policies"),
        "POLICYBOT_ANNOUNCE_CHANNEL": ANNOUNCE_CHANNEL,
        "LOG_LEVEL": "INFO",
        **extra,
    }


def wait_until(
    check: Callable[[], T], timeout: float = LIVENESS_SECONDS, what: str = "condition"
) -> T:
    """Poll `check` until it returns something truthy; TimeoutError naming `what` otherwise.

    `timeout` is a liveness bound: never less than LIVENESS_SECONDS, since a busy machine can
    slow what takes milliseconds to seconds, and only a failing test waits it out."""
    timeout = max(timeout, LIVENESS_SECONDS)
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def seeded_database(path: Path | str, policies: list[ToolPolicy]) -> str:
    """A migrated database holding `policies` (SQLite at a path, or a URL); returns its URL."""
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    seed(runtime_on(Store(engine)), policies)
    engine.dispose()
    return url


@dataclass
class HttpResult:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    url: str,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = LIVENESS_SECONDS,
) -> HttpResult:
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, response.read())
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, error.read())


# What `policybot serve` logs once it listens, in either log format.
SERVING = re.compile(r"policybot serving on :(\d+)")


class BotProcess:
    """`policybot serve` in a subprocess, with its log in a file for failures.

    It is started with `--port 0`: the OS picks a free port when serve binds it, and `port` is
    read back from serve's log. A port picked beforehand and bound later could be taken
    meanwhile by another test's server, which would then answer this test's requests.
    """

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        # 0 until started (then the port serve bound); a test may set a port of its own.
        self.port = 0
        self.workdir = workdir
        self.log_path = workdir / "serve.log"
        self.env = {
            # Nothing from the developer's shell or .env leaks in: only what the test says.
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "POLICYBOT_", "DATABASE_URL", "PORT", "LOG_"))
        }
        # One worker unless the test asks for more: fewer processes to start per test.
        self.env["POLICYBOT_WORKERS"] = "1"
        # Tests poll with questions as one user (wait_until(... ask(...))): the per-person
        # question limit is off unless a test sets it (test_security_round3.py does).
        self.env["POLICYBOT_QUESTIONS_PER_MINUTE"] = "0"
        self.env.update(env)
        self.env["PYTHONPATH"] = str(REPO)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        script = Path(sys.executable).parent / "policybot"
        entry = [str(script)] if script.exists() else [sys.executable, "-m", "bot.entrypoints.cli"]
        return [*entry, "serve", "--port", str(self.port), "--host", "127.0.0.1"]

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            # cwd is a temp folder so that the repository's .env is not read.
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            port = wait_until(self._bound_port, START_TIMEOUT, "policybot serve to listen")
            assert port is not None
            self.port = port
            left = max(1.0, deadline - time.monotonic())
            wait_until(self._healthy, left, "policybot serve to answer /healthz")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"policybot serve did not start:\n{self.log()}") from None

    def _bound_port(self) -> int | None:
        self._check_running()
        found = SERVING.search(self.log())
        return int(found.group(1)) if found else None

    def _check_running(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"policybot serve exited early:\n{self.log()}")

    def _healthy(self) -> bool:
        self._check_running()
        try:
            return http(f"{self.url}/healthz").status == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not stopped within the grace period (30 s, as an
        orchestrator gives it); returns the exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        return process.returncode


class SignedPoster:
    """Posts to /slack/events exactly as Slack does: the right body, content type, signature."""

    def __init__(self, bot: BotProcess, standin: StandinSlack, secret: str = SECRET) -> None:
        self.url = f"{bot.url}/slack/events"
        self.standin = standin
        self.secret = secret

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signed: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        if signed:
            headers = signed_headers(
                body, secret or self.secret, content_type=content_type, timestamp=timestamp
            )
        else:
            headers = {"Content-Type": content_type}
        headers.update(extra_headers or {})
        return http(self.url, data=body, headers=headers)

    def command(self, form: Mapping[str, str], **options: Any) -> HttpResult:
        return self.post(slash_command_body(form), FORM_CONTENT_TYPE, **options)

    def event(self, payload: Mapping[str, Any], *, retry_num: int | None = None) -> HttpResult:
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(event_body(payload), JSON_CONTENT_TYPE, extra_headers=extra)

    def interaction(self, payload: Mapping[str, Any]) -> HttpResult:
        return self.post(interactivity_body(payload), FORM_CONTENT_TYPE)


def response_to(standin: StandinSlack, url: str, timeout: float = LIVENESS_SECONDS) -> ResponsePost:
    """The post the bot made to the response_url `url`."""

    def find() -> ResponsePost | None:
        return next((post for post in list(standin.responses) if post.url == url), None)

    found = wait_until(find, timeout, f"a post to {url}")
    assert found is not None
    return found


def all_text(message: Mapping[str, Any] | Any) -> str:
    """Everything a message or view shows, blocks and fallback text, as one JSON string."""
    return json.dumps(message, ensure_ascii=False)

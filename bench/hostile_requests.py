"""Hostile requests against a real `policybot serve`: how long each takes, and /healthz meanwhile.

    .venv/bin/python bench/hostile_requests.py [--repo PATH]

Starts `policybot serve` (HTTP mode, SQLite, the stand-in Slack) from the checkout at --repo
(default: this one, so an older checkout can be measured the same way), then posts bodies of
one long word (48 KB, 64 KB, 1 MB, 10 MB) with a wrong signature, each with curl and a 40 s
limit, and sends /healthz 0.3 s after each. Also times the log masking (`bot.logs.mask`) on
inputs that were quadratic for it. Prints one line per measurement. A script, not a test.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SIZES = (("48 KB", 48_000), ("64 KB", 64_000), ("1 MB", 1_000_000), ("10 MB", 10_000_000))
CURL_LIMIT_SECONDS = 40


def curl(url: str, body: Path | None = None) -> tuple[str, float]:
    """(HTTP status, seconds) of one request; status 000 when nothing came back in time."""
    command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"]
    command += ["--max-time", str(CURL_LIMIT_SECONDS)]
    if body is not None:
        command += [
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "-H",
            "Expect:",
            "-H",
            f"X-Slack-Request-Timestamp: {int(time.time())}",
            "-H",
            "X-Slack-Signature: v0=" + "0" * 64,
            "--data-binary",
            f"@{body}",
        ]
    out = subprocess.run([*command, url], capture_output=True, text=True).stdout.split()
    return (out[0], float(out[1])) if len(out) == 2 else ("000", float("nan"))


def _post_into(result: list[tuple[str, float]], url: str, body: Path) -> None:
    result.append(curl(url, body))


def time_masking() -> None:
    mask = importlib.import_module("bot.logs").mask
    shapes = {"one word": "a", "schemes": "a://b:", "tokens": "xoxb-"}
    for name, unit in shapes.items():
        for size in (16_000, 64_000, 1_000_000):
            text = unit * (size // len(unit))
            started = time.perf_counter()
            mask(text)
            seconds = time.perf_counter() - started
            print(f"mask() of {size:>9,} characters ({name}): {seconds * 1000:9.1f} ms", flush=True)
            if seconds > 5:
                break  # quadratic: the next size would take minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    repo = parser.parse_args().repo.resolve()
    sys.path.insert(0, str(repo))
    conftest = importlib.import_module("tests.adapters.slack.conftest")
    harness = importlib.import_module("tests.adapters.slack.harness")
    standin_module = importlib.import_module("tests.standin")
    print(f"policybot at {repo}")
    time_masking()
    with standin_module.StandinSlack() as standin, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            "DATABASE_URL": harness.seeded_database(work / "p.db", conftest.slack_registry()),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": standin.api_url,
            "SLACK_SIGNING_SECRET": harness.SECRET,
            "POLICYBOT_POLICIES": str(work / "none"),
        }
        bot = harness.BotProcess(env, work)
        bot.start()
        try:
            for label, size in SIZES:
                body = work / "body"
                body.write_bytes(b"a" * size)
                result: list[tuple[str, float]] = []
                post = threading.Thread(
                    target=_post_into, args=(result, f"{bot.url}/slack/events", body)
                )
                post.start()
                time.sleep(0.3)
                health = curl(f"{bot.url}/healthz")
                post.join()
                [(status, seconds)] = result
                print(
                    f"wrongly signed POST of {label:>6}: HTTP {status} in {seconds:.3f} s; "
                    f"/healthz 0.3 s later: HTTP {health[0]} in {health[1]:.3f} s",
                    flush=True,
                )
                if status == "000":
                    print(f"  no answer within {CURL_LIMIT_SECONDS} s: stopping here")
                    break
        finally:
            print(f"server stopped, exit code {bot.stop()} (-9: SIGTERM was not enough)")


if __name__ == "__main__":
    main()

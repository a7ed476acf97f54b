"""Startup time: `policybot serve` to a ready /healthz, and `policybot ask` end to end.

    .venv/bin/python bench/startup.py [--runs 5] [--cold-runs 3]

- serve, cold: a database file that does not exist yet, so the start migrates it and loads
  policies/ (median of `--cold-runs`, each on a fresh file);
- serve, warm: the database already migrated and seeded (median of `--runs`);
- `policybot ask "can I use cursor?"` wall time on the migrated database and `policybot check
  policies/` (medians of `--runs`; the aim is under 0.3 s each), beside `policybot --help` (the
  CLI's import floor) and a bare `python -c pass`;
- the slowest imports of `ask` (`python -X importtime`), to show where its time goes.

`serve` runs in HTTP mode against a StandinSlack (its start calls auth.test). Plain Python
timing; hyperfine is not needed. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ for the sibling modules

from _common import (
    BIN,
    REPO,
    bench_env,
    free_port,
    median,
    policybot_command,
    progress,
    stop,
    wait_for_http,
)

QUESTION = "can I use cursor?"


@dataclass(frozen=True)
class StartupResult:
    """Medians (and all runs) in seconds."""

    serve_cold_s: float
    serve_cold_runs: list[float]
    serve_warm_s: float
    serve_warm_runs: list[float]
    ask_s: float
    ask_runs: list[float]
    check_s: float
    check_runs: list[float]
    help_s: float
    python_s: float
    slowest_imports: list[tuple[str, float]]  # (package, seconds importing it) for `ask`


def time_serve(env: dict[str, str]) -> float:
    """Seconds from spawning `policybot serve` to the first 200 from /healthz."""
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [*policybot_command(), "serve", "--port", str(port), "--host", "127.0.0.1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_http(port, "/healthz", timeout=60, process=process)
        return time.perf_counter() - began
    except (RuntimeError, TimeoutError) as error:
        stop(process)
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"policybot serve did not start: {error}\n{stderr[-2000:]}") from None
    finally:
        stop(process)


def time_command(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of `command` (which must succeed)."""
    began = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=120, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    return took


def slowest_imports(
    command: list[str], env: dict[str, str], top: int = 8
) -> list[tuple[str, float]]:
    """The packages `command` spends most import time in (`-X importtime` self times, summed
    per top-level package)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        packages[root] = packages.get(root, 0.0) + int(parts[0]) / 1e6
    return sorted(packages.items(), key=lambda item: -item[1])[:top]


def measure(runs: int, cold_runs: int) -> StartupResult:
    from tests.standin import StandinSlack

    with StandinSlack() as standin, tempfile.TemporaryDirectory() as tmp:

        def env_for(database: str) -> dict[str, str]:
            return bench_env(
                DATABASE_URL=f"sqlite:///{tmp}/{database}.db",
                SLACK_BOT_TOKEN="xoxb-bench-token",
                SLACK_SIGNING_SECRET="bench-signing-secret",
                SLACK_API_URL=standin.api_url,
                POLICYBOT_POLICIES=str(REPO / "policies"),
            )

        cold = []
        for n in range(cold_runs):
            progress(f"startup: serve, cold start {n + 1}/{cold_runs} (migrate + seed)")
            cold.append(time_serve(env_for(f"cold{n}")))
        env = env_for("warm")
        time_serve(env)  # migrates and seeds; not counted
        warm = []
        for n in range(runs):
            progress(f"startup: serve, warm start {n + 1}/{runs}")
            warm.append(time_serve(env))
        ask_command = [*policybot_command(), "ask", QUESTION]
        asks = []
        for n in range(runs):
            progress(f"startup: policybot ask {n + 1}/{runs}")
            asks.append(time_command(ask_command, env))
        check_command = [*policybot_command(), "check", str(REPO / "policies")]
        checks = []
        for n in range(runs):
            progress(f"startup: policybot check {n + 1}/{runs}")
            checks.append(time_command(check_command, env))
        help_s = median([time_command([*policybot_command(), "--help"], env) for _ in range(3)])
        python_s = median([time_command([sys.executable, "-c", "pass"], env) for _ in range(3)])
        script = BIN / "policybot"
        imports = slowest_imports(
            [str(script), "ask", QUESTION]
            if script.exists()
            else ["-m", "bot.entrypoints.cli", "ask", QUESTION],
            env,
        )
    return StartupResult(
        serve_cold_s=median(cold),
        serve_cold_runs=cold,
        serve_warm_s=median(warm),
        serve_warm_runs=warm,
        ask_s=median(asks),
        ask_runs=asks,
        check_s=median(checks),
        check_runs=checks,
        help_s=help_s,
        python_s=python_s,
        slowest_imports=imports,
    )


def table(result: StartupResult) -> str:
    """The results as a Markdown table."""

    def runs(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    return "\n".join(
        [
            "| what | median | runs (s) |",
            "|---|--:|---|",
            f"| `policybot serve` to /healthz 200, cold (migrate + load policies/) "
            f"| {result.serve_cold_s:.2f} s | {runs(result.serve_cold_runs)} |",
            f"| `policybot serve` to /healthz 200, warm (database ready) "
            f"| {result.serve_warm_s:.2f} s | {runs(result.serve_warm_runs)} |",
            f'| `policybot ask "{QUESTION}"` | {result.ask_s:.2f} s | {runs(result.ask_runs)} |',
            f"| `policybot check policies/` | {result.check_s:.2f} s | {runs(result.check_runs)} |",
            f"| `policybot --help` (the CLI's import floor) | {result.help_s:.2f} s | |",
            f"| `python -c pass` (the interpreter) | {result.python_s:.2f} s | |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm starts and asks to time")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts to time")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    result = measure(args.runs, args.cold_runs)
    print(table(result))
    print(
        "slowest imports of `ask`: "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.slowest_imports)
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

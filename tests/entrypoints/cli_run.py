"""Running the policybot command as a child process, and what a person should see of a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def policybot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "DATABASE_URL", "LOG_", "SLACK_"))
    }
    clean.update(env or {})
    clean["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean,
        input=stdin,
        timeout=120,
    )


def one_line_without_traceback(result: subprocess.CompletedProcess[str]) -> str:
    said = (result.stderr + result.stdout).strip()
    assert result.returncode != 0
    assert "Traceback" not in said
    assert len(said.splitlines()) == 1, said
    return said

"""Running a command in a real terminal (a pty), as a person at a console would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO


def at_a_terminal(
    command: list[str], typed: str, cwd: Path, env: dict[str, str] | None = None
) -> str:
    """What a person sees running `command` at a terminal and typing `typed`."""
    import pty

    main, child = pty.openpty()
    process = subprocess.Popen(
        command,
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=cwd,
        env={**clean_env(), **(env or {})},
    )
    os.close(child)
    os.write(main, typed.encode())
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=60)
    os.close(main)
    return seen.decode().replace("\r\n", "\n")


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "DATABASE_URL", "LOG_", "SLACK_"))
    }
    env["PYTHONPATH"] = str(REPO)
    return env

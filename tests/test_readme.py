"""README's first screen is true: the console as it really prints, `ask --json`'s fields, the
catalogue without Slack and the server HTTP mode really uses (issue 27)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import load_settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def first_screen() -> str:
    return README[: README.index("## Contents")]


def policybot(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "policybot"
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "bot.entrypoints.cli"]
    return [*entry, *args]


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "DATABASE_URL", "LOG_", "SLACK_"))
    }
    env["PYTHONPATH"] = str(REPO)
    return env


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


def test_the_console_in_the_first_screen_is_what_make_run_prints(tmp_path: Path) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    transcript = re.search(r"```text\n\$ make run\n…\n(.*?)```", first_screen(), re.S)
    assert transcript is not None
    shown = transcript.group(1)
    question = re.search(r"^you> (.*)$", shown, re.M)
    assert question is not None

    seen = at_a_terminal(policybot("chat"), f"{question.group(1)}\nquit\n", cwd=tmp_path)

    printed = seen[seen.index("policies: loaded") :]
    assert printed.startswith(shown), printed


def test_the_fields_of_ask_json_are_those_the_readme_lists(tmp_path: Path) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    result = subprocess.run(
        policybot("ask", "--json", "can I use cursor?"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout)
    row = re.search(r"`--json` prints `(\{.*?\})`", README)
    assert row is not None

    listed = re.findall(r'"(\w+)"', row.group(1))

    assert set(listed) == set(data) | set(data["matches"][0])


def test_the_first_screen_says_how_http_mode_is_really_served() -> None:
    assert load_settings(_env_file=None).server == "gunicorn"
    assert "HTTP mode on gunicorn" in first_screen()
    assert "served by waitress" not in README


def test_the_first_screen_reaches_the_catalogue_without_slack() -> None:
    assert "make catalogue" in first_screen()
    planned = subprocess.run(
        ["make", "-n", "catalogue"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "policybot catalogue serve" in planned.stdout

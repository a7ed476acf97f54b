"""The Dockerfile, checked without Docker: its shape, and its own commands replayed.

Docker does not run where policybot is built, so the image is never built here. Instead this
reads the Dockerfile, lays out a temporary "image" the way its COPY lines do, runs its build
stage's RUN lines (the same `pip install` commands and lock) in a clean virtual environment,
and then runs its CMD and HEALTHCHECK exactly as written. The virtual environment is built
once per run (about 15 s with pip's cache).

The replayed installs need the package index, so those tests are marked `network`: out of
`make test`, run by CI through `make test-network`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.standin import StandinSlack

DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str

    def json_form(self) -> list[str] | None:
        """The exec form `["a", "b"]` as a list, None for the shell form."""
        if self.argument.startswith("["):
            value = json.loads(self.argument)
            assert isinstance(value, list)
            return [str(part) for part in value]
        return None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"no {keyword} in stage {self.name or self.base}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.argument):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages, with line continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), " ".join(argument.split(" ")).strip()
        if keyword == "FROM":
            parts = argument.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif keyword == "ARG" and not stages:
            key, _, value = argument.partition("=")
            args[key] = value
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, argument))
    return args, stages


ARGS, STAGES = parse_dockerfile(DOCKERFILE.read_text())
BUILD, RUNTIME = STAGES[0], STAGES[-1]


# -- the shape ----------------------------------------------------------------------------------


def test_builds_in_stages_from_slim_python_311() -> None:
    assert len(STAGES) >= 2
    for stage in STAGES:
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?", stage.base), stage.base


def test_runtime_stage_runs_as_a_non_root_user() -> None:
    user = RUNTIME.last("USER").argument
    assert user not in ("root", "0", "")


def test_every_pip_install_uses_the_lock_or_installs_no_dependencies() -> None:
    installs = [i.argument for s in STAGES for i in s.all("RUN") if "pip install" in i.argument]
    assert installs
    for command in installs:
        for part in command.split("&&"):
            if "pip install" in part:
                assert "requirements.lock" in part or "--no-deps" in part, part


def test_the_lock_pins_every_runtime_dependency_and_the_postgres_driver() -> None:
    def normalise(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not pinned: {line}"
            lock[normalise(name)] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    for requirement in wanted:
        name = normalise(re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0])
        assert name in lock, f"{requirement} is not in requirements.lock"
    assert "psycopg-binary" in lock


def test_cmd_migrates_then_serves() -> None:
    command = " ".join(RUNTIME.last("CMD").json_form() or [])
    assert re.search(r"policybot db upgrade && (exec )?policybot serve", command)


def test_healthcheck_asks_healthz_on_the_port() -> None:
    check = RUNTIME.last("HEALTHCHECK").argument
    assert "/healthz" in check and "PORT" in check
    assert " CMD " in f" {check} "


def test_policies_are_in_the_image_where_a_mount_can_replace_them() -> None:
    env = RUNTIME.env()
    workdir = RUNTIME.last("WORKDIR").argument
    assert env["POLICYBOT_POLICIES"] == f"{workdir}/policies"
    copies = [i.argument.split() for i in RUNTIME.all("COPY")]
    assert ["policies", "./policies"] in copies
    assert ["migrations", "./migrations"] in copies


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in (".env", ".venv", ".git", "*.db"):
        assert pattern in ignored


def test_compose_file_runs_policybot_against_postgres() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    assert re.search(r"image: postgres:16", text)
    assert "DATABASE_URL: postgresql+psycopg://" in text
    assert "condition: service_healthy" in text
    assert "/healthz" in text


# -- the commands, replayed ---------------------------------------------------------------------


@dataclass
class ReplayedImage:
    """A temporary stand-in for the built image: paths mapped, environment as the image's."""

    root: Path
    venv: Path
    app: Path
    data: Path

    def map_paths(self, value: str) -> str:
        for inside, outside in (("/opt/venv", self.venv), ("/app", self.app), ("/data", self.data)):
            value = value.replace(inside, str(outside))
        return value

    def environment(self, stage: Stage, **overrides: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
            and not k.startswith(("SLACK_", "POLICYBOT_", "DATABASE_URL", "PORT", "LOG_"))
        }
        for key, value in stage.env().items():
            expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
            env[key] = self.map_paths(expanded)
        env.update(overrides)
        return env

    def run(
        self,
        command: str,
        stage: Stage,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", command],
            cwd=cwd,
            env=self.environment(stage, **(env or {})),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def copy_sources(stage: Stage, destination: Path) -> None:
    """What the stage's COPY lines take from the build context (not --from another stage)."""
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = instruction.argument
        if instruction.keyword != "COPY" or instruction.argument.startswith("--from"):
            continue
        *sources, target = instruction.argument.split()
        target_dir = destination / workdir.lstrip("/") / target.removeprefix("./").rstrip("/")
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                shutil.copytree(
                    origin, target_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                target_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target_dir / origin.name)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> ReplayedImage:
    root = tmp_path_factory.mktemp("image")
    replayed = ReplayedImage(root, root / "opt/venv", root / "app", root / "data")
    replayed.data.mkdir()
    copy_sources(BUILD, root / "build")
    copy_sources(RUNTIME, root)
    # `python` as the base image has it; the new venv's own python comes first once made.
    shim = root / "shim"
    shim.mkdir()
    (shim / "python").symlink_to(sys.executable)
    build_dir = root / "build" / BUILD.last("WORKDIR").argument.lstrip("/")
    for instruction in BUILD.all("RUN"):
        # PIP_NO_CACHE_DIR only keeps the image small; reusing pip's cache keeps this fast.
        result = replayed.run(
            instruction.argument,
            BUILD,
            cwd=build_dir,
            env={
                "PATH": f"{replayed.venv}/bin:{shim}:{os.environ['PATH']}",
                "PIP_NO_CACHE_DIR": "0",
            },
        )
        assert result.returncode == 0, f"RUN {instruction.argument}\n{result.stdout}{result.stderr}"
    return replayed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def image_database(fresh_database_url: str, image: ReplayedImage) -> str:
    """PostgreSQL as docker-compose.yml sets it when the suite runs on it, else the image's
    own default (an SQLite file under /data)."""
    if fresh_database_url.startswith("postgresql"):
        return fresh_database_url
    for leftover in image.data.glob("policybot.db*"):
        leftover.unlink()
    return image.map_paths(RUNTIME.env()["DATABASE_URL"])


@pytest.mark.network
def test_installed_policybot_runs_from_the_image_layout(image: ReplayedImage) -> None:
    result = image.run("policybot --help", RUNTIME, cwd=image.app)
    assert result.returncode == 0, result.stderr
    for command in ("db", "doctor", "serve"):
        assert command in result.stdout


@pytest.mark.network
def test_db_upgrade_then_doctor_pass_in_the_image_layout(
    image: ReplayedImage, image_database: str
) -> None:
    env = {"DATABASE_URL": image_database}
    upgrade = image.run("policybot db upgrade", RUNTIME, cwd=image.app, env=env)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    doctor = image.run("policybot doctor", RUNTIME, cwd=image.app, env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "ok       migrations" in doctor.stdout
    assert f"tools in {image.app / 'policies'}" in doctor.stdout


@pytest.fixture
def slack() -> Iterator[StandinSlack]:
    with StandinSlack() as standin:
        yield standin


@pytest.mark.network
def test_cmd_serves_and_the_healthcheck_passes(
    image: ReplayedImage, image_database: str, slack: StandinSlack
) -> None:
    port = free_port()
    env = {
        "DATABASE_URL": image_database,
        "PORT": str(port),
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-image-test",
        "SLACK_SIGNING_SECRET": "image-test-signing-secret",
    }
    command = RUNTIME.last("CMD").json_form()
    healthcheck = RUNTIME.last("HEALTHCHECK").argument.split(" CMD ", 1)[1]
    assert command is not None
    server = subprocess.Popen(
        command,
        cwd=image.app,
        env=image.environment(RUNTIME, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the server exited: {server.communicate()[0]}"
            check = image.run(healthcheck, RUNTIME, cwd=image.app, env=env, timeout=10)
            if check.returncode == 0:
                break
            assert time.monotonic() < deadline, f"HEALTHCHECK kept failing: {check.stderr}"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
            assert ready.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        # A liveness bound: the server may use its whole shutdown grace (30 s by default) for
        # work in flight, and a busy machine adds to it.
        output = server.communicate(timeout=90)[0]
    assert server.returncode == 0, output
    assert json.loads(output.splitlines()[-1])["level"] == "info"  # LOG_FORMAT=json lines

"""One stand-in Slack and one real `policybot serve` subprocess per test module.

The served database is a SQLite file of the module's own (the server is another process);
tests read it back with a `PolicyRepository` to check what changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.db import engines as db
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.domain.policy import DataClass, Status, ToolPolicy
from tests.adapters.slack.harness import COMMAND, SECRET, BotProcess, SignedPoster, seeded_database
from tests.factories import make_policy, seed_registry
from tests.standin import StandinSlack

ADMIN = "U0ADMIN"
GROUP_ADMIN = "U0GROUPIE"
ADMIN_GROUP = "S0ADMINS"
STAFF = "U0ALICE"


def slack_registry() -> list[ToolPolicy]:
    """The seed story plus tools that tests change, one tool per behaviour."""
    return [
        *seed_registry(),
        make_policy("Windsurf", vendor="Codeium", status=Status.UNDER_REVIEW),
        make_policy("Gemini", vendor="Google", status=Status.ALLOWED),
        make_policy("Midjourney", vendor="Midjourney", status=Status.CONDITIONAL),
        make_policy("Tabnine", vendor="Tabnine", status=Status.UNDER_REVIEW),
        make_policy("Replit", vendor="Replit", status=Status.ALLOWED),
        make_policy("Devin", vendor="Cognition", status=Status.UNDER_REVIEW),
        make_policy(
            "Amazon Q",
            vendor="AWS",
            status=Status.CONDITIONAL,
            conditions="Only in the sandbox account.",
            max_data=DataClass.INTERNAL,
        ),
        make_policy(
            "Pieces",
            vendor="Pieces",
            status=Status.CONDITIONAL,
            conditions="Public repositories only.",
            max_data=DataClass.PUBLIC,
        ),
        make_policy(
            "Perplexity",
            status=Status.BANNED,
            reason="Told <!channel> to see <https://evil.example|the intranet> & more",
            vendor="Perplexity AI, not even for <!here>",
            owner="<@U0BOSS>",
        ),
    ]


@dataclass
class Served:
    """A running server, the stand-in it talks to, and its database."""

    bot: BotProcess
    standin: StandinSlack
    policies: PolicyRepository
    slack: SignedPoster


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinSlack]:
    with StandinSlack(usergroups={ADMIN_GROUP: [GROUP_ADMIN]}) as slack:
        yield slack


@contextmanager
def serving(
    standin: StandinSlack, workdir: Path, *, socket_mode: bool, database_url: str | None = None
) -> Iterator[Served]:
    url = seeded_database(database_url or workdir / "policybot.db", slack_registry())
    env = {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.api_url,
        "POLICYBOT_ADMINS": ADMIN,
        "POLICYBOT_ADMIN_GROUP": ADMIN_GROUP,
        "POLICYBOT_COMMAND": COMMAND,
        "POLICYBOT_POLICIES": str(workdir / "no-policies"),
        "LOG_LEVEL": "INFO",
    }
    if socket_mode:
        env["SLACK_APP_TOKEN"] = "xapp-test"
    else:
        env["SLACK_SIGNING_SECRET"] = SECRET
    bot = BotProcess(env, workdir)
    bot.start()
    engine = db.make_engine(url)
    try:
        yield Served(bot, standin, PolicyRepository(Store(engine)), SignedPoster(bot, standin))
    finally:
        bot.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def http_bot(standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`policybot serve` in HTTP mode against the stand-in."""
    with serving(standin, tmp_path_factory.mktemp("http-bot"), socket_mode=False) as served:
        yield served


@pytest.fixture(scope="module")
def socket_bot(standin: StandinSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`policybot serve` in Socket Mode, connected to the stand-in's WebSocket."""
    with serving(standin, tmp_path_factory.mktemp("socket-bot"), socket_mode=True) as served:
        standin.wait_for_socket_connections(1, timeout=10)
        yield served

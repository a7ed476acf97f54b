"""`policybot doctor`: checks the settings, the database, its migrations, the policies folder
and the Slack token, and says in plain words what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.db import engines as db
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import PolicyFileError, load_policies
from bot.app.plan import plan_import
from bot.compose import drift_names
from bot.config import Settings, cron_problem, describe_error, load_settings
from bot.domain.errors import PolicyError
from bot.entrypoints.serve import slack_settings_problem

SLACK_TIMEOUT_SECONDS = 10
DATABASE_TIMEOUT_SECONDS = 5


class State(StrEnum):
    OK = "ok"
    NOTE = "note"  # worth knowing, not wrong
    PROBLEM = "PROBLEM"


@dataclass(frozen=True)
class Finding:
    check: str
    state: State
    message: str

    def line(self) -> str:
        return f"{self.state.value:<8} {self.check}: {self.message}"


def run_checks(**overrides: Any) -> list[Finding]:
    """Every check, in the order a person would fix them; later ones need the earlier ones."""
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        return [Finding("settings", State.PROBLEM, describe_error(error))]
    findings = [check_settings(settings)]
    database, engine = check_database(settings)
    findings.append(database)
    policies = check_policies(settings.policies_path)
    if engine is not None:
        migrations = check_migrations(engine)
        findings.append(migrations)
        findings.append(policies)
        if migrations.state is State.OK and policies.state is State.OK:
            findings.append(check_drift(engine, settings))
        engine.dispose()
    else:
        findings.append(policies)
    findings.extend(check_slack(settings))
    return findings


def check_settings(settings: Settings) -> Finding:
    problem = cron_problem(settings.digest_cron, settings.timezone)
    if problem:
        return Finding("settings", State.PROBLEM, f"bad setting: {problem}")
    url = sa.make_url(settings.database_url).render_as_string(hide_password=True)
    return Finding("settings", State.OK, f"loaded (DATABASE_URL {url})")


def check_database(settings: Settings) -> tuple[Finding, sa.Engine | None]:
    """Reachable and answering; never creates an SQLite file that is not there yet."""
    url = sa.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        if not path.exists():
            fix = "run `policybot db upgrade` to create it, or set DATABASE_URL"
            return Finding("database", State.PROBLEM, f"no SQLite file at {path}: {fix}"), None
    options: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": DATABASE_TIMEOUT_SECONDS}
    try:
        engine = db.make_engine(settings.database_url, **options)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, ImportError) as error:
        reason = _first_line(getattr(error, "orig", None) or error)
        return Finding("database", State.PROBLEM, f"cannot connect to {shown}: {reason}"), None
    return Finding("database", State.OK, f"{engine.dialect.name} at {shown} answers"), engine


def check_migrations(engine: sa.Engine) -> Finding:
    try:
        script = ScriptDirectory.from_config(db.alembic_config(engine))
    except FileNotFoundError as error:
        return Finding("migrations", State.PROBLEM, f"{error}: run policybot from its folder")
    head = script.get_current_head()
    current = db.current_revision(engine)
    if current == head:
        return Finding("migrations", State.OK, f"the database is at the newest revision ({head})")
    if current is None:
        return Finding(
            "migrations", State.PROBLEM, "the database is empty: run `policybot db upgrade`"
        )
    if current not in {revision.revision for revision in script.walk_revisions()}:
        return Finding(
            "migrations",
            State.PROBLEM,
            f"the database is at revision {current}, which this policybot does not know "
            f"(newest here is {head}): run the newer policybot that migrated it",
        )
    return Finding(
        "migrations",
        State.PROBLEM,
        f"the database is at revision {current}, the newest is {head}: run `policybot db upgrade`",
    )


def check_policies(path: Path) -> Finding:
    if not path.exists():
        return Finding(
            "policies",
            State.NOTE,
            f"no folder at {path}: a new database starts with an empty registry "
            "(set POLICYBOT_POLICIES to your policies folder)",
        )
    try:
        policies = load_policies(path)
    except PolicyFileError as error:
        shown = "; ".join(error.problems[:3])
        more = f" (and {len(error.problems) - 3} more)" if len(error.problems) > 3 else ""
        fix = f"run `policybot check {path}` for the full list"
        return Finding("policies", State.PROBLEM, f"{shown}{more}: {fix}")
    return Finding("policies", State.OK, f"{len(policies)} tools in {path}, no problems")


def check_drift(engine: sa.Engine, settings: Settings) -> Finding:
    """Whether the policies folder and the database hold the same tools (which ones differ)."""
    path = settings.policies_path
    try:
        plan = plan_import(
            PolicyRepository(Store(engine)).policies(), load_policies(path), prune=True
        )
    except PolicyError as error:
        return Finding("drift", State.NOTE, f"{path} could not be imported as it is: {error}")
    if not plan.has_changes:
        return Finding("drift", State.OK, f"the database matches {path}")
    if settings.sync_policies:
        fix = "POLICYBOT_SYNC_POLICIES is on: the next start imports them"
    else:
        fix = (
            f"`policybot plan {path}` shows each field; `policybot import {path}` takes the "
            f"files, `policybot export {path}` writes the database's version into them"
        )
    return Finding(
        "drift",
        State.NOTE,
        f"{path} and the database differ on {len(plan.changes)} tool(s) "
        f"({drift_names(plan)}): {fix}",
    )


def check_slack(settings: Settings) -> list[Finding]:
    """The token's shape, the way serve will connect, and `auth.test` against SLACK_API_URL."""
    if settings.slack_bot_token is None:
        return [
            Finding(
                "slack",
                State.NOTE,
                "SLACK_BOT_TOKEN is not set: fine for `policybot chat`, "
                "needed for `policybot serve`",
            )
        ]
    findings: list[Finding] = []
    token = settings.slack_bot_token.get_secret_value()
    if not token.startswith("xoxb-"):
        findings.append(
            Finding(
                "slack",
                State.PROBLEM,
                "SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token "
                "from your Slack app's OAuth & Permissions page",
            )
        )
    problem = slack_settings_problem(settings)  # the same rule `serve` applies
    if problem is not None:
        findings.append(Finding("slack", State.PROBLEM, problem))
    findings.append(_auth_test(settings, token))
    return findings


def _auth_test(settings: Settings, token: str) -> Finding:
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT_SECONDS)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error") if error.response else "?"
        return Finding(
            "slack",
            State.PROBLEM,
            f"Slack refused SLACK_BOT_TOKEN ({code}): reinstall the app to your workspace "
            "and copy its current Bot User OAuth Token",
        )
    except OSError as error:  # urllib's URLError, timeouts, refused connections
        reason = getattr(error, "reason", None) or error
        return Finding(
            "slack", State.PROBLEM, f"cannot reach Slack at {settings.slack_api_url}: {reason}"
        )
    return Finding(
        "slack",
        State.OK,
        f"the bot token works: @{answer.get('user')} in {answer.get('team')} "
        f"({answer.get('team_id')})",
    )


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

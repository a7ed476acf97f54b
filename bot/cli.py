"""The `policybot` command: chat, ask, import, export, db and serve."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer
from pydantic import ValidationError

from bot.bootstrap import Runtime, open_runtime
from bot.config import Settings, describe_error, load_settings
from bot.core import db
from bot.core.answers import as_json
from bot.core.changes import Actor, ImportPolicies
from bot.core.policyfile import PolicyFileError, load_policies, read_located, write_policies
from bot.core.question_repo import QuestionRepository
from bot.core.store import PolicyError, Store

app = typer.Typer(
    help="policybot: your organisation's AI-tool policies, answered in seconds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade, downgrade, current.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"policybot: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        fail(describe_error(error), 2)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the failures people cause (bad files, unreachable database) into one line."""
    try:
        yield
    except PolicyFileError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        fail(f"{len(error.problems)} problem(s) found; nothing was changed", 1)
    except PolicyError as error:
        fail(f"{error}; nothing was changed", 1)
    except sa.exc.OperationalError as error:
        fail(f"cannot use the database: {error.orig}", 3)


def runtime(database_url: str | None = None, *, seed: bool = True) -> Runtime:
    settings = settings_or_exit(database_url=database_url)
    return open_runtime(settings, seed=seed)


DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: $DATABASE_URL or SQLite)."),
]


@app.command()
def ask(
    question: Annotated[list[str], typer.Argument(help="The question, e.g. can I use Cursor?")],
    as_json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Answer one question and exit."""
    with friendly_errors():
        rt = runtime(database_url)
        text = " ".join(question)
        answer = rt.service.ask(text, channel="cli")
        rendered = rt.service.render(answer)
        if as_json_output:
            typer.echo(json.dumps(as_json(answer, rendered), ensure_ascii=False, default=str))
        else:
            typer.echo(rendered)


@app.command()
def chat(
    user: Annotated[
        str, typer.Option("--user", help="Who you are; admins are in POLICYBOT_ADMINS.")
    ] = "console",
    database_url: DatabaseOption = None,
) -> None:
    """The console bot: type questions (and admin commands if you are an admin)."""
    from bot.console import run_console

    with friendly_errors():
        rt = runtime(database_url)
        run_console(rt.service, user=user)


@app.command("import")
def import_policies(
    path: Annotated[Path, typer.Argument(help="A policy YAML file or a folder of them.")],
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove tools the files no longer list.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not announce the changes.")] = False,
    author: Annotated[str, typer.Option(help="Recorded as the author of the changes.")] = "import",
    database_url: DatabaseOption = None,
) -> None:
    """Validate policy files, then bring the registry in line with them (all or nothing)."""
    with friendly_errors():
        located = read_located(path)
        rt = runtime(database_url, seed=False)
        report = rt.changes.import_policies(
            ImportPolicies(tuple(item.policy for item in located), prune=prune, quiet=quiet),
            Actor(author, "import", trusted=True),
        )
        typer.echo(
            f"imported {path}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
        )
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("removed", report.removed),
        ):
            for name in names:
                typer.echo(f"  {label}: {name}")


@app.command()
def export(
    path: Annotated[
        Path | None,
        typer.Argument(help="A file, or a folder for one file per category; default stdout."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write the registry as policy YAML that `import` reads back unchanged."""
    from bot.core.policyfile import dump_policies

    with friendly_errors():
        rt = runtime(database_url)
        policies = rt.service.policies()
        if path is None:
            sys.stdout.write(dump_policies(policies))
            return
        for written in write_policies(policies, path):
            typer.echo(f"wrote {written}")


@app.command()
def check(path: Annotated[Path, typer.Argument(help="Policy file or folder.")]) -> None:
    """Validate policy files without touching the database (for CI on policies/)."""
    with friendly_errors():
        policies = load_policies(path)
        typer.echo(f"{path}: {len(policies)} tools, no problems")


def engine_or_exit(database_url: str | None) -> sa.Engine:
    return db.make_engine(settings_or_exit(database_url=database_url).database_url)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseOption = None,
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    with friendly_errors():
        engine = engine_or_exit(database_url)
        db.upgrade(engine, revision)
        typer.echo(f"database at {db.current_revision(engine)} (head {db.head_revision(engine)})")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' for empty.")],
    database_url: DatabaseOption = None,
) -> None:
    """Undo migrations down to REVISION."""
    with friendly_errors():
        engine = engine_or_exit(database_url)
        db.downgrade(engine, revision)
        typer.echo(f"database at {db.current_revision(engine) or 'base (empty)'}")


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Show the database's migration revision and the newest one."""
    with friendly_errors():
        engine = engine_or_exit(database_url)
        current, head = db.current_revision(engine), db.head_revision(engine)
        state = "up to date" if current == head else "needs `policybot db upgrade`"
        typer.echo(f"current {current or 'base (empty)'}, head {head}: {state}")


@app.command()
def serve(
    port: Annotated[
        int | None, typer.Option("--port", help="HTTP port (default: $PORT or 3000).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "0.0.0.0",
) -> None:
    """Start the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events."""
    from bot.logs import configure_logging
    from bot.schedule.runner import AnnouncementScheduler
    from bot.serve import StartError, slack_settings_problem
    from bot.serve import serve as run_server
    from bot.slack import announcements
    from bot.slack.admins import AdminGroup
    from bot.slack.app import build_app, make_client

    settings = settings_or_exit(port=port)
    configure_logging(settings.log_format, settings.log_level)
    problem = slack_settings_problem(settings)
    if problem is not None:
        fail(problem, 2)
    with friendly_errors():
        # The composition root of the server: one Web API client, the admin group read
        # through it, the runtime (questions logged in batches off the request thread).
        client = make_client(settings)
        group = AdminGroup(client, settings.admin_group) if settings.admin_group else None
        rt = open_runtime(
            settings, also_admin=group.is_member if group else None, question_log=True
        )
        try:
            slack_app = build_app(rt, client, extensions=[announcements.register])
        except Exception as error:  # auth.test refused the token or Slack was unreachable
            fail(f"cannot start the Slack app: {error}", 2)
        # The scheduler starts once the server is up and stops before it closes.
        scheduler = AnnouncementScheduler(rt)
        question_log = rt.service.question_log
        assert question_log is not None  # stop() writes what is still queued
        try:
            run_server(
                rt, slack_app, port=settings.port, host=host, background=[question_log, scheduler]
            )
        except StartError as error:
            fail(str(error), 2)


@db_app.command("purge")
def db_purge(
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, help="Keep this many days (default: $POLICYBOT_RETENTION_DAYS)."
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete logged questions older than the retention period."""
    import datetime as dt

    with friendly_errors():
        settings = settings_or_exit(database_url=database_url)
        keep = days or settings.retention_days
        if keep is None:
            fail("set POLICYBOT_RETENTION_DAYS or pass --days to say how long to keep questions")
        engine = db.make_engine(settings.database_url)
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=keep)
        deleted = QuestionRepository(Store(engine)).purge_questions(cutoff)
        typer.echo(f"deleted {deleted} logged question(s) older than {keep} days")


@app.command()
def doctor(database_url: DatabaseOption = None) -> None:
    """Check settings, database, migrations, policies and the Slack token; say what is wrong."""
    from bot.doctor import State, run_checks

    # Our findings say what failed; the Slack SDK's own error lines would only repeat it.
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)
    findings = run_checks(database_url=database_url)
    for finding in findings:
        typer.echo(finding.line())
    problems = sum(finding.state is State.PROBLEM for finding in findings)
    if problems:
        typer.echo(f"{problems} problem(s) found")
        raise typer.Exit(1)
    typer.echo("no problems found")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()

"""The `policybot` command: chat, ask, import, export, db and serve.

Each command imports what it needs when it runs: `check` never loads the database layer, and
no command but `serve` and `doctor` loads the Slack SDK, so quick commands start quickly
(bench/startup.py measures them; tests/entrypoints/test_cli.py checks which packages each one
loads).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import sqlalchemy as sa
    from slack_sdk import WebClient

    from bot.adapters.files.policyfile import Located
    from bot.app.plan import ImportPlan
    from bot.app.runtime import Runtime
    from bot.config import Settings
    from bot.entrypoints.serve import Startable

# -h as well as --help everywhere; plain help text, so a flag shows as `--json`, not as an
# option taking a <bool>.
_TYPER_STYLE: dict[str, Any] = {
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(
    help="policybot: your organisation's AI-tool policies, answered in seconds.",
    add_completion=False,
    pretty_exceptions_enable=False,
    **_TYPER_STYLE,
)
db_app = typer.Typer(
    help="Database schema and data: upgrade, downgrade, current, purge.", **_TYPER_STYLE
)
app.add_typer(db_app, name="db")
acks_app = typer.Typer(help="Acknowledgements of policy versions.", **_TYPER_STYLE)
app.add_typer(acks_app, name="acks")
catalogue_cli = typer.Typer(
    help="The catalogue: serve it without Slack, or export it as json, csv, yaml.", **_TYPER_STYLE
)
app.add_typer(catalogue_cli, name="catalogue")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"policybot {version('policybot')}")
        raise typer.Exit()


@app.callback()
def _options(
    _version_: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    _debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when something fails.")
    ] = False,
) -> None:
    """policybot: your organisation's AI-tool policies, answered in seconds."""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"policybot: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    from pydantic import ValidationError

    from bot.config import describe_error, load_settings

    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        fail(describe_error(error), 2)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the failures people cause (bad files, unreachable database) into one line."""
    from bot.adapters.files.policyfile import PolicyFileError

    try:
        yield
    except PolicyFileError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        fail(f"{len(error.problems)} problem(s) found; nothing was changed", 1)
    except Exception as error:
        # The domain's errors and SQLAlchemy are only asked about when loaded: an error of
        # theirs can only come from a command that loaded them, and `check` must not pay.
        errors, sa_exc = sys.modules.get("bot.domain.errors"), sys.modules.get("sqlalchemy.exc")
        if errors is not None and isinstance(error, errors.PolicyError):
            fail(f"{error}; nothing was changed", 1)
        if sa_exc is not None and isinstance(error, sa_exc.OperationalError):
            fail(f"cannot use {_database_named()}: {_first_line(error.orig)}", 3)
        alembic = sys.modules.get("alembic.util.exc")
        if alembic is not None and isinstance(error, alembic.CommandError):
            hint = "use base, head, or a revision `policybot db current` shows"
            fail(f"{_first_line(error)}: {hint}", 2)
        raise


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


_DATABASE_URL: list[str] = []  # the URL the command used, for error messages


def _database_named() -> str:
    """'the SQLite file /abs/policybot.db' or 'the database at host:5432/db'."""
    from bot.adapters.db.engines import describe_location

    return describe_location(_DATABASE_URL[-1]) if _DATABASE_URL else "the database"


def runtime(
    database_url: str | None = None,
    *,
    migrate: bool = True,
    seed: bool = True,
    drift: bool = False,
    create: bool = True,
) -> Runtime:
    """The runtime. With `create=False` (every command that reads) a database that does not
    exist yet — a missing SQLite file, or in-memory SQLite — is refused, and nothing created,
    unless the command loads the policies folder into it (`ask` run from another folder
    would otherwise answer from an empty registry)."""
    from bot.compose import open_runtime

    settings = settings_or_exit(database_url=database_url)
    _DATABASE_URL.append(settings.database_url)
    if not create:
        refuse_a_database_that_does_not_exist(settings, loads_policies=seed)
    return open_runtime(settings, migrate=migrate, seed=seed, drift=drift)


def refuse_a_database_that_does_not_exist(settings: Settings, *, loads_policies: bool) -> None:
    """One rule for every command that reads: say so, and create nothing, when the database
    does not exist and the command has nothing to load into it."""
    import sqlalchemy as sa

    from bot.adapters.db.engines import sqlite_path

    if loads_policies and settings.policies_path.exists():
        return
    url = sa.make_url(settings.database_url)
    path = sqlite_path(settings.database_url)
    policies = (
        f" and no policies folder at {settings.policies_path.resolve()}" if loads_policies else ""
    )
    if url.get_backend_name() == "sqlite" and path is None:
        fail(
            f"DATABASE_URL {settings.database_url} is an in-memory SQLite database{policies}: "
            "it starts empty and is gone when policybot exits; give a file "
            "(sqlite:///policybot.db) or a database server (nothing was created)",
            3,
        )
    if path is not None and not path.exists():
        fail(
            f"no database at {path.resolve()}{policies}: run policybot in the folder that has "
            "it, or set DATABASE_URL (nothing was created)",
            3,
        )


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", metavar="URL", help="Database URL (default: $DATABASE_URL or SQLite)."
    ),
]


@app.command()
def ask(
    question: Annotated[
        list[str],
        typer.Argument(metavar="QUESTION", help="The question, e.g. can I use Cursor?"),
    ],
    as_json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="ID",
            help="Answer for this person (their audiences' rules apply, their exceptions too).",
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Answer one question and exit."""
    from bot.domain.answers import as_json
    from bot.domain.text import storable

    with friendly_errors():
        rt = runtime(database_url, create=False)
        # Bytes that are not UTF-8 arrive as lone surrogates, which no database stores.
        text = storable(" ".join(question))
        answer = rt.service.ask(text, asker=user, channel="cli")
        rendered = rt.service.render(answer)
        if as_json_output:
            typer.echo(json.dumps(as_json(answer, rendered), ensure_ascii=False, default=str))
        else:
            typer.echo(rendered)


@app.command()
def chat(
    user: Annotated[
        str,
        typer.Option("--user", metavar="ID", help="Who you are; admins are in POLICYBOT_ADMINS."),
    ] = "console",
    database_url: DatabaseOption = None,
) -> None:
    """The console bot: type questions (and admin commands if you are an admin)."""
    from bot.entrypoints.console import run_console

    with friendly_errors():
        rt = runtime(database_url, drift=True, create=False)
        if rt.policy_load is not None:
            typer.echo(f"policies: {rt.policy_load.message}", err=True)
        # The console is a conversation: the log's warnings (a refused command is logged for
        # the record) are not printed into it; errors still are.
        logging.getLogger().setLevel(logging.ERROR)
        run_console(rt.service, user=user)


PruneOption = Annotated[
    bool, typer.Option("--prune", help="Remove tools the files no longer list.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", help="Do not announce the changes.")]


def registry_is_empty(database_url: str | None) -> bool:
    """True for a database with no schema yet or no tools: an import there is the baseline."""
    from bot.adapters.db import engines as db

    engine = db.make_engine(settings_or_exit(database_url=database_url).database_url)
    try:
        if db.current_revision(engine) is None:
            return True
        with engine.connect() as connection:
            return not connection.exec_driver_sql("SELECT count(*) FROM tool").scalar()
    finally:
        engine.dispose()


def planned(
    path: Path, database_url: str | None, *, prune: bool, quiet: bool, migrate: bool = False
) -> tuple[Runtime, list[Located], ImportPlan]:
    """Read the files and work out what importing them would do; a dry run writes nothing,
    not even the schema of a new database (whose registry is empty)."""
    from bot.adapters.db import engines as db
    from bot.adapters.files.policyfile import (
        PolicyFileError,
        Problem,
        read_located,
        unknown_alternatives,
    )
    from bot.app.plan import plan_import
    from bot.domain.names import name_key

    # Every problem in one run: the files' own, then alternatives the registry lacks too.
    problems: list[Problem] = []
    located = read_located(path, problems)
    # A plan compares with a database: one that does not exist is said, not created empty.
    rt = runtime(database_url, migrate=migrate, seed=False, create=migrate)
    fresh = not migrate and db.current_revision(rt.engine) is None
    current = [] if fresh else rt.service.policies()
    # Alternatives may name a tool in the files or one the database keeps.
    incoming = {name_key(item.policy.name) for item in located}
    kept = [p for p in current if not prune and name_key(p.name) not in incoming]
    names = [n for item in located for n in (item.policy.name, *item.policy.aliases)]
    problems += unknown_alternatives(
        located,
        names + [n for p in kept for n in (p.name, *p.aliases)],
        "the files or the registry",
    )
    if problems:
        raise PolicyFileError(problems)
    plan = plan_import(
        current,
        [item.policy for item in located],
        prune=prune,
        quiet=quiet,
        announce_channel=rt.settings.announce_channel,
        today=rt.changes.today(),
    )
    return rt, located, plan


def show_plan(path: Path, plan: ImportPlan) -> NoReturn:
    """Print the plan; exit 0 when the import would change nothing, 2 when it would."""
    from bot.app.plan import describe_plan

    typer.echo(f"plan for importing {path}:")
    for line in describe_plan(plan):
        typer.echo(line)
    raise typer.Exit(2 if plan.has_changes else 0)


@app.command("import")
def import_policies(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A policy YAML file or a folder of them.")
    ],
    prune: PruneOption = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before --prune removes tools.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print what would change and change nothing; exit 2 if something would.",
        ),
    ] = False,
    quiet: QuietOption = False,
    announce: Annotated[
        bool,
        typer.Option(
            "--announce",
            help="Announce even the first load into an empty registry (a quiet baseline "
            "otherwise).",
        ),
    ] = False,
    author: Annotated[
        str, typer.Option(metavar="NAME", help="Recorded as the author of the changes.")
    ] = "import",
    database_url: DatabaseOption = None,
) -> None:
    """Validate policy files, then bring the registry in line with them (all or nothing).

    The changes are one policy version with one announcement; loading into an empty registry
    is the baseline version and announces nothing unless --announce."""
    from bot.adapters.files.policyfile import load_audiences
    from bot.app.changes import Actor, ImportPolicies

    with friendly_errors():
        if not announce and not dry_run and registry_is_empty(database_url):
            quiet = True
        if dry_run:
            show_plan(path, planned(path, database_url, prune=prune, quiet=quiet)[2])
        rt, located, plan = planned(path, database_url, prune=prune, quiet=quiet, migrate=True)
        if plan.removed and not yes:
            confirm_prune(plan.removed)
        report = rt.changes.import_policies(
            ImportPolicies(
                tuple(item.policy for item in located),
                prune=prune,
                quiet=quiet,
                audiences=load_audiences(path),
            ),
            Actor(author, "import", trusted=True),
        )
        typer.echo(
            f"imported {path}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
            + (f", {len(report.scheduled)} scheduled" if report.scheduled else "")
        )
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("removed", report.removed),
        ):
            for name in names:
                fields = ", ".join(plan.fields_of(name)) if label == "updated" else ""
                typer.echo(f"  {label}: {name}" + (f" ({fields})" if fields else ""))
        for name in report.scheduled:
            day = next((c.scheduled_for for c in plan.of("schedule") if c.name == name), None)
            typer.echo(f"  scheduled: {name}" + (f" (from {day})" if day else ""))


def confirm_prune(names: list[str]) -> None:
    """Ask at a terminal before removing tools; refuse when nobody can answer."""
    listed = ", ".join(names)
    if not sys.stdin.isatty():
        fail(
            f"--prune would remove {len(names)} tool(s) ({listed}); nothing was changed: "
            "look at `policybot import --dry-run --prune`, then add --yes to remove them"
        )
    typer.echo(f"--prune will remove {len(names)} tool(s): {listed}")
    if not typer.confirm(f"Remove these {len(names)} tool(s)?", default=False):
        fail("nothing was changed")


@app.command()
def plan(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A policy YAML file or a folder of them.")
    ],
    prune: PruneOption = False,
    quiet: QuietOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """What `import` would change, field by field (same as `import --dry-run`); exit 2 if any."""
    with friendly_errors():
        show_plan(path, planned(path, database_url, prune=prune, quiet=quiet)[2])


@app.command()
def export(
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATH]",
            help="A file, or a folder (an existing one, or a path ending in /); default stdout.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write the registry back into its policy files, changing only what changed."""
    from bot.adapters.files.policyfile import dump_policies, write_policies

    with friendly_errors():
        rt = runtime(database_url, create=False)
        policies = rt.service.policies()
        if path is None:
            sys.stdout.write(dump_policies(policies))
            return
        folder = path.endswith(("/", os.sep)) or Path(path).is_dir()
        if not policies and Path(path).exists():
            fail(f"the registry is empty: {path} was left as it is (an export would empty it)")
        report = write_policies(policies, Path(path), folder=folder)
        for written in report.written:
            typer.echo(f"wrote {written}")
        if report.unchanged:
            typer.echo(f"{len(report.unchanged)} file(s) already up to date")


@catalogue_cli.command("export")
def catalogue_export(
    fmt: Annotated[
        str, typer.Argument(metavar="FORMAT", help="json, csv (build-your-own-radar) or yaml.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to this file (default: stdout)."
        ),
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(metavar="STATUS", help="Only this status (repeatable).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(metavar="CATEGORY", help="Only this category.")
    ] = None,
    vendor: Annotated[
        list[str] | None, typer.Option(metavar="VENDOR", help="Only this vendor.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(metavar="CLASS", help="Only tools cleared for this data class or above."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the catalogue as /catalogue/export.FORMAT serves it, with the same filters."""
    from bot.adapters.web.catalogue.app import export_registry
    from bot.adapters.web.catalogue.exports import FORMATS
    from bot.adapters.web.catalogue.model import Filters

    if fmt not in FORMATS:
        fail(f"unknown export format '{fmt}': use {', '.join(FORMATS)}", 2)
    query = {"status": status or [], "category": category or [], "vendor": vendor or []}
    filters = Filters.from_query({**query, "data": [data] if data else []})
    with friendly_errors():
        rt = runtime(database_url, create=False)
        text = export_registry(
            fmt,
            rt.service.policies(),
            rt.policies,
            filters=filters,
            now=rt.service.clock(),
            tz=rt.settings.zone,
            public_url=rt.settings.public_url,
        )
        if output is None:
            sys.stdout.write(text)
            return
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@catalogue_cli.command("serve")
def catalogue_serve(
    port: Annotated[
        int | None,
        typer.Option("--port", metavar="PORT", help="HTTP port (default: $PORT or 3000)."),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    database_url: DatabaseOption = None,
) -> None:
    """Serve the catalogue (/catalogue/) and the probes, without Slack: no token needed."""
    from bot.entrypoints.serve import StartError, serve_catalogue
    from bot.logs import configure_logging

    with friendly_errors():
        settings = settings_or_exit(port=port, database_url=database_url)
        if not settings.catalogue:
            fail("the catalogue is turned off (POLICYBOT_CATALOGUE=off): unset it to serve it", 2)
        configure_logging(settings.log_format, settings.log_level)
        rt = runtime(database_url, drift=True, create=False)
        if rt.policy_load is not None:
            logging.getLogger("bot.entrypoints.serve").info("policies: %s", rt.policy_load.message)
        try:
            serve_catalogue(rt, port=settings.port, host=host)
        except StartError as error:
            fail(str(error), 2)


@app.command()
def check(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Policy file or folder.")],
) -> None:
    """Validate policy files without touching the database (for CI on policies/).

    A file inside a folder is checked against the whole folder: its alternatives may name
    tools in the other files, and a name another file uses is a duplicate. The folder's
    vocabulary.yaml (words admins add to the bot's) is checked too, or alone when named.
    """
    from bot.adapters.files.policyfile import (
        AUDIENCES_FILE,
        NOT_POLICY_FILES,
        PolicyFileError,
        check_path,
        read_audiences,
    )
    from bot.adapters.files.vocabularyfile import VOCABULARY_FILE, check_vocabulary

    with friendly_errors():
        if path.is_file() and path.name in NOT_POLICY_FILES:
            typer.echo(f"{path}: {check_vocabulary(path)} phrases added, no problems")
            return
        if path.is_file() and path.stem == Path(AUDIENCES_FILE).stem:
            typer.echo(f"{path}: {len(read_audiences(path))} audiences, no problems")
            return
        words = path / VOCABULARY_FILE
        problems: list[str] = []
        try:
            result = check_path(path)
        except PolicyFileError as error:
            problems, result = error.problems, None
        added = None
        if path.is_dir() and words.is_file():
            try:
                added = check_vocabulary(words)
            except PolicyFileError as error:
                problems += error.problems
        if problems or result is None:
            raise PolicyFileError(problems)
        context = f" (checked against {path.parent}/)" if result.context else ""
        vocabulary = f"; {words}: {added} phrases added" if added is not None else ""
        audiences = f", {len(result.audiences)} audiences" if result.audiences else ""
        typer.echo(
            f"{path}: {len(result.located)} tools{audiences}, no problems{context}{vocabulary}"
        )
        for note in result.notes:
            typer.echo(f"  note: {note}")


def engine_or_exit(database_url: str | None) -> sa.Engine:
    from bot.adapters.db import engines as db

    return db.make_engine(settings_or_exit(database_url=database_url).database_url)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head",
    database_url: DatabaseOption = None,
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from bot.adapters.db import engines as db

    with friendly_errors():
        engine = engine_or_exit(database_url)
        db.upgrade(engine, revision)
        typer.echo(f"database at {db.current_revision(engine)} (head {db.head_revision(engine)})")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision, or 'base' for empty.")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Undo migrations down to REVISION."""
    from bot.adapters.db import engines as db

    with friendly_errors():
        engine = engine_or_exit(database_url)
        db.downgrade(engine, revision)
        typer.echo(f"database at {db.current_revision(engine) or 'base (empty)'}")


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Show the database's migration revision and the newest one."""
    from bot.adapters.db import engines as db

    with friendly_errors():
        engine = engine_or_exit(database_url)
        current, head = db.current_revision(engine), db.head_revision(engine)
        state = "up to date" if current == head else "needs `policybot db upgrade`"
        typer.echo(f"current {current or 'base (empty)'}, head {head}: {state}")


@app.command()
def serve(
    port: Annotated[
        int | None,
        typer.Option("--port", metavar="PORT", help="HTTP port (default: $PORT or 3000)."),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")
    ] = "0.0.0.0",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            min=1,
            max=64,
            help="HTTP mode: worker processes (default: $POLICYBOT_WORKERS or one per CPU).",
        ),
    ] = None,
) -> None:
    """Start the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events."""
    import os
    import tempfile

    settings = settings_or_exit(port=port, workers=workers)
    with ExitStack() as stack:
        on_gunicorn = settings.slack_app_token is None and settings.server == "gunicorn"
        if on_gunicorn:
            # Before bot.metrics is imported: every process then counts into shared files.
            metrics_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="policybot-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        code = _serve(settings, host, on_gunicorn)
    if code:
        raise typer.Exit(code)


def _serve(settings: Settings, host: str, on_gunicorn: bool) -> int:
    from bot.compose import (
        build_sender,
        configure_process,
        load_policies_on_start,
        serving_runtime,
    )
    from bot.config import cron_problem
    from bot.entrypoints.serve import slack_settings_problem

    configure_process(settings)
    problem = slack_settings_problem(settings) or cron_problem(
        settings.digest_cron, settings.timezone
    )
    if problem is not None:
        fail(problem, 2)
    with friendly_errors():
        # The sender starts first, as soon as the database is migrated and Slack took the
        # token: after a restart it resumes a fan-out while the policies folder, the Slack app
        # and the HTTP workers are still being loaded (bench/failover.py).
        rt, client = serving_runtime(settings, seed=False)
        _check_token(client)
        # The sender: in this process only, whatever the number of workers; stopped (giving up
        # the sender's lock) before the server closes, or here if it never started.
        scheduler = build_sender(rt)
        scheduler.start()
        try:
            loaded = load_policies_on_start(rt, drift=True)
            logging.getLogger("bot.entrypoints.serve").info("policies: %s", loaded.message)
            return _run_server(rt, client, scheduler, host, on_gunicorn)
        finally:
            scheduler.stop()


def _check_token(client: WebClient) -> None:
    """auth.test before anything is sent: a refused token or an unreachable Slack is one line."""
    from slack_sdk.errors import SlackApiError

    try:
        client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error")
        fail(f"cannot start the Slack app: Slack refused SLACK_BOT_TOKEN ({code})", 2)
    except OSError as error:  # URLError and socket errors: SLACK_API_URL does not answer
        fail(f"cannot start the Slack app: cannot reach Slack: {error}", 2)


def _run_server(
    rt: Runtime, client: WebClient, scheduler: Startable, host: str, on_gunicorn: bool
) -> int:
    from bot.compose import build_slack
    from bot.entrypoints.serve import StartError, default_workers, serve_with_workers
    from bot.entrypoints.serve import serve as run_server

    settings = rt.settings
    try:
        if on_gunicorn:
            # The workers build their own Slack apps; this process only sends.
            return serve_with_workers(
                settings,
                port=settings.port,
                host=host,
                workers=settings.workers or default_workers(),
                threads=settings.threads,
                background=[scheduler],
            )
        try:
            app = build_slack(rt, client)
        except Exception as error:  # auth.test refused the token or Slack was unreachable
            fail(f"cannot start the Slack app: {error}", 2)
        question_log = rt.service.question_log
        assert question_log is not None  # stop() writes what is still queued
        run_server(rt, app, port=settings.port, host=host, background=[question_log, scheduler])
    except StartError as error:
        fail(str(error), 2)
    return 0


@app.command("export-exceptions")
def export_exceptions(
    path: Annotated[
        Path | None, typer.Argument(metavar="[PATH]", help="A CSV file; default stdout.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """The auditors' export: every exception, who asked, who decided, when it started and ended."""
    from bot.adapters.files.csvfile import csv_text
    from bot.app.policy_exceptions import EXPORT_FIELDS, export_rows

    with friendly_errors():
        rt = runtime(database_url, seed=False, create=False)
        assert rt.desk is not None
        text = csv_text(EXPORT_FIELDS, export_rows(rt.desk.exceptions.listing()))
        if path is None:
            sys.stdout.write(text)
        else:
            path.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {path}")


@db_app.command("purge")
def db_purge(
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            metavar="DAYS",
            min=1,
            help="Keep this many days (default: $POLICYBOT_RETENTION_DAYS).",
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete logged questions older than the retention period."""
    import datetime as dt

    from bot.adapters.db import engines as db
    from bot.adapters.db.question_repo import QuestionRepository
    from bot.adapters.db.store import Store

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
    from bot.entrypoints.doctor import State, run_checks

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


@acks_app.command("export")
def acks_export(
    format: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="csv or json.", case_sensitive=False)
    ] = "csv",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """For auditors: person, version, acknowledged at, reminders sent; one row for every
    person in the audience of every announced version (as the audience was read)."""
    import json

    from bot.adapters.files.csvfile import csv_text
    from bot.app.versions import Versions

    kind = format.lower()
    if kind not in ("csv", "json"):
        fail(f"unknown format '{format}': use csv or json", 2)
    with friendly_errors():
        rt = runtime(database_url, seed=False, create=False)
        rows = Versions(rt.store).acks_export()
        records = [
            {
                "person": r.person,
                "version": f"v{r.version}",
                "acknowledged_at": r.acknowledged_at.isoformat() if r.acknowledged_at else "",
                "reminders_sent": r.reminders_sent,
                "audience": r.audience,
            }
            for r in rows
        ]
        if kind == "json":
            text = json.dumps(records, indent=2) + "\n"
        else:
            columns = ("person", "version", "acknowledged_at", "reminders_sent", "audience")
            text = csv_text(columns, records)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {len(records)} rows to {output}", err=True)


def main() -> None:
    """The `policybot` command: one line for any failure; the traceback only with --debug."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("policybot: interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # a bug or an error nobody foresaw: still one line
        if debug:
            import traceback

            traceback.print_exc()
        where = f" (using {_database_named()})" if _DATABASE_URL else ""
        typer.echo(
            f"policybot: {type(error).__name__}: {_first_line(error)}{where}; "
            "run again with --debug for the traceback",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The composition root: settings -> engine -> migrated database -> repositories -> services.

Everything the bot runs on is built here, by constructors, in one readable order; nothing
else sets attributes on objects built elsewhere. Reading `build_runtime` tells what a `set`
does: `PolicyChanges` checks `Permissions`, writes through `PolicyRepository`, adds the
announcement rows through `Announcements` in the same transaction, and after the commit
makes the `RegistrySnapshot` forget its copy (and the announcement step wakes the sender).
The snapshot reads questions with the words of `VocabularyFile` (the shipped ones and the
policies folder's `vocabulary.yaml`), rebuilt when that file changes.
`DueChanges` applies scheduled changes on their day, before the snapshot or a change reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.adapters.sender.runner import AnnouncementScheduler

from bot.adapters.db import engines as db
from bot.adapters.db.conversations import Conversations
from bot.adapters.db.event_repo import EventRepository
from bot.adapters.db.models import utcnow
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.question_writer import BatchedQuestionLog
from bot.adapters.db.store import Clock, Store
from bot.adapters.files.policyfile import PolicyFileError, load_audiences, load_policies
from bot.adapters.files.vocabularyfile import VocabularyFile
from bot.app.admin import Admin
from bot.app.announcements import AnnouncementConfig, Announcements
from bot.app.audiences import AudienceMembers, UserGroupReader
from bot.app.changes import Actor, DueChanges, ImportPolicies, Permissions, PolicyChanges
from bot.app.desk import Desk
from bot.app.drafts import DraftRepository, Drafts
from bot.app.feedback import Feedback
from bot.app.limits import RateLimiter
from bot.app.notices import Waker
from bot.app.plan import ImportPlan, plan_import
from bot.app.policy_exceptions import Exceptions, GroupMembers
from bot.app.runtime import PolicyLoad, Runtime
from bot.app.service import PolicyService, RegistrySnapshot
from bot.app.tool_requests import ToolRequests
from bot.app.unanswered import UnansweredQueue
from bot.app.unit_of_work import Handlers
from bot.app.versions import Versions
from bot.app.watches import Watches
from bot.config import Settings
from bot.domain.errors import PolicyError
from bot.domain.events import ChangeEvent

log = logging.getLogger(__name__)

SEED_AUTHOR = "policybot"


def build_runtime(
    settings: Settings,
    engine: sa.Engine,
    *,
    clock: Clock = utcnow,
    also_admin: Callable[[str], bool] | None = None,
    question_log: bool = False,
    group_members: GroupMembers | None = None,
    user_groups: UserGroupReader | None = None,
) -> Runtime:
    """Wire every part on `engine` (already migrated). `also_admin` adds admins (a Slack
    user group); `group_members` reads a Slack user group named as a tool's owner (who may
    decide its exceptions); `question_log` writes questions in batches off the request
    thread, and limits how often one person may ask (`POLICYBOT_QUESTIONS_PER_MINUTE`);
    `user_groups` reads the Slack user groups of audiences (listed members only without it)."""
    store = Store(engine, clock)
    zone = settings.zone
    policies = PolicyRepository(store)
    questions = QuestionRepository(store)
    events = EventRepository(store)
    permissions = Permissions(frozenset(settings.admins), also_admin)
    # One doorbell for the sender: everything that queues messages rings it after its commit;
    # the scheduler (bot/entrypoints/sender, when this process sends) listens.
    waker = Waker()
    versions = Versions(store)
    announcements = Announcements(
        store, policies, announcement_config(settings), versions, waker=waker
    )
    requests = ToolRequests(
        store,
        policies,
        per_day=settings.requests_per_day,
        admin_channel=settings.admin_channel,
        zone=zone,
        waker=waker,
    )
    exceptions = Exceptions(
        store,
        policies,
        max_days=settings.exception_max_days,
        reminder=settings.exception_reminder,
        per_day=settings.requests_per_day,
        admin_channel=settings.admin_channel,
        zone=zone,
        waker=waker,
        is_admin=permissions.is_admin,
        group_members=group_members,
    )
    watches = Watches(store, policies, zone=zone, waker=waker, per_hour=settings.watches_per_hour)
    # Who handles a change, inside its unit of work (their rows commit with it or not at
    # all), in this order: the version first, then what the version tells people. The same
    # for every change: a command, a form, an import, a draft, a scheduled change on its day.
    handlers: Handlers = {
        ChangeEvent: [
            versions.on_change,
            announcements.on_change,
            requests.on_change,
            exceptions.on_change,
            watches.on_change,
        ]
    }
    due = DueChanges(store, policies, zone, handlers=handlers)
    # The words questions are read with: the shipped ones and the policies folder's own.
    vocabulary = VocabularyFile(settings.policies_path)
    snapshot = RegistrySnapshot(policies, vocabulary.current, due)
    changes = PolicyChanges(
        store,
        policies,
        permissions,
        due=due,
        handlers=handlers,
        tz=zone,
        committed=[snapshot.forget],
    )
    # The draft of the next version: staged commands, replayed through `changes` on publish.
    drafts = Drafts(store, DraftRepository(store), changes)
    admin = Admin(policies, questions, changes, announcements=announcements, drafts=drafts, tz=zone)

    desk = Desk(
        requests=requests,
        exceptions=exceptions,
        watches=watches,
        feedback=Feedback(store, per_hour=settings.feedback_per_hour),
        unanswered=UnansweredQueue(store, waker=waker),
        is_admin=permissions.is_admin,
        admin=admin,
        registry=snapshot.get,
        zone=zone,
    )
    conversations = Conversations(
        engine, ttl=dt.timedelta(minutes=settings.context_minutes), clock=clock
    )
    service = PolicyService(
        snapshot,
        admin,
        questions,
        permissions,
        conversations,
        contact=settings.contact,
        log_askers=settings.log_askers,
        tz=zone,
        clock=clock,
        question_log=BatchedQuestionLog(questions) if question_log else None,
        desk=desk,
        # The server's people (Slack users) are limited; the CLI and the console are not.
        limiter=RateLimiter(settings.questions_per_minute, 60.0) if question_log else None,
        # Who is in which audience: listed members, then user groups read at most every
        # POLICYBOT_AUDIENCE_REFRESH_MINUTES (and after Slack says a group changed).
        members=AudienceMembers(
            user_groups, refresh_seconds=settings.audience_refresh_minutes * 60.0
        ),
    )
    return Runtime(
        settings,
        engine,
        store,
        policies,
        questions,
        events,
        permissions,
        changes,
        service,
        announcements,
        desk,
        waker,
        drafts=drafts,
    )


def load_policies_on_start(runtime: Runtime, *, drift: bool = False) -> PolicyLoad:
    """Load the policies folder into an empty registry; with POLICYBOT_SYNC_POLICIES, import
    it over the registry on every start (tools the folder no longer lists are removed).

    Otherwise the database is used as it is; with `drift`, the sentence says whether the
    folder differs from it.
    """
    settings, policies = runtime.settings, runtime.policies
    path = settings.policies_path
    empty = policies.generation() == 0 and not policies.policies()
    if not path.exists():
        if empty:
            log.warning("no policies folder at %s: starting with an empty registry", path)
        return PolicyLoad("none", f"no policies folder at {path}; using the database as it is")
    if not empty and not settings.sync_policies:
        message = "using the database as it is (POLICYBOT_SYNC_POLICIES is off)"
        if drift:
            message += "; " + drift_sentence(policies, path)
        return PolicyLoad("kept", message)
    try:
        report = runtime.changes.import_policies(
            ImportPolicies(
                tuple(load_policies(path)),
                prune=settings.sync_policies,
                quiet=empty,
                audiences=load_audiences(path),
            ),
            Actor(SEED_AUTHOR, "import", trusted=True),
        )
    except (PolicyFileError, PolicyError) as error:
        log.error("policies in %s were not loaded: %s", path, error)
        first = str(error).splitlines()[0]
        return PolicyLoad(
            "failed",
            f"{path} was NOT imported ({first}); using the database as it is: "
            f"run `policybot check {path}`",
        )
    if empty:
        log.info("loaded %d tools from %s", len(report.created), path)
        loaded = f"loaded {len(report.created)} tools from {path} into the new database"
        return PolicyLoad("seeded", loaded)
    counts = (
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged"
    )
    log.info("imported %s on start: %s", path, counts)
    return PolicyLoad("synced", f"imported {path} (POLICYBOT_SYNC_POLICIES=true): {counts}")


def drift_sentence(policies: PolicyRepository, path: Path) -> str:
    """Whether the files at `path` and the database hold the same tools, in one sentence."""
    try:
        plan = plan_import(policies.policies(), load_policies(path), prune=True)
    except PolicyFileError as error:
        return f"{path} has {len(error.problems)} problem(s): run `policybot check {path}`"
    except PolicyError as error:
        return f"{path} could not be imported as it is ({error}): run `policybot plan {path}`"
    if not plan.has_changes:
        return f"{path} matches the database"
    return (
        f"{path} differs from the database on {len(plan.changes)} tool(s) "
        f"({drift_names(plan)}): `policybot plan {path}` shows how"
    )


def drift_names(plan: ImportPlan, limit: int = 5) -> str:
    words = {"create": "only in the files", "remove": "only in the database"}
    shown = [
        f"{change.name}: {words.get(change.action) or ', '.join(change.changes)}"
        for change in plan.changes[:limit]
    ]
    more = len(plan.changes) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def open_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    seed: bool = True,
    drift: bool = False,
    also_admin: Callable[[str], bool] | None = None,
    question_log: bool = False,
    group_members: GroupMembers | None = None,
    user_groups: UserGroupReader | None = None,
) -> Runtime:
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade_if_behind(engine)
    runtime = build_runtime(
        settings,
        engine,
        also_admin=also_admin,
        question_log=question_log,
        group_members=group_members,
        user_groups=user_groups,
    )
    if seed:
        runtime = replace(runtime, policy_load=load_policies_on_start(runtime, drift=drift))
    return runtime


def announcement_config(settings: Settings) -> AnnouncementConfig:
    return AnnouncementConfig(
        channel=settings.announce_channel,
        admin_channel=settings.admin_channel,
        reminder_after=tuple(settings.reminder_after),
        max_reminders=settings.max_reminders,
        effective_reminders=tuple(settings.effective_reminders),
        zone=settings.zone,
    )


def build_sender(
    runtime: Runtime,
    *,
    client: WebClient | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    poll_seconds: float = 1.0,
    worker: str | None = None,
) -> AnnouncementScheduler:
    """The outbox sender of this process, rendering with the Slack adapter (not started)."""
    from bot.adapters.sender.runner import AnnouncementScheduler
    from bot.adapters.slack.announcements import OutboxRenderer
    from bot.domain.links import tool_pages

    settings = runtime.settings
    renderer = OutboxRenderer(settings.zone, tool_pages(settings.public_url))
    return AnnouncementScheduler(
        runtime, renderer, client=client, clock=clock, poll_seconds=poll_seconds, worker=worker
    )


# -- serving: the Slack app, the web app, the catalogue ---------------------------------


def open_serving_runtime(
    settings: Settings, *, migrate: bool = True, seed: bool = True, drift: bool = False
) -> tuple[Runtime, App]:
    """The composition root of a serving process (`policybot serve`, each gunicorn worker):
    the runtime and Web API client of `serving_runtime` and the Bolt app with every listener.
    Building the app calls auth.test (an exception if Slack refuses the token or cannot be
    reached)."""
    runtime, client = serving_runtime(settings, migrate=migrate, seed=seed, drift=drift)
    return runtime, build_slack(runtime, client)


def serving_runtime(
    settings: Settings, *, migrate: bool = True, seed: bool = True, drift: bool = False
) -> tuple[Runtime, WebClient]:
    """One Web API client, the admin group and owners' user groups read through it and the
    runtime (questions logged in batches off the request thread); no Bolt yet, so the sender
    can start before it."""
    from bot.adapters.sender.slackapi import SlackUserGroups
    from bot.adapters.slack.admins import AdminGroup, UserGroups
    from bot.adapters.slack.client import make_client

    client = make_client(settings)
    group = AdminGroup(client, settings.admin_group) if settings.admin_group else None
    runtime = open_runtime(
        settings,
        migrate=migrate,
        seed=seed,
        drift=drift,
        also_admin=group.is_member if group else None,
        question_log=True,
        group_members=UserGroups(client).members,
        user_groups=SlackUserGroups(client),
    )
    return runtime, client


def build_slack(runtime: Runtime, client: WebClient) -> App:
    """The Bolt app with every listener (calls auth.test)."""
    from bot.adapters.slack.app import build_app

    return build_app(runtime, client)


def build_web(runtime: Runtime, app: App | None) -> WSGIApplication:
    """The bot's WSGI app; `app` None in Socket Mode and for `policybot catalogue serve` (the
    port then has no /slack/events, and nothing of Slack is imported)."""
    # Imported here, as Bolt is: the `serve` process starts its sender before it needs them.
    from bot.adapters.web.gate import TurnGate
    from bot.adapters.web.wsgi import make_wsgi_app

    endpoint = None
    if app is not None:
        from bot.adapters.slack.guard import SlackEndpoint

        secret = runtime.settings.slack_signing_secret
        endpoint = SlackEndpoint(
            app,
            secret.get_secret_value() if secret else "",
            first_time=runtime.events.first_time_event,
        )
    # One request at a time computes in this process, first come first served
    # (bot/adapters/web/gate.py).
    return make_wsgi_app(runtime.engine, endpoint, build_catalogue(runtime), gate=TurnGate())


def build_catalogue(runtime: Runtime) -> WSGIApplication | None:
    """The catalogue app on the runtime's registry, or None when it is turned off."""
    settings = runtime.settings
    if not settings.catalogue:
        return None
    from bot.adapters.web.catalogue.app import catalogue_app

    return catalogue_app(
        runtime.service,
        runtime.policies,
        tz=settings.zone,
        public_url=settings.public_url,
        clock=runtime.service.clock,
        versions=runtime.announcements.versions,
        audience_titles=runtime.service.audience_titles,
    )


def configure_process(settings: Settings) -> None:
    """What every long-running process sets up first: logging, one line per event."""
    from bot.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)

"""The composition root: settings -> engine -> migrated database -> repositories -> services.

Everything the bot runs on is built here, by constructors, in one readable order; nothing
else sets attributes on objects built elsewhere. Reading `build_runtime` tells what a `set`
does: `PolicyChanges` checks `Permissions`, writes through `PolicyRepository`, adds the
announcement rows through `Announcements` in the same transaction, and after the commit
makes the `RegistrySnapshot` forget its copy (and the announcement step wakes the sender).
`DueChanges` applies scheduled changes on their day, before the snapshot or a change reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from bot.config import Settings
from bot.core import db
from bot.core.admin import Admin
from bot.core.announcements import AnnouncementConfig, Announcements
from bot.core.changes import Actor, DueChanges, ImportPolicies, Permissions, PolicyChanges
from bot.core.event_repo import EventRepository
from bot.core.models import utcnow
from bot.core.policy_repo import PolicyRepository
from bot.core.policyfile import load_policies
from bot.core.question_repo import QuestionRepository
from bot.core.questionlog import BatchedQuestionLog
from bot.core.service import PolicyService, RegistrySnapshot
from bot.core.store import Clock, Store

log = logging.getLogger(__name__)

SEED_AUTHOR = "policybot"


@dataclass
class Runtime:
    """Everything one process runs on, built once by `build_runtime`."""

    settings: Settings
    engine: sa.Engine
    store: Store
    policies: PolicyRepository
    questions: QuestionRepository
    events: EventRepository
    permissions: Permissions
    changes: PolicyChanges
    service: PolicyService
    announcements: Announcements


def build_runtime(
    settings: Settings,
    engine: sa.Engine,
    *,
    clock: Clock = utcnow,
    also_admin: Callable[[str], bool] | None = None,
    question_log: bool = False,
) -> Runtime:
    """Wire every part on `engine` (already migrated). `also_admin` adds admins (a Slack
    user group); `question_log` writes questions in batches off the request thread."""
    store = Store(engine, clock)
    policies = PolicyRepository(store)
    questions = QuestionRepository(store)
    events = EventRepository(store)
    announcements = Announcements(store, policies, announcement_config(settings))
    permissions = Permissions(frozenset(settings.admins), also_admin)
    due = DueChanges(store, policies, settings.zone)
    snapshot = RegistrySnapshot(policies, due)
    changes = PolicyChanges(
        store,
        policies,
        permissions,
        due=due,
        announcements=announcements,
        tz=settings.zone,
        committed=[snapshot.forget],
    )
    admin = Admin(policies, questions, changes, announcements=announcements, tz=settings.zone)
    service = PolicyService(
        snapshot,
        admin,
        questions,
        permissions,
        contact=settings.contact,
        log_askers=settings.log_askers,
        tz=settings.zone,
        clock=clock,
        question_log=BatchedQuestionLog(questions) if question_log else None,
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
    )


def seed_if_empty(runtime: Runtime) -> int:
    """On first start with an empty registry, load `policies/`; returns how many tools."""
    policies = runtime.policies
    if policies.generation() != 0 or policies.policies():
        return 0
    path = runtime.settings.policies_path
    if not path.exists():
        log.warning("no policies folder at %s: starting with an empty registry", path)
        return 0
    report = runtime.changes.import_policies(
        ImportPolicies(tuple(load_policies(path)), quiet=True),
        Actor(SEED_AUTHOR, "import", trusted=True),
    )
    log.info("loaded %d tools from %s", len(report.created), path)
    return len(report.created)


def open_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    seed: bool = True,
    also_admin: Callable[[str], bool] | None = None,
    question_log: bool = False,
) -> Runtime:
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    runtime = build_runtime(settings, engine, also_admin=also_admin, question_log=question_log)
    if seed:
        seed_if_empty(runtime)
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

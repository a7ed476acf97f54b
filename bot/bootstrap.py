"""Wiring shared by every entry point: settings -> engine -> migrated database -> services."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.config import Settings
from bot.core import db
from bot.core.announcements import AnnouncementConfig, Announcements
from bot.core.commands import Command
from bot.core.conversations import Conversations
from bot.core.desk import Desk
from bot.core.exceptions import Exceptions
from bot.core.feedback import Feedback
from bot.core.notices import Waker
from bot.core.plan import ImportPlan, plan_import
from bot.core.policyfile import PolicyFileError, load_policies
from bot.core.requests import ToolRequests
from bot.core.service import PolicyService
from bot.core.store import PolicyError, Store
from bot.core.unanswered import UnansweredQueue
from bot.core.watches import Watches

log = logging.getLogger(__name__)

SEED_AUTHOR = "policybot"


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    store: Store
    service: PolicyService
    announcements: Announcements | None = None
    desk: Desk | None = None
    policy_load: PolicyLoad | None = None


@dataclass(frozen=True)
class PolicyLoad:
    """What start-up did with the policies folder, as a sentence for whoever started the bot."""

    action: str  # "seeded", "synced", "kept", "none" or "failed"
    message: str


def load_policies_on_start(store: Store, settings: Settings, *, drift: bool = False) -> PolicyLoad:
    """Load the policies folder into an empty registry; with POLICYBOT_SYNC_POLICIES, import
    it over the registry on every start (tools the folder no longer lists are removed).

    Otherwise the database is used as it is; with `drift`, the sentence says whether the
    folder differs from it.
    """
    path = settings.policies_path
    empty = store.generation() == 0 and not store.policies()
    if not path.exists():
        if empty:
            log.warning("no policies folder at %s: starting with an empty registry", path)
        return PolicyLoad("none", f"no policies folder at {path}; using the database as it is")
    if not empty and not settings.sync_policies:
        message = "using the database as it is (POLICYBOT_SYNC_POLICIES is off)"
        if drift:
            message += "; " + drift_sentence(store, path)
        return PolicyLoad("kept", message)
    try:
        policies = load_policies(path)
        report = store.import_policies(
            policies, author=SEED_AUTHOR, prune=settings.sync_policies, quiet=empty
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


def drift_sentence(store: Store, path: Path) -> str:
    """Whether the files at `path` and the database hold the same tools, in one sentence."""
    try:
        plan = plan_import(store.policies(), load_policies(path), prune=True)
    except PolicyFileError as error:
        return f"{path} has {len(error.problems)} problem(s): run `policybot check {path}`"
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
    settings: Settings, *, migrate: bool = True, seed: bool = True, drift: bool = False
) -> Runtime:
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    store = Store(engine)
    service = PolicyService(
        store,
        contact=settings.contact,
        admins=frozenset(settings.admins),
        log_askers=settings.log_askers,
        tz=settings.zone,
        conversations=Conversations(engine, ttl=dt.timedelta(minutes=settings.context_minutes)),
    )
    announcements = install_announcements(store, service, settings)
    desk = install_desk(store, service, settings, announcements)
    # After the announcements are wired, so that a sync announces what changed in the files.
    load = load_policies_on_start(store, settings, drift=drift) if seed else None
    return Runtime(settings, engine, store, service, announcements, desk, load)


def install_announcements(
    store: Store, service: PolicyService, settings: Settings
) -> Announcements:
    """Announce material changes: the listener runs in the writing transaction, so a change
    and its announcement commit together or not at all."""
    announcements = Announcements(store, announcement_config(settings))
    store.listeners.append(announcements.on_change)
    service.admin.announcements = announcements
    return announcements


def announcement_config(settings: Settings) -> AnnouncementConfig:
    return AnnouncementConfig(
        channel=settings.announce_channel,
        admin_channel=settings.admin_channel,
        reminder_after=tuple(settings.reminder_after),
        max_reminders=settings.max_reminders,
        effective_reminders=tuple(settings.effective_reminders),
        zone=settings.zone,
    )


def install_desk(
    store: Store, service: PolicyService, settings: Settings, announcements: Announcements
) -> Desk:
    """Requests, exceptions, watches, feedback and the unanswered queue. Their listeners run
    in the writing transaction, so a change and the DMs it causes commit together."""
    waker = Waker(lambda: announcements.wake)
    zone = settings.zone
    requests = ToolRequests(
        store,
        per_day=settings.requests_per_day,
        admin_channel=settings.admin_channel,
        zone=zone,
        waker=waker,
    )
    exceptions = Exceptions(
        store,
        max_days=settings.exception_max_days,
        reminder=settings.exception_reminder,
        per_day=settings.requests_per_day,
        admin_channel=settings.admin_channel,
        zone=zone,
        waker=waker,
        is_admin=service.is_admin,
    )
    watches = Watches(store, zone=zone, waker=waker)
    store.listeners += [requests.on_change, exceptions.on_change, watches.on_change]

    def execute(command: Command, user: str, source: str) -> tuple[bool, str]:
        reply = service.execute(command, user=user, source=source)
        return reply.kind == "admin", reply.text

    desk = Desk(
        requests=requests,
        exceptions=exceptions,
        watches=watches,
        feedback=Feedback(store),
        unanswered=UnansweredQueue(store, waker=waker),
        is_admin=service.is_admin,
        execute=execute,
        registry=service.registry,
        zone=zone,
    )
    service.desk = desk
    return desk

"""Wiring shared by every entry point: settings -> engine -> migrated database -> services."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

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
from bot.core.policyfile import load_policies
from bot.core.requests import ToolRequests
from bot.core.service import PolicyService
from bot.core.store import Store
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


def seed_if_empty(store: Store, settings: Settings) -> int:
    """On first start with an empty registry, load `policies/`; returns how many tools."""
    if store.generation() != 0 or store.policies():
        return 0
    path = settings.policies_path
    if not path.exists():
        log.warning("no policies folder at %s: starting with an empty registry", path)
        return 0
    report = store.import_policies(load_policies(path), author=SEED_AUTHOR, quiet=True)
    log.info("loaded %d tools from %s", len(report.created), path)
    return len(report.created)


def open_runtime(settings: Settings, *, migrate: bool = True, seed: bool = True) -> Runtime:
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    store = Store(engine)
    if seed:
        seed_if_empty(store, settings)
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
    return Runtime(settings, engine, store, service, announcements, desk)


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

"""Wiring shared by every entry point: settings -> engine -> migrated database -> services."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from bot.config import Settings
from bot.core import db
from bot.core.announcements import AnnouncementConfig, Announcements
from bot.core.conversations import Conversations
from bot.core.policyfile import load_policies
from bot.core.service import PolicyService
from bot.core.store import Store

log = logging.getLogger(__name__)

SEED_AUTHOR = "policybot"


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    store: Store
    service: PolicyService
    announcements: Announcements | None = None


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
    return Runtime(settings, engine, store, service, announcements)


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

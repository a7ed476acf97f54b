"""What one process runs on: the repositories and services `bot.compose` builds once.

The driving adapters (Slack, web, the sender) are handed a `Runtime`; they never build one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot.adapters.db.event_repo import EventRepository
from bot.adapters.db.policy_repo import PolicyRepository
from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.store import Store
from bot.app.announcements import Announcements
from bot.app.changes import Permissions, PolicyChanges
from bot.app.desk import Desk
from bot.app.drafts import Drafts
from bot.app.notices import Waker
from bot.app.service import PolicyService
from bot.config import Settings


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
    desk: Desk
    waker: Waker
    policy_load: PolicyLoad | None = None
    drafts: Drafts | None = None


@dataclass(frozen=True)
class PolicyLoad:
    """What start-up did with the policies folder, as a sentence for whoever started the bot."""

    action: str  # "seeded", "synced", "kept", "none" or "failed"
    message: str

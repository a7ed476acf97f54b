"""The audit trail of requests, exceptions and the unanswered queue: who did what, when.

Registry changes keep their own history (`Revision`); everything issue 16 adds that someone
decides or that happens by itself (an expiry) is an `AuditEvent`, written in the same
transaction as what it records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.adapters.db.models import AuditEvent

SYSTEM = "policybot"  # the actor of what happens by itself (expiry, a policy change's effect)


@dataclass(frozen=True)
class AuditView:
    at: dt.datetime
    actor: str
    action: str
    subject: str
    tool: str | None
    details: dict[str, Any]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    at: dt.datetime,
    tool_key: str | None = None,
    tool_name: str | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            tool_key=tool_key,
            tool_name=tool_name,
            details={k: v for k, v in details.items() if v is not None},
        )
    )


def events(
    engine: sa.Engine,
    *,
    subject: str | None = None,
    tool_key: str | None = None,
    limit: int = 200,
) -> list[AuditView]:
    """Audit events, oldest first, for one subject (E7, R3) or one tool, or the latest ones."""
    query = select(AuditEvent)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    if tool_key is not None:
        query = query.where(AuditEvent.tool_key == tool_key)
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)).all()
    return [
        AuditView(r.at, r.actor, r.action, r.subject, r.tool_name, dict(r.details or {}))
        for r in reversed(rows)
    ]


def describe(event: AuditView, tz: dt.tzinfo) -> str:
    when = event.at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    extra = "; ".join(f"{k}: {v}" for k, v in event.details.items())
    tool = f" {event.tool}" if event.tool else ""
    return f"{when}  {event.subject} {event.action}{tool} by {event.actor}" + (
        f" ({extra})" if extra else ""
    )

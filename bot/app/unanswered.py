"""The unanswered queue: questions that found no policy, grouped by the term they asked about.

Admins work it from Slack or the console: make the term an alias of a tool or add it as a tool
(both through the ordinary commands, so the registry has one write path), or answer the people
who asked. A term leaves the queue once the registry covers it or an admin answered it; it
comes back if asked again after the answer.

Who asked is known only for people who asked for a review (their request is on the record)
and, with POLICYBOT_LOG_ASKERS=true, for everyone in the question log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.adapters.db import audit
from bot.adapters.db.models import HandledTerm, QuestionLog, ToolRequest, ToolRequestAsker
from bot.adapters.db.store import Store
from bot.app.notices import Notice, Waker, queue_notice
from bot.domain.answers import Registry
from bot.domain.errors import PolicyError
from bot.domain.names import name_key

ADD_ALIAS_ACTION = "policybot_term_alias"
ADD_TOOL_ACTION = "policybot_term_add"
ANSWER_TERM_ACTION = "policybot_term_answer"
# How many recent unanswered questions the queue reads (it groups them in memory).
WINDOW = 5000


@dataclass(frozen=True)
class TermGroup:
    term: str
    key: str
    count: int
    last_asked: dt.datetime
    examples: tuple[str, ...]
    askers: tuple[str, ...]  # people known to have asked (see the module docstring)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


@dataclass
class _Tally:
    term: str
    count: int = 0
    last: dt.datetime | None = None
    examples: list[str] = field(default_factory=list)
    askers: set[str] = field(default_factory=set)

    def add(self, question: str, at: dt.datetime, asker: str | None) -> None:
        self.count += 1
        self.last = max(at, self.last) if self.last else at
        if len(self.examples) < 3 and question not in self.examples:
            self.examples.append(question)
        if asker:
            self.askers.add(asker)

    def add_requester(self, user: str, at: dt.datetime) -> None:
        self.askers.add(user)
        self.count = max(self.count, len(self.askers))
        self.last = max(at, self.last) if self.last else at

    def group(self, key: str) -> TermGroup:
        assert self.last is not None
        return TermGroup(
            self.term, key, self.count, self.last, tuple(self.examples), tuple(sorted(self.askers))
        )


class UnansweredQueue:
    def __init__(self, store: Store, *, waker: Waker | None = None) -> None:
        self.store = store
        self.waker = waker

    def groups(self, registry: Registry, limit: int = 20) -> list[TermGroup]:
        """Terms asked about with no policy, most asked first."""
        covered = {name_key(p.name) for p in registry} | {
            name_key(a) for p in registry for a in p.aliases
        }
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(QuestionLog.question, QuestionLog.asked_at, QuestionLog.asker)
                .where(col(QuestionLog.answered).is_(False))
                .order_by(col(QuestionLog.id).desc())
                .limit(WINDOW)
            ).all()
            handled = {
                h.term_key: _aware(h.handled_at) for h in session.exec(select(HandledTerm)).all()
            }
            requests = session.exec(
                select(
                    ToolRequest.tool_key,
                    ToolRequest.tool_name,
                    ToolRequestAsker.user_id,
                    ToolRequestAsker.asked_at,
                )
                .join(ToolRequestAsker, col(ToolRequestAsker.request_id) == col(ToolRequest.id))
                .where(ToolRequest.status == "open")
            ).all()
        grouped: dict[str, _Tally] = {}
        for question, asked_at, asker in rows:
            found = registry.matcher.find(question)
            if found.mentions:
                continue  # the registry answers it now (the tool was added or aliased)
            # "the Claude API" is the product asked about, not the words around it.
            product = found.variants[0].product if found.variants else ""
            term = product or found.topic or question.strip(" ?!.")
            key = name_key(term)
            if not key or key in covered:
                continue
            if key in handled and _aware(asked_at) <= handled[key]:
                continue
            tally = grouped.setdefault(key, _Tally(term))
            tally.add(question, _aware(asked_at), asker)
        for key, name, user, asked_at in requests:
            if key not in covered:
                grouped.setdefault(key, _Tally(name)).add_requester(user, _aware(asked_at))
        result = [tally.group(key) for key, tally in grouped.items()]
        result.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.key))
        return result[:limit]

    def answer(self, term: str, text: str, askers: tuple[str, ...], *, user: str) -> int:
        """Send `text` to the people known to have asked about `term`; the term leaves the
        queue (until asked again). Returns how many were told."""
        text = text.strip()[:3000]
        term = " ".join(term.split())[:200]
        if not term or not text:
            raise PolicyError("Give the term and the answer: answer <term>: <text>")
        key = name_key(term)
        now = self.store.clock()
        with self.store.session() as session:
            row = session.get(HandledTerm, key)
            if row is None:
                row = HandledTerm(term_key=key, term=term, action="answer", handled_by=user)
            row.note, row.handled_by, row.handled_at, row.action = text, user, now, "answer"
            session.add(row)
            for request in session.exec(
                select(ToolRequest).where(ToolRequest.tool_key == key, ToolRequest.status == "open")
            ).all():
                request.status = "answered"
                request.decided_at, request.decided_by, request.decision_reason = now, user, text
                session.add(request)
            audit.record(
                session,
                actor=user,
                action="term.answered",
                subject=f"term:{key}"[:40],
                at=now,
                tool_key=key,
                tool_name=term,
                answer=text,
                told=len(askers),
            )
            queue_notice(
                session,
                Notice(
                    f"About your question on {term}",
                    (f"The policy admins answered: {text}",),
                    topic="queue",
                ),
                askers,
                author=user,
                now=now,
            )
            if askers and self.waker is not None:
                self.waker.after_commit(session)
        return len(set(askers))

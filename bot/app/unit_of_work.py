"""One transaction of the write path, and what it collects until it commits.

Every change to the registry — a command, a form, an import, a published draft, a scheduled
change on its day — runs in a `UnitOfWork`: the database session, the policy version the
transaction writes into, the announcement it is building, the change events it has seen.
Each change event is handed to the handlers subscribed to it in one map (`Handlers`, built
by `bot.compose`), inside the transaction, so their rows commit with the change or not at
all. Work a handler wants done once, after every change of the transaction (the watchers'
DMs), is registered with `before_commit`; effects for after the commit with `after_commit`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlmodel import Session

from bot.adapters.db.store import Store, after_commit
from bot.domain.events import ChangeEvent

if TYPE_CHECKING:
    from bot.adapters.db.models import Announcement, PolicyVersion

_T = TypeVar("_T")
Handler = Callable[["UnitOfWork", ChangeEvent], object]
# Event type -> its handlers, in the order they run (the version first).
Handlers = Mapping[type[ChangeEvent], Sequence[Handler]]


@dataclass
class OpenVersion:
    """The policy version this transaction writes into, and the changes placed in it."""

    row: PolicyVersion
    items: list[dict[str, Any]] = field(default_factory=list)
    # When its changes were made: their revisions carry these times until they join it.
    times: set[dt.datetime] = field(default_factory=set)
    source: str = ""  # the latest change's, which the summary names


@dataclass
class UnitOfWork:
    """A transaction of the write path and its collected state."""

    session: Session
    handlers: Handlers
    # A trial (a draft checked against the registry) is rolled back: no handler runs.
    trial: bool = False
    events: list[ChangeEvent] = field(default_factory=list)
    version: OpenVersion | None = None
    # The announcement of this transaction's version, the items it lists, and the dates it
    # already counts down to (one countdown per date).
    announcement: Announcement | None = None
    announced: list[dict[str, Any]] = field(default_factory=list)
    countdowns: set[dt.date] = field(default_factory=set)
    _finishers: list[Callable[[UnitOfWork], None]] = field(default_factory=list)
    _read: dict[object, Any] = field(default_factory=dict)

    def publish(self, event: ChangeEvent) -> None:
        """A change happened in this transaction: every subscribed handler takes it now."""
        self.events.append(event)
        if self.trial:
            return
        for handler in self.handlers.get(type(event), ()):
            handler(self, event)

    def read_once(self, key: object, read: Callable[[Session], _T]) -> _T:
        """`read(session)`, read the first time a handler asks in this transaction and kept:
        rows a handler looks through for every change (an import has thousands) but that
        the transaction's changes do not add to. The handler sees the same ORM objects, so
        what it changes in them, it sees."""
        if key not in self._read:
            self._read[key] = read(self.session)
        return cast(_T, self._read[key])

    def before_commit(self, finish: Callable[[UnitOfWork], None]) -> None:
        """Run `finish` once, after the transaction's last change and before it commits."""
        if finish not in self._finishers:
            self._finishers.append(finish)

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Run `effect` once the transaction has committed (never after a rollback)."""
        after_commit(self.session, effect)

    def finish(self) -> None:
        for finish in self._finishers:
            finish(self)


@contextmanager
def unit_of_work(store: Store, handlers: Handlers, *, trial: bool = False) -> Iterator[UnitOfWork]:
    """A transaction of the write path: committed when the block ends, rolled back if it
    raises; the `before_commit` work runs first."""
    with store.session() as session:
        uow = UnitOfWork(session, handlers, trial=trial)
        yield uow
        uow.finish()

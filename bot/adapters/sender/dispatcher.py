"""Sends what is due: expands reminder steps, reconciles stale claims, fans deliveries out.

`run_once()` does everything due now and returns when it is done (tests call it directly; the
scheduler calls it on every tick and whenever a change is committed). Rows are claimed only
for free sending threads (never more claims than threads), handed to a thread pool whose
threads all take turns from one `Pacer`, and marked sent in the next claim's transaction.
The order for one row is always: claim (commit) -> post -> mark sent (commit), so a crash
anywhere leaves a row that is either pending (never posted) or claimed (perhaps posted:
reconciled against Slack's history before any resend).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.error import URLError

import sqlalchemy as sa
from slack_sdk.errors import SlackApiError

from bot.adapters.db.announcement_views import AnnouncementView
from bot.adapters.db.models import utcnow
from bot.adapters.db.outbox import Due, Outbox, Sent, Step, StepAlreadyDone, family
from bot.adapters.sender.pacing import Pacer
from bot.adapters.sender.ports import OutboxMessage
from bot.adapters.sender.slackapi import SlackGateway, delivery_metadata
from bot.metrics import ANNOUNCEMENTS_FAILED, ANNOUNCEMENTS_SENT

log = logging.getLogger(__name__)

Render = Callable[[AnnouncementView, str], OutboxMessage]
# Several announcements in one message: a person's reminder, a day's countdowns.
RenderMany = Callable[[list[tuple[AnnouncementView, str]]], OutboxMessage]

# History is searched from a little before the claim, in case Slack's clock runs behind ours.
CLOCK_SKEW = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(minutes=15)


def backoff(attempts: int) -> dt.timedelta:
    """10s, 20s, 40s, ... up to 15 minutes before the next try."""
    return min(dt.timedelta(seconds=10 * 2**attempts), MAX_BACKOFF)


def kind_label(kind: str) -> str:
    """'reminder-2' -> 'reminder', for metric labels of bounded cardinality."""
    return kind.split("-", 1)[0]


class Dispatcher:
    """Delivers due outbox rows through Slack, concurrently and at the pace Slack allows."""

    def __init__(
        self,
        outbox: Outbox,
        gateway: SlackGateway,
        render: Render,
        *,
        render_many: RenderMany | None = None,
        pacer: Pacer,
        clock: Callable[[], dt.datetime] = utcnow,
        claim_timeout: dt.timedelta = dt.timedelta(minutes=2),
        max_attempts: int = 5,
        concurrency: int = 8,
        may_send: Callable[[], bool] = lambda: True,
        claim_guard: Callable[[], sa.ColumnElement[bool] | None] = lambda: None,
        reconcile_others_at_once: bool = False,
        due_jobs: Sequence[Callable[[dt.datetime], object]] = (),
        narrow: Callable[[int, list[str]], list[str]] | None = None,
    ) -> None:
        self.outbox = outbox
        # An announcement for some audiences only reaches their members (None: everyone).
        self.narrow = narrow
        self.gateway = gateway
        self.render = render
        self.render_many = render_many
        self.pacer = pacer
        self.clock = clock
        self.claim_timeout = claim_timeout
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.may_send = may_send  # leadership: checked again right before every post
        self.claim_guard = claim_guard  # leadership again, inside each claim's transaction
        # True under a lock that died with its holder: any claim not ours is a dead one's.
        self.reconcile_others_at_once = reconcile_others_at_once
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="policybot-send")
        self._stop = threading.Event()
        self._lock = threading.Condition()
        self._in_flight: set[int] = set()
        self._sent: list[Sent] = []
        self._cache: dict[int, AnnouncementView] = {}
        self.found_in_history = 0  # stale claims whose message Slack already had
        # Jobs that turn time passing into outbox rows (exception reminders and expiries),
        # run by the sender at the start of every round.
        self.due_jobs = tuple(due_jobs)

    # -- the loop ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Expand due steps, reconcile stale claims, send every due row; returns rows handled."""
        if self._stop.is_set() or not self.may_send():
            return 0
        for job in self.due_jobs:
            try:
                job(self.clock())
            except Exception:
                log.exception("a due job failed; trying again next round")
        self.expand_steps()
        handled = self.reconcile_stale()
        # A row is claimed only when a sending thread is free for it, so claims never run
        # ahead of the senders and a crash leaves at most `concurrency` of them. Refilling a
        # few slots at a time, in the transaction that marks the finished ones sent, keeps the
        # commits to a few per `concurrency` messages.
        refill = max(1, self.concurrency // 2)
        while not self._stop.is_set() and self.may_send():
            self._wait_for_slots(refill)
            with self._lock:
                marks, self._sent = self._sent, []
                free = self.concurrency - (len(self._in_flight) - len(marks))
            try:
                batch = self.outbox.claim_due(
                    self.clock(), free, guard=self.claim_guard(), sent=marks
                )
            except Exception:
                with self._lock:
                    self._sent[:0] = marks  # not recorded: try again with the next round
                raise
            self._marked(marks)
            handled += len(batch)
            for due in batch:
                self._submit(due, self._deliver)
            if not batch:
                break
        self._wait_until(lambda: not self._in_flight)
        return handled

    def stop(self) -> None:
        """Stop sending: queued rows are given back as pending, sent ones are recorded."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=False)
        self._flush()

    def _submit(self, due: Due, work: Callable[[Due], None]) -> None:
        with self._lock:
            self._in_flight.add(due.id)
        try:
            self._pool.submit(self._guarded, work, due)
        except RuntimeError:  # the pool is shut down: we are stopping
            self._release(due)

    def _guarded(self, work: Callable[[Due], None], due: Due) -> None:
        try:
            work(due)
        except Exception:
            # The claim stays; the reconcile after the claim timeout decides what happened.
            log.exception("delivery %s failed unexpectedly", due.id)
            self._forget(due)

    def _wait_for_slots(self, wanted: int) -> None:
        """Until `wanted` threads are free (finished rows count as free: marked next)."""
        with self._lock:
            while len(self._in_flight) - len(self._sent) > self.concurrency - wanted:
                if self._stop.is_set():
                    return
                self._lock.wait(timeout=0.05)

    def _wait_until(self, condition: Callable[[], bool]) -> None:
        while True:
            with self._lock:
                if condition():
                    break
                self._lock.wait(timeout=0.05)
            self._flush()
        self._flush()

    # -- steps ------------------------------------------------------------------------------

    def expand_steps(self) -> None:
        """Turn due 'read the audience / remind' steps into per-person delivery rows."""
        steps = self.outbox.due_steps(self.clock())
        # After downtime several reminders of one announcement may be due: send only the last.
        last = {s.announcement_id: s for s in steps if s.kind.startswith("reminder-")}
        for step in steps:
            if step.kind.startswith("reminder-") and last[step.announcement_id] is not step:
                self._skip_step(step)
                continue
            try:
                members = self.gateway.members(step.channel)
            except (SlackApiError, URLError, OSError) as error:
                log.warning("cannot read the members of %s: %s; trying again", step.channel, error)
                continue
            if self.narrow is not None:
                members = self.narrow(step.announcement_id, list(members))
            try:
                queued = self.outbox.expand_step(step, members, self.clock())
            except StepAlreadyDone:
                continue
            log.info(
                "step %s of announcement %s: %d members, %d to remind",
                step.kind,
                step.announcement_id,
                len(members),
                queued,
            )

    def _skip_step(self, step: Step) -> None:
        with contextlib.suppress(StepAlreadyDone):
            self.outbox.expand_step(step, [], self.clock())

    # -- one delivery -----------------------------------------------------------------------

    def _deliver(self, due: Due) -> None:
        view = self._announcement(due.announcement_id)
        if view is None:
            self._give_up(due, "announcement is gone")
            return
        message = self._message(due, view)
        if message is None:
            self._skip(due, "acknowledged")
            return
        metadata = delivery_metadata(due.id, due.announcement_id, due.kind)
        while True:
            if self._stop.is_set() or not self.may_send():
                self._release(due)
                return
            if not self.pacer.wait(self._stop):
                self._release(due)
                return
            if not self.may_send():
                self._release(due)
                return
            outcome = self.gateway.post(due.recipient, message, metadata)
            if outcome.status == "rate_limited":
                self.pacer.rate_limited(outcome.retry_after)
                continue
            break
        if outcome.status == "sent":
            self.pacer.succeeded()
            self._record_sent(due, outcome.channel, outcome.ts)
        elif outcome.status == "failed":
            self._give_up(due, outcome.error)
        elif outcome.status == "unknown":
            log.warning(
                "delivery %s: outcome unknown (%s); reconciling later", due.id, outcome.error
            )
            self._forget(due)
        elif outcome.status == "check" and self._found(due, due.claimed_at):
            return
        else:
            self._retry(due, outcome.error)

    def _message(self, due: Due, view: AnnouncementView) -> OutboxMessage | None:
        """The row's message: a reminder lists everything its person still owes; a countdown
        post lists every countdown of the day; None when nothing is left to remind of."""
        group = family(due.kind)
        items = [(view, due.kind)]
        if group == "reminder" and due.recipient[:1] in ("U", "W"):
            owes = due.owes if due.owes is not None else self.outbox.owed(due.recipient)
            if not owes:
                return None  # acknowledged everything since the round began
            owed = [self._announcement(i) for i in owes]
            items = [(v, due.kind) for v in owed if v is not None] or items
        elif group is not None:
            for announcement_id, kind in due.gathered:
                other = self._announcement(announcement_id)
                if other is not None:
                    items.append((other, kind))
        if len(items) == 1 or self.render_many is None:
            return self.render(items[0][0], items[0][1])
        return self.render_many(items)

    def _skip(self, due: Due, reason: str) -> None:
        self.outbox.skip(due.id, reason)
        self._forget(due)

    def _found(self, due: Due, claimed_at: dt.datetime | None) -> bool:
        """Look for the delivery in Slack; record it as sent if it is there."""
        since = (claimed_at or self.clock()) - CLOCK_SKEW
        found = self.gateway.find_delivery(due, since)
        if found is None:
            return False
        self._record_sent(due, *found)
        return True

    def _record_sent(self, due: Due, channel: str, ts: str) -> None:
        ANNOUNCEMENTS_SENT.labels(kind_label(due.kind)).inc()
        with self._lock:
            self._sent.append(
                Sent(due.id, channel, ts, self.clock(), due.announcement_id, due.kind)
            )
            self._lock.notify_all()

    def _retry(self, due: Due, error: str) -> None:
        if due.attempts + 1 >= self.max_attempts:
            self._give_up(due, error)
            return
        self.outbox.retry_later(due.id, error, self.clock() + backoff(due.attempts))
        self._forget(due)

    def _give_up(self, due: Due, error: str) -> None:
        log.warning("delivery %s to %s failed: %s", due.id, due.recipient, error)
        ANNOUNCEMENTS_FAILED.labels(kind_label(due.kind)).inc()
        self.outbox.mark_failed(due.id, error)
        self._forget(due)

    def _release(self, due: Due) -> None:
        self.outbox.release([due.id])
        self._forget(due)

    def _forget(self, due: Due) -> None:
        with self._lock:
            self._in_flight.discard(due.id)
            self._lock.notify_all()

    def _flush(self) -> None:
        """Record the sent rows collected so far, in one transaction."""
        with self._lock:
            marks, self._sent = self._sent, []
        if not marks:
            return
        try:
            self.outbox.mark_sent(marks)
        except Exception:
            with self._lock:
                self._sent[:0] = marks
            raise
        self._marked(marks)

    def _marked(self, marks: list[Sent]) -> None:
        if not marks:
            return
        with self._lock:
            for mark in marks:
                self._in_flight.discard(mark.id)
            self._lock.notify_all()

    def _announcement(self, announcement_id: int) -> AnnouncementView | None:
        view = self._cache.get(announcement_id)
        if view is None:
            view = self.outbox.announcement(announcement_id)
            if view is not None:
                self._cache[announcement_id] = view
        return view

    # -- stale claims -----------------------------------------------------------------------

    def reconcile_stale(self) -> int:
        """Unfinished claims of a dead holder (at once, under a lock) or our own older than the
        claim timeout: mark sent what Slack has, send what it has not."""
        now = self.clock()
        with self._lock:
            mine = set(self._in_flight)
        claims = self.outbox.stale_claims(
            now, self.claim_timeout, others_at_once=self.reconcile_others_at_once
        )
        stale = [d for d in claims if d.id not in mine]
        for old in stale:
            due = self.outbox.reclaim(old, now)
            if due is not None:
                self._submit(due, functools.partial(self._reconcile_one, old))
        if stale:
            found_before = self.found_in_history
            self._wait_until(lambda: not self._in_flight)
            found = self.found_in_history - found_before
            log.info(
                "reconciled %d unfinished claims: %d were already in Slack, %d sent now",
                len(stale),
                found,
                len(stale) - found,
            )
        return len(stale)

    def _reconcile_one(self, old: Due, due: Due) -> None:
        try:
            if self._found(due, old.claimed_at):
                with self._lock:
                    self.found_in_history += 1
                return
        except (SlackApiError, URLError, OSError) as error:
            log.warning("cannot check delivery %s in Slack: %s; later", due.id, error)
            self._forget(due)  # stays claimed; the next reconcile round tries again
            return
        self._deliver(due)

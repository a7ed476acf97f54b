"""APScheduler wiring: the outbox tick, the weekly digest and the daily purge.

APScheduler only drives the timing; what to send lives in the database. Every tick the process
takes or confirms the sender lock (`leader.py`); only its holder expands steps and sends, so
several replicas (or gunicorn workers) on one database never send twice, and when the holder
dies another takes over at its next tick and reconciles the dead one's claims at once. A tick
(or a committed change) starts one drain on a background thread; a tick that comes while one
runs asks it to go round once more.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.adapters.db.outbox import Outbox
from bot.adapters.sender.dispatcher import Dispatcher
from bot.adapters.sender.leader import sender_lock
from bot.adapters.sender.pacing import Pacer
from bot.adapters.sender.ports import Renderer
from bot.adapters.sender.slackapi import SlackGateway, SlackUserGroups, make_client
from bot.app.audiences import AudienceMembers
from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

# A standby waits on the sender lock this long at a time (then checks it is not stopping).
LOCK_WAIT_SECONDS = 1.0
# Processed Slack event ids only guard against Slack's re-sends, which come within minutes.
EVENT_RETENTION = dt.timedelta(days=2)


def worker_name() -> str:
    """Unique per process, readable in the database: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class AnnouncementScheduler:
    """The running scheduler of one process; `start()` then `stop()`."""

    def __init__(
        self,
        runtime: Runtime,
        renderer: Renderer,
        *,
        client: WebClient | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        poll_seconds: float = 1.0,
        worker: str | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.settings = settings
        self.clock = clock or runtime.store.clock
        self.poll_seconds = poll_seconds
        self.worker = worker or worker_name()
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        self.client = client or make_client(token, settings.slack_api_url)
        self.lock = sender_lock(runtime.store, self.worker, settings.lease_ttl, clock=self.clock)
        self.outbox = Outbox(runtime.store, self.worker)
        self.pacer = Pacer(settings.send_rate)
        # Who is in an audience, for announcements of changes made for audiences only.
        audiences = AudienceMembers(
            SlackUserGroups(self.client),
            refresh_seconds=settings.audience_refresh_minutes * 60.0,
        )
        self.dispatcher = Dispatcher(
            self.outbox,
            SlackGateway(self.client),
            renderer.delivery,
            render_many=renderer.gathered,
            pacer=self.pacer,
            clock=self.clock,
            claim_timeout=settings.claim_timeout,
            max_attempts=settings.send_attempts,
            concurrency=settings.send_concurrency,
            may_send=self.lock.holds,
            claim_guard=self.lock.claim_guard,
            reconcile_others_at_once=self.lock.exclusive,
            # Exception reminders and expiries become outbox rows as time passes.
            due_jobs=[runtime.desk.exceptions.sweep],
            narrow=lambda announcement, members: runtime.announcements.audience_members(
                announcement, members, audiences
            ),
        )
        self._scheduler = BackgroundScheduler(timezone=settings.zone)
        self._lock = threading.Lock()
        self._drain_thread: threading.Thread | None = None
        self._again = False
        self._stopped = False
        self._caught_up = False  # the missed-digest check runs once, when the lock is ours
        # Only one thread at a time asks for the lock: the tick, or the standby thread.
        self._lock_guard = threading.Lock()
        self._standby: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the jobs; the first tick (lock, reconcile, send) runs at once. Idempotent:
        `policybot serve` starts the sender early and hands it to the server to stop."""
        if self._scheduler.running or self._stopped:
            return
        zone = self.settings.zone
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.poll_seconds, timezone=zone),
            id="outbox",
            max_instances=1,
            coalesce=True,
            next_run_time=dt.datetime.now(zone),
        )
        self._scheduler.add_job(
            self.send_digest,
            CronTrigger.from_crontab(self.settings.digest_cron, timezone=zone),
            id="digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
        self._scheduler.add_job(
            self.purge,
            CronTrigger(hour=3, minute=30, timezone=zone),
            id="purge",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
        self.runtime.waker.listen(self.kick)
        # A tick a second would fill the log with "Running job ..." lines.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self._scheduler.start()
        log.info("scheduler started", extra={"worker": self.worker})

    def stop(self) -> None:
        """Stop the jobs, let in-flight sends finish and record them, give up the lock.
        Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread, standby = self._drain_thread, self._standby
        self.runtime.waker.listen(None)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.dispatcher.stop()
        if thread is not None:
            thread.join(timeout=30)
        if standby is not None:
            standby.join(timeout=LOCK_WAIT_SECONDS + 5)
        with self._lock_guard:
            self.lock.release()
        log.info("scheduler stopped", extra={"worker": self.worker})

    # -- jobs -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Confirm the sender lock and drain what is due; without it, stand by on the lock."""
        if not self._lock_guard.acquire(blocking=False):
            return  # the standby thread is waiting on the lock
        try:
            held = self.lock.acquire()
        finally:
            self._lock_guard.release()
        if not held:
            self._stand_by()
            return
        with self._lock:
            first, self._caught_up = not self._caught_up, True
        if first:
            self.send_missed_digest()
        self.kick()

    def _stand_by(self) -> None:
        with self._lock:
            if self._stopped or (self._standby is not None and self._standby.is_alive()):
                return
            self._standby = threading.Thread(
                target=self._wait_for_lock, name="policybot-standby", daemon=True
            )
            self._standby.start()

    def _wait_for_lock(self) -> None:
        """Wait on the lock itself while another process sends: its end is noticed at once
        (PostgreSQL grants it the moment the holder's session ends; a file lock is tried
        every 50 ms), not at the next tick."""
        while True:
            with self._lock_guard:
                if self._stopped:
                    return
                held = self.lock.wait(LOCK_WAIT_SECONDS)
            if held:
                self.tick()
                return

    def kick(self) -> None:
        """Start a drain now unless one is running; then it goes round once more."""
        if not self.lock.holds():
            return
        with self._lock:
            if self._stopped:
                return
            if self._drain_thread is not None and self._drain_thread.is_alive():
                self._again = True
                return
            self._again = False
            self._drain_thread = threading.Thread(
                target=self._drain, name="policybot-outbox", daemon=True
            )
            self._drain_thread.start()

    def _drain(self) -> None:
        while True:
            try:
                self.dispatcher.run_once()
            except Exception:
                log.exception("sending due announcements failed; trying again next tick")
            with self._lock:
                if not self._again or self._stopped:
                    self._drain_thread = None
                    return
                self._again = False

    def send_missed_digest(self) -> None:
        """Send the digest of a run that fell while no replica was up, once, on taking over."""
        announcements = self.runtime.announcements
        if announcements is None:
            return
        last_sent = announcements.last_digest_at()
        if last_sent is None:  # never ran before: nothing was missed
            return
        slot = last_cron_time(self.settings.digest_cron, self.settings.zone, self.clock())
        if slot is not None and last_sent < slot:
            view = announcements.create_digest(self.clock(), slot=slot)
            if view is not None:
                log.info("missed weekly digest of %s queued for %s", slot, view.channel)

    def send_digest(self) -> None:
        if not self.lock.holds() or self.runtime.announcements is None:
            return
        view = self.runtime.announcements.create_digest(self.clock())
        if view is not None:
            log.info("weekly digest queued for %s", view.channel)

    def purge(self) -> None:
        if not self.lock.holds():
            return
        now = self.clock()
        questions, events = self.runtime.questions, self.runtime.events
        days = self.settings.retention_days
        if days:
            removed = questions.purge_questions(now - dt.timedelta(days=days))
            log.info("purged %d question log rows older than %d days", removed, days)
        events.purge_events(now - EVENT_RETENTION)


def last_cron_time(
    cron: str, zone: dt.tzinfo, now: dt.datetime, within: dt.timedelta = dt.timedelta(days=7)
) -> dt.datetime | None:
    """The latest time at or before `now` (and within `within`) that `cron` fires."""
    trigger = CronTrigger.from_crontab(cron, timezone=zone)
    last = None
    fire = trigger.get_next_fire_time(None, now - within)
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return last

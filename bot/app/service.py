"""The use cases every front end shares: answer a question, run an admin command.

The console chat, the CLI and the Slack adapter all call `PolicyService.handle` (or `ask`),
so a question gets the same answer wherever it is asked.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.adapters.db.conversations import Conversations
from bot.adapters.db.models import utcnow
from bot.adapters.db.policy_repo import LoadedPolicies, PolicyRepository
from bot.adapters.db.question_repo import QuestionRepository
from bot.adapters.db.question_writer import BatchedQuestionLog
from bot.app.admin import Admin, AdminResult
from bot.app.audiences import AudienceMembers
from bot.app.changes import Actor, DueChanges, Permissions
from bot.app.limits import RateLimiter, over_limit
from bot.app.policy_exceptions import personal_note
from bot.app.versions import asks_what_changed
from bot.domain.answers import Answer, Registry, answer_question, render_text
from bot.domain.audiences import effective_policy, rule_for, ruled_audiences
from bot.domain.commands import (
    ADMIN_COMMANDS,
    DESK_COMMANDS,
    SPECS,
    Command,
    CommandError,
    DeskCommand,
    ListTools,
    ShowChanges,
    ShowHelp,
    command_verb,
    parse_command,
    staff_usage,
    usage,
)
from bot.domain.errors import PolicyError
from bot.domain.personal import for_the_asker
from bot.domain.phrases import staff_help
from bot.domain.policy import Audience, ToolPolicy
from bot.domain.vocabulary import Vocabulary
from bot.metrics import (
    ADMIN_REFUSALS,
    ANSWER_SECONDS,
    QUESTIONS,
    RATE_LIMITED,
    REGISTRY_GENERATION,
    UNMATCHED,
)

if TYPE_CHECKING:
    from bot.app.desk import Desk
    from bot.app.drafts import Drafts

log = logging.getLogger(__name__)

# How long a process trusts its cached registry before checking the shared generation,
# so that a change made by another replica shows up within this many seconds.
REGISTRY_CHECK_SECONDS = 1.0
# Registries kept for combinations of audiences; more combinations than this start again.
_MAX_PERSONAL = 64


@dataclass(frozen=True)
class Reply:
    """What the bot says back: an answer, an admin result, or a refusal or error line.

    Asked in a public place (`handle(..., public=True)`: a channel others read), `private`
    says the reply may be shown to the asker only (ephemeral), never posted; and `aside` is
    what an answer posted there left out because it is the asker's alone (their exception,
    an admin's draft), to show them privately."""

    kind: str  # answer | admin | help | error | refused | limited
    text: str
    answer: Answer | None = None
    result: AdminResult | None = None
    private: bool = False
    aside: str | None = None
    # Only the published registry (help, `list`, `changes`): fit for any place.
    shareable: bool = False


# What may be posted where others read, when asked there: the published registry.
PUBLIC_COMMANDS = (ListTools, ShowChanges, ShowHelp)


@dataclass(frozen=True)
class Reading:
    """What a line of text is for one person, before anything runs.

    A `command` they may run; or a final `reply` (a refusal, a usage error, the help); or,
    when both are None, a question."""

    command: Command | None = None
    reply: Reply | None = None


class RegistrySnapshot:
    """The answering registry, rebuilt only when some process changed the registry.

    Before each check it applies the scheduled changes whose day has come (`DueChanges`),
    so a change dated today is in force however long the process has been up.
    """

    def __init__(
        self,
        policies: PolicyRepository,
        vocabulary: Callable[[], Vocabulary],
        due: DueChanges | None = None,
    ) -> None:
        self.policies = policies
        self.vocabulary = vocabulary  # the words questions are read with, as they are now
        self.due = due
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._loaded: LoadedPolicies | None = None  # what the next reload need not read again
        self._generation = -1
        self._checked_at = 0.0
        self._audiences: tuple[Audience, ...] = ()
        self._ruled: frozenset[str] = frozenset()
        # The registry as each combination of audiences (with rules) sees it, for this
        # snapshot: a few combinations, each built once (the name index and matcher shared).
        self._personal: dict[frozenset[str], Registry] = {}
        self._personal_of: Registry | None = None
        self._with_rules: tuple[ToolPolicy, ...] = ()

    def audiences(self) -> tuple[Audience, ...]:
        """The registry's audiences, as of the snapshot."""
        self.get()
        return self._audiences

    def ruled(self) -> frozenset[str]:
        """The audiences some tool has a rule for (only they can change an answer)."""
        self.get()
        return self._ruled

    def for_audiences(self, audiences: frozenset[str]) -> Registry:
        """The registry as a person in `audiences` sees it: each tool's first matching rule
        applied over its default."""
        registry = self.get()
        key = audiences & self._ruled
        if not key:
            return registry
        found = self._personal.get(key)
        if found is not None and self._personal_of is registry:
            return found
        with self._lock:
            if self._personal_of is not registry:
                self._personal = {}
                self._personal_of = registry
            found = self._personal.get(key)
            if found is None:
                changed = [effective_policy(p, key) for p in self._with_rules if rule_for(p, key)]
                found = registry.with_policies(changed)
                if len(self._personal) >= _MAX_PERSONAL:
                    self._personal.clear()
                self._personal[key] = found
            return found

    def get(self) -> Registry:
        now = time.monotonic()
        registry = self._registry
        if registry is not None and now - self._checked_at < REGISTRY_CHECK_SECONDS:
            return registry
        with self._lock:
            if self._registry is not None and time.monotonic() - self._checked_at < (
                REGISTRY_CHECK_SECONDS
            ):
                return self._registry  # another thread checked while this one waited
            if self.due is not None:
                self.due.apply()
            generation = self.policies.generation()
            vocabulary = self.vocabulary()
            if self._registry is None or generation != self._generation:
                self._loaded = self.policies.load(self._loaded)
                self._registry = Registry(self._loaded.policies, vocabulary)
                self._with_rules = tuple(p for p in self._loaded.policies if p.rules)
                self._ruled = ruled_audiences(self._with_rules)
                self._audiences = tuple(self.policies.audiences())
                self._generation = generation
                REGISTRY_GENERATION.set(generation)
            elif vocabulary is not self._registry.vocabulary:  # the admins' words changed
                self._registry = Registry(self._registry, vocabulary)
            self._checked_at = time.monotonic()
            return self._registry

    def forget(self) -> None:
        """A write in this process committed: rebuild on the next question instead of waiting."""
        self._checked_at = 0.0


class PolicyService:
    """Answers questions from the registry snapshot and runs admin commands."""

    def __init__(
        self,
        snapshot: RegistrySnapshot,
        admin: Admin,
        questions: QuestionRepository,
        permissions: Permissions,
        conversations: Conversations,
        *,
        contact: str = "#ai-governance",
        log_askers: bool = False,
        tz: dt.tzinfo = dt.UTC,
        clock: Callable[[], dt.datetime] = utcnow,
        question_log: BatchedQuestionLog | None = None,
        desk: Desk | None = None,
        limiter: RateLimiter | None = None,
        members: AudienceMembers | None = None,
    ) -> None:
        self.snapshot = snapshot
        # Who is in which audience (listed members, then Slack user groups, cached).
        self.members = members or AudienceMembers()
        self.admin = admin
        self.changes = admin.changes
        self.questions = questions
        self.permissions = permissions
        # Follow-ups ("why?") need the previous answer's tools; kept in the database.
        self.conversations = conversations
        self.contact = contact
        self.log_askers = log_askers
        self.tz = tz
        self.clock = clock
        # The server writes questions in batches; the CLI and console write each at once.
        self.question_log = question_log
        # Requests, exceptions, watches and feedback (None in bare tests).
        self.desk = desk
        # Questions one person may ask a minute (the server's; None: no limit).
        self.limiter = limiter

    # -- questions -------------------------------------------------------------------------

    def registry(self) -> Registry:
        return self.snapshot.get()

    def policies(self) -> list[ToolPolicy]:
        """Every policy as it stands today (scheduled changes due today applied)."""
        self.changes.apply_due()
        return self.admin.policies.policies()

    def ask(
        self,
        question: str,
        *,
        asker: str | None = None,
        channel: str = "cli",
        conversation: str | None = None,
    ) -> Answer:
        """Answer a question and log it (without the asker unless configured to keep it).

        In a `conversation` (a console session, a DM, a thread), a follow-up that names no
        tool is about the previous answer's tools, and this answer's tools are kept for the
        next one. Small talk gets a short help reply and is not logged."""
        today = self.clock().astimezone(self.tz).date()
        registry = self.registry()
        audiences = self.audiences_of(asker) if asker else frozenset()
        own = self.snapshot.for_audiences(audiences) if audiences else registry
        previous = self._previous_tools(conversation)
        started = time.perf_counter()
        answer = answer_question(question, own, today=today, previous=previous)
        if self.snapshot.ruled() or answer.language != "en":
            answer = for_the_asker(answer, registry.get, audiences, self.audience_titles())
        if asker and answer.tools and self.desk is not None:
            answer = self._personal(answer, asker)
        ANSWER_SECONDS.observe(time.perf_counter() - started)
        matched = answer.tool_names
        if conversation is not None and matched:
            try:
                self.conversations.remember(conversation, matched)
            except Exception:  # the context helps the next question; never cost this answer
                log.exception("could not keep the conversation context")
        if not answer.logged:
            return answer
        QUESTIONS.labels(channel).inc()
        if not answer.answered:
            UNMATCHED.labels(channel).inc()
        kept_asker = asker if self.log_askers else None
        try:
            if self.question_log is not None:
                self.question_log.add(
                    question,
                    matched=matched,
                    asker=kept_asker,
                    channel=channel,
                    asked_at=self.clock(),
                )
            else:
                self.questions.log_question(
                    question, matched=matched, asker=kept_asker, channel=channel
                )
        except Exception:  # logging a question must never cost the asker the answer
            log.exception("could not log a question")
        fields: dict[str, object] = {
            "channel": channel,
            "intent": answer.intent.value,
            "kind": answer.kind.value,
            "matched": matched[:20],
            "answered": answer.answered,
        }
        if self.log_askers and asker:
            fields["asker"] = asker
        log.info("question answered", extra=fields)
        return answer

    def audiences_of(self, user: str) -> frozenset[str]:
        """The audiences `user` is in that some tool has a rule for (no Slack call for
        audiences no rule names)."""
        ruled = self.snapshot.ruled()
        if not ruled:
            return frozenset()
        audiences = [a for a in self.snapshot.audiences() if a.name in ruled]
        return self.members.audiences_of(user, audiences)

    def audience_titles(self) -> dict[str, dict[str, str]]:
        """Each audience's title per language ("" for the default title); no members."""
        return {a.name: {"": a.title, **dict(a.titles)} for a in self.snapshot.audiences()}

    def _previous_tools(self, conversation: str | None) -> list[str]:
        if conversation is None:
            return []
        try:
            return self.conversations.previous_tools(conversation)
        except Exception:  # without context the question is answered as asked
            log.exception("could not read the conversation context")
            return []

    def render(self, answer: Answer) -> str:
        return render_text(answer, self.contact)

    # -- commands --------------------------------------------------------------------------

    def is_admin(self, user: str) -> bool:
        return self.permissions.is_admin(user)

    def handle(
        self,
        text: str,
        *,
        user: str,
        source: str,
        channel: str = "cli",
        conversation: str | None = None,
        public: bool = False,
        reading: Reading | None = None,
    ) -> Reply:
        """Answer `text` if it is a question, run it if it is a command the user may run.

        `conversation` keys the follow-up context (see `ask`). The permission check comes
        first: someone who may not run a command gets the refusal, not the command's usage.

        `public`: asked where others read (a channel). Privacy by place: drafts, admin
        listings, desk results and a person's own exception are never part of what may be
        posted there; the reply says so (`Reply.private`, `Reply.aside`).

        `reading`: what `interpret` already made of `text` for `user`, so it is not read twice.
        """
        if reading is None:
            reading = self.interpret(text, user)
        return self.placed(self._handle(reading, text, user, source, channel, conversation), public)

    def placed(self, reply: Reply, public: bool) -> Reply:
        """`reply` as it may be shown where it was asked: unchanged in a private place; in a
        public one, an answer without the asker's own notes (`aside`), anything else but the
        published registry marked `private`."""
        if not public:
            return reply
        if reply.answer is not None:
            return self._public_answer(reply)
        return reply if reply.shareable or reply.kind == "help" else replace(reply, private=True)

    def limit(self, user: str) -> Reply | None:
        """The refusal when `user` asked more questions this minute than one person may."""
        if self.limiter is None or not user:
            return None
        wait = self.limiter.wait_for(user)
        if not wait:
            return None
        RATE_LIMITED.labels("question").inc()
        again = f"in {max(1, round(wait))} seconds"
        text = over_limit(
            "asked", self.limiter.limit, "minute", "POLICYBOT_QUESTIONS_PER_MINUTE", again
        )
        return Reply("limited", text, private=True)

    def _public_answer(self, reply: Reply) -> Reply:
        """An answer fit for a channel: the asker's own notes moved to `aside`."""
        assert reply.answer is not None
        if not reply.answer.notes:
            return reply
        answer = replace(reply.answer, notes=())
        aside = "\n".join(note for _tool, note in reply.answer.notes)
        return replace(reply, text=self.render(answer), answer=answer, aside=aside)

    def _handle(
        self,
        reading: Reading,
        text: str,
        user: str,
        source: str,
        channel: str,
        conversation: str | None,
    ) -> Reply:
        if reading.reply is not None:
            return reading.reply
        if reading.command is not None:
            return self.execute(reading.command, user=user, source=source)
        return self._answer(text.strip(), user, channel, conversation)

    def interpret(self, text: str, user: str) -> Reading:
        """Read `text` for `user` with the command table: a command they may run, a final
        reply, or a question. Front ends that treat some commands their own way (a form to
        open) branch on the typed command instead of parsing the text again."""
        text = text.strip()
        verb = command_verb(text)
        if verb is None:
            if asks_what_changed(text):  # the latest policy versions, newest first
                return Reading(ShowChanges())
            return Reading()
        spec = SPECS[verb]
        # "list of approved tools?" starts like a command but is a question.
        looks_like_question = text.endswith(("?", "\uff1f"))
        if spec.admin and not self.is_admin(user):
            return Reading() if looks_like_question else Reading(reply=self._refuse(user))
        names = self.registry().names if verb in ("set", "draft") else None
        try:
            command = parse_command(text, is_tool=names.__contains__ if names else None)
        except CommandError as error:
            # "list coding tools" is not the `list <status>` command but a list question.
            if looks_like_question or verb == "list":
                return Reading()
            return Reading(reply=Reply("error", str(error)))
        if isinstance(command, ShowHelp) and command.command is None:
            # Everyone gets what they can ask; admins also the commands they can run.
            help_text = staff_help(self.contact, staff_usage())
            if self.is_admin(user):
                help_text = f"{help_text}\n\n{usage()}"
            return Reading(reply=Reply("help", help_text))
        if looks_like_question and spec.desk:
            return Reading()  # "request access to Cursor?"
        return Reading(command)

    def execute(self, command: Command, *, user: str, source: str) -> Reply:
        """Run a typed command for `user`: the one path every front end's commands take."""
        if type(command) in ADMIN_COMMANDS and not self.is_admin(user):
            return self._refuse(user)
        if type(command) in DESK_COMMANDS:
            if self.desk is None:
                return Reply("error", "Requests and exceptions are not set up on this bot.")
            desk_reply = self.desk.run(_as_desk(command), user=user, source=source)
            return Reply(desk_reply.kind, desk_reply.text)
        try:
            result = self.admin.run(command, Actor(user, source))
        except PolicyError as error:
            return Reply("error", str(error))
        shareable = isinstance(command, PUBLIC_COMMANDS)
        return Reply("admin", result.text, result=result, shareable=shareable)

    def _refuse(self, user: str) -> Reply:
        ADMIN_REFUSALS.inc()
        log.warning("refused admin command from a non-admin", extra={"user": user})
        return Reply(
            "refused",
            f"Only policy admins can do that. Ask {self.contact} to change a policy; "
            "anyone can ask questions such as “can I use Cursor?”.",
        )

    def _personal(self, answer: Answer, asker: str) -> Answer:
        """The answer with what is true for `asker` only: their active exceptions."""
        assert self.desk is not None
        names = [t.policy.name for t in answer.tools]
        try:
            active = self.desk.exceptions.active_for(asker, names, self.clock())
        except Exception:  # a failed lookup must not cost the asker the answer
            log.exception("could not read exceptions")
            return answer
        if not active:
            return answer
        by_key = {name.casefold(): name for name in names}
        notes = tuple(
            (by_key.get(e.tool_name.casefold(), e.tool_name), personal_note(e, self.tz))
            for e in active
        )
        return replace(answer, notes=answer.notes + notes)

    def _answer(self, text: str, user: str, channel: str, conversation: str | None) -> Reply:
        limited = self.limit(user)
        if limited is not None:
            return limited
        answer = self.ask(text, asker=user, channel=channel, conversation=conversation)
        if answer.tools and self.admin.drafts is not None and self.is_admin(user):
            answer = self._draft_notes(answer, self.admin.drafts)
        return Reply("answer", self.render(answer), answer=answer)

    def _draft_notes(self, answer: Answer, drafts: Drafts) -> Answer:
        """An admin's answer notes what the draft would change of its tools (staff's never:
        the draft is not policy until published)."""
        try:
            pending = drafts.pending([t.policy.name for t in answer.tools])
        except Exception:  # the note helps the admin; never cost the answer
            log.exception("could not read the draft")
            return answer
        notes = tuple(
            (
                tool,
                f"Draft, not yet published: {'; '.join(lines)}. Staff get the answer above "
                "until `publish`; `draft` shows the whole draft.",
            )
            for tool, lines in pending.items()
        )
        return replace(answer, notes=answer.notes + notes) if notes else answer


def _as_desk(command: Command) -> DeskCommand:
    assert type(command) in DESK_COMMANDS
    return command  # type: ignore[return-value]

"""The one write path: every change to the registry is a typed command handled here.

`set`, `alias`, `add`, `remove` and `unschedule` (console and Slack), the Slack edit form
and YAML import all build a command and call `PolicyChanges.run`, which does, once and in
this order:

1. the permission check (policy admins only; a trusted actor such as the CLI import skips it);
2. the domain rules (`ToolPolicy.normalised`/`problems`/`revised`, one name rule from
   `names.py`, alternatives stored by canonical name, references checked on removal);
3. the write and its revision (who, how, old -> new), in one unit of work
   (bot/app/unit_of_work.py), whose change events go to the handlers subscribed to them
   (the version, announcements, requests, exceptions, watches: `bot.compose`), so their rows
   commit with the change or not at all;
4. after the commit: metrics, and the effects registered on the transaction (forget the
   cached answering registry, wake the sender).

A change with a future effective date is kept as a scheduled change: today's policy stays,
and `apply_due` applies it on its day (whichever process reads the registry first), with a
revision dated that day, through the same unit of work and the same handlers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias, TypeVar

from sqlmodel import Session

from bot.adapters.db.models import Tool
from bot.adapters.db.policy_repo import PolicyRepository, with_values
from bot.adapters.db.store import Store
from bot.app.unit_of_work import Handlers, UnitOfWork, unit_of_work
from bot.domain.audiences import effective_policy, without_stale_translations
from bot.domain.commands import AddAlias, CancelScheduled, RemoveTool, SetPolicy, UnsetRule
from bot.domain.errors import PermissionDenied, PolicyError, StaleEditError, UnknownToolError
from bot.domain.events import Change, ChangeEvent, ImportReport, diff, plain_value
from bot.domain.names import NameIndex, name_key, name_problem
from bot.domain.policy import Audience, AudienceRule, Scheduled, Status, ToolPolicy, revised
from bot.metrics import ADMIN_CHANGES, ADMIN_REFUSALS

log = logging.getLogger(__name__)


_T = TypeVar("_T")


class _RolledBack(Exception):
    """Ends a trial run's transaction: raised inside it so that it is rolled back."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change and through what; `trusted` skips the admin check (CLI import)."""

    user: str
    source: str
    trusted: bool = False


@dataclass(frozen=True)
class AddTool:
    """Add a tool, under review, with nothing else known yet (`add <tool>`)."""

    name: str


@dataclass(frozen=True)
class SavePolicy:
    """Make a tool exactly `policy` (the Slack edit form).

    `tool` is the tool being edited (None to create one); `expected_version` is the version
    the editor saw, so a change made meanwhile is not silently overwritten.
    """

    policy: ToolPolicy
    tool: str | None = None
    expected_version: int | None = None
    quiet: bool = False


@dataclass(frozen=True)
class ImportPolicies:
    """Bring the registry in line with policy files (all or nothing)."""

    policies: tuple[ToolPolicy, ...]
    prune: bool = False
    quiet: bool = False
    # The audiences of policies/audiences.yaml; None leaves the registry's as they are.
    audiences: tuple[Audience, ...] | None = None


ChangeCommand: TypeAlias = (
    SetPolicy | UnsetRule | AddAlias | RemoveTool | AddTool | SavePolicy | CancelScheduled
)


class StagedCommandError(PolicyError):
    """A staged command (one of a draft's) that cannot apply: its place, and why not."""

    def __init__(
        self, position: int, command: ChangeCommand, author: str, error: PolicyError
    ) -> None:
        super().__init__(str(error), field=error.field)
        self.position = position
        self.command = command
        self.author = author
        self.error = error

    @property
    def tool(self) -> str:
        """The tool the command names, as it was typed."""
        command = self.command
        if isinstance(command, AddTool):
            return command.name
        if isinstance(command, SavePolicy):
            return command.tool or command.policy.name
        return command.tool


class Permissions:
    """Who may change policies: POLICYBOT_ADMINS, and anyone `also` says (a Slack group)."""

    def __init__(
        self, admins: frozenset[str] = frozenset(), also: Callable[[str], bool] | None = None
    ) -> None:
        self.admins = admins
        self.also = also

    def is_admin(self, user: str) -> bool:
        return user in self.admins or bool(self.also and self.also(user))


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (values may end in one already)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


class DueChanges:
    """Applies scheduled changes on their day, each with a revision dated that day.

    The changes that take effect on one day are one unit of work, and so one policy version;
    their events go to the same handlers as any change's. They were announced, with their
    countdown, when they were scheduled, so the events are quiet (source `scheduled`).
    """

    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        tz: dt.tzinfo = dt.UTC,
        *,
        handlers: Handlers | None = None,
    ) -> None:
        self.store = store
        self.policies = policies
        self.tz = tz
        self.handlers: Handlers = handlers or {}

    def apply(self) -> int:
        """Apply every scheduled change whose day has come; how many were applied.

        Runs in whichever process reads the registry first that day, so no process has to be
        up at midnight; two processes applying at once apply each change once.
        """
        today = self.store.clock().astimezone(self.tz).date()
        if not self.policies.has_due(today):
            return 0
        with self.store.reader() as reader:
            days = sorted({row.effective for row in self.policies.due(reader, today)})
        applied = sum(self._apply_day(day, today) for day in days)
        if applied:
            log.info("applied scheduled changes", extra={"count": applied})
        return applied

    def _apply_day(self, day: dt.date, today: dt.date) -> int:
        """One transaction, and so one policy version, for the changes dated `day`."""
        applied = 0
        day_start = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
        with unit_of_work(self.store, self.handlers) as uow:
            session = uow.session
            for row in self.policies.due(session, today):
                if row.effective != day or not self.policies.take_due(session, row):
                    continue  # another day's, or another process applied it
                tool = session.get(Tool, row.tool_id)
                if tool is None:
                    continue
                before = self.policies.policy_of(session, tool)
                after = with_values(before, row.changes).normalised()
                index = self.policies.index(session)
                after = replace(
                    after,
                    alternatives=tuple(
                        index.tool_for(a) or a for a in after.alternatives if a in index
                    ),
                )
                change = self.policies.write(
                    session,
                    after,
                    tool,
                    before,
                    author=row.author,
                    source="scheduled",
                    at=day_start,
                )
                applied += 1
                if not change.is_noop:
                    uow.publish(ChangeEvent(change, row.author, "scheduled", True, day_start))
            if applied:
                self.policies.bump_generation(session)
        return applied


class PolicyChanges:
    """The application service every registry change goes through."""

    def __init__(
        self,
        store: Store,
        policies: PolicyRepository,
        permissions: Permissions,
        *,
        due: DueChanges | None = None,
        handlers: Handlers | None = None,
        tz: dt.tzinfo = dt.UTC,
        committed: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.store = store
        self.policies = policies
        self.permissions = permissions
        # What handles each change event in its transaction (announcement and notice rows).
        self.handlers: Handlers = handlers or {}
        self.due = due or DueChanges(store, policies, tz, handlers=self.handlers)
        self.tz = tz
        # Effects after every committed change (the answering registry forgets its snapshot).
        self.committed = tuple(committed)

    def today(self) -> dt.date:
        return self.store.clock().astimezone(self.tz).date()

    # -- the use cases ---------------------------------------------------------------------

    def run(self, command: ChangeCommand, actor: Actor) -> Change:
        """Check, apply and record one change; PolicyError (a sentence) when it cannot be."""
        self.check_permission(actor)
        self.apply_due()
        if isinstance(command, CancelScheduled):
            change = self._unschedule(command.tool, actor)
        else:
            with unit_of_work(self.store, self.handlers) as uow:
                plan, quiet = self._plan(uow.session, command)
                change = self._apply(uow, plan, actor, quiet)
                if not change.is_noop:
                    self._after_commit(uow)
        if not change.is_noop:
            ADMIN_CHANGES.labels(actor.source).inc()
        return change

    def run_together(
        self,
        commands: Sequence[tuple[ChangeCommand, Actor]],
        actor: Actor,
        *,
        finish: Callable[[Session], None] | None = None,
    ) -> tuple[list[Change], int | None]:
        """A published draft: every command, in order, in one transaction — one policy
        version, one announcement — and the version's number (None if nothing changed).

        Each change is recorded as its own author's (who staged it); the version and its
        announcement are `actor`'s, who publishes. `finish` runs last in the transaction.
        StagedCommandError, and nothing changed, when one command cannot apply.
        """
        self.check_permission(actor)
        self.apply_due()
        with unit_of_work(self.store, self.handlers) as uow:
            changes = self._replay(uow, commands, actor)
            if finish is not None:
                finish(uow.session)
            version = uow.version.row.id if uow.version is not None else None
            if any(not change.is_noop for change in changes):
                self._after_commit(uow)
        for change in changes:
            if not change.is_noop:
                ADMIN_CHANGES.labels(actor.source).inc()
        return changes, version

    def trial(self, commands: Sequence[tuple[ChangeCommand, Actor]]) -> list[Change]:
        """What `commands` would do, in order, to the registry as it is now — worked out by
        the write path itself in a transaction that is rolled back (nothing is written or
        announced). StagedCommandError when one cannot apply."""
        return self._trial(commands, lambda _session: None)[0]

    def trial_read(
        self, commands: Sequence[tuple[ChangeCommand, Actor]], name: str
    ) -> tuple[ToolPolicy, int | None]:
        """A tool as `commands` would leave it, and its version before them (None for a tool
        they create); UnknownToolError when it would not exist."""

        def read(session: Session) -> tuple[ToolPolicy, int | None]:
            tool, policy = self._existing(session, name)
            return policy, versions.get(tool.name_key)

        with self.store.reader() as reader:
            versions = {t.name_key: t.version for t in self.policies.tools(reader)}
        return self._trial(commands, read)[1]

    def import_policies(self, command: ImportPolicies, actor: Actor) -> ImportReport:
        """The registry made to match the files: checked first, then one transaction."""
        self.check_permission(actor)
        self.apply_due()
        with unit_of_work(self.store, self.handlers) as uow:
            report = self._import(uow, command, actor)
            self._after_commit(uow)
        return report

    def check_permission(self, actor: Actor) -> None:
        if actor.trusted or self.permissions.is_admin(actor.user):
            return
        ADMIN_REFUSALS.inc()
        log.warning("refused a policy change from a non-admin", extra={"user": actor.user})
        raise PermissionDenied("only policy admins can change policies")

    def apply_due(self) -> int:
        """Apply the scheduled changes whose day has come (before reading or writing)."""
        return self.due.apply()

    # -- each command ----------------------------------------------------------------------

    def _set(self, session: Session, command: SetPolicy) -> _Plan:
        tool, before = self._existing(session, command.tool, hint_add=True)
        if command.audience is not None:
            return self._set_rule(session, command, tool, before)
        if command.status is Status.BANNED:
            given = [
                f"--{n.replace('_', '-')}"
                for n in ("conditions", "max_data")
                if getattr(command, n) not in (None, "")
            ]
            if given:
                left_out = " and ".join(given)
                raise PolicyError(
                    f"a banned tool has no conditions or data limit: leave out {left_out}"
                )
        fields: dict[str, Any] = {"status": command.status}
        for name in ("reason", "conditions", "effective", "max_data", "alternatives"):
            value = getattr(command, name)
            if value is not None:
                # An empty string clears a text field; an empty tuple clears alternatives.
                fields[name] = value if value != "" else None
        for name in command.clear:
            fields[name] = () if name == "alternatives" else None
        return _Plan(tool, before, replace(before, **fields), effective_given="effective" in fields)

    def _audience(self, session: Session, name: str) -> None:
        """PolicyError unless `name` is one of the registry's audiences."""
        known = [a.name for a in self.policies.audiences_in(session)]
        if name not in known:
            choices = ", ".join(known) if known else "none yet: add them to policies/audiences.yaml"
            raise PolicyError(f"unknown audience '{name}': use one of {choices}", field="rules")

    def _set_rule(
        self, session: Session, command: SetPolicy, tool: Tool, before: ToolPolicy
    ) -> _Plan:
        """`set … --for AUDIENCE`: the audience's rule, made or changed field by field; the
        default stays. A status change without a date takes effect today, as for a tool."""
        assert command.audience is not None
        self._audience(session, command.audience)
        today = self.today()
        if command.effective is not None and command.effective > today:
            raise PolicyError(
                "a rule for an audience takes effect when it is set: leave out --effective "
                "or give a date up to today",
                field="effective",
            )
        old = next((r for r in before.rules if r.audience == command.audience), None)
        rule = old or AudienceRule(command.audience)
        theirs_before = effective_policy(before, frozenset({command.audience}))
        fields: dict[str, Any] = {"status": command.status}
        for name in ("reason", "conditions", "effective", "max_data", "alternatives"):
            value = getattr(command, name)
            if value is not None:
                # An empty value drops the rule's own field: the default's applies again.
                fields[name] = value if value not in ("", ()) else None
        for name in command.clear:
            fields[name] = None
        if theirs_before.status != command.status and "effective" not in fields:
            fields["effective"] = today
        rule = replace(rule, **fields)
        rules = (
            tuple(rule if r is old else r for r in before.rules)
            if old
            else (
                *before.rules,
                rule,
            )
        )
        return _Plan(tool, before, replace(before, rules=rules), effective_given=True)

    def _unset(self, session: Session, command: UnsetRule) -> _Plan:
        tool, before = self._existing(session, command.tool)
        rules = tuple(r for r in before.rules if r.audience != command.audience)
        if len(rules) == len(before.rules):
            has = ", ".join(r.audience for r in before.rules) or "none"
            raise PolicyError(
                f"{before.name} has no rule for '{command.audience}' (its rules: {has})"
            )
        return _Plan(tool, before, replace(before, rules=rules), effective_given=True)

    def _alias(self, session: Session, name: str, alias: str) -> _Plan:
        tool, before = self._existing(session, name)
        problem = name_problem(alias, "alias")
        if problem:
            raise PolicyError(problem, field="aliases")
        index = self.policies.index(session)
        owner = index.tool_for(alias)
        if owner is not None and name_key(owner) == name_key(before.name):
            raise PolicyError(f"'{alias}' already names '{before.name}'")
        return _Plan(tool, before, replace(before, aliases=(*before.aliases, alias)))

    def _add(self, session: Session, name: str) -> _Plan:
        policy = ToolPolicy(name=name, status=Status.UNDER_REVIEW)
        existing = self.policies.find(session, name)
        if existing is not None:
            raise PolicyError(f"'{existing.name}' is already in the registry: use set or edit")
        return _Plan(None, None, policy)

    def _save_form(self, session: Session, command: SavePolicy) -> _Plan:
        if command.tool is None:
            existing = self.policies.find(session, command.policy.name)
            if existing is not None:
                raise PolicyError(
                    f"'{existing.name}' is already in the registry: use edit instead",
                    field="name",
                )
            return _Plan(None, None, command.policy)
        tool, before = self._existing(session, command.tool)
        after = replace(command.policy, name=before.name)
        if not after.rules and not after.translations:
            # The form edits the default: the audiences' rules and the translations stay.
            after = replace(after, rules=before.rules, translations=before.translations)
        return _Plan(
            tool,
            before,
            after,
            expected_version=command.expected_version,
            effective_given=after.effective != before.effective,
        )

    def _remove(self, session: Session, name: str) -> _Plan:
        tool, before = self._existing(session, name)
        index = self.policies.index(session)
        dependents = self.policies.dependents(session, {tool.name_key}, index)
        if dependents:
            names = ", ".join(f"'{d}'" for d in dependents)
            raise PolicyError(
                f"'{before.name}' is an alternative of {names}: "
                f"change {'that' if len(dependents) == 1 else 'those'} first"
            )
        return _Plan(tool, before, None)

    def _unschedule(self, name: str, actor: Actor) -> Change:
        """Cancel a scheduled change: today's policy stays; staff who were told of the
        change hear of its cancellation (which replaces that announcement and its countdown)."""
        with unit_of_work(self.store, self.handlers) as uow:
            session = uow.session
            tool, before = self._existing(session, name)
            if before.scheduled is None:
                raise PolicyError(f"{before.name} has no scheduled change to cancel")
            now = self.store.clock()
            self.policies.unschedule(session, tool, author=actor.user, source=actor.source, at=now)
            after = replace(before, scheduled=None)
            change = Change(before, after, {"scheduled": (before.scheduled, None)}, tool.version)
            self.policies.bump_generation(session)
            uow.publish(ChangeEvent(change, actor.user, actor.source, False, now))
            self._after_commit(uow)
        return change

    # -- the shared steps ------------------------------------------------------------------

    def _existing(
        self, session: Session, name: str, *, hint_add: bool = False
    ) -> tuple[Tool, ToolPolicy]:
        tool = self.policies.find(session, name)
        if tool is None:
            hint = f" To add a tool, use: add {name}" if hint_add else ""
            raise UnknownToolError(name, self.policies.close_names(session, name), hint=hint)
        return tool, self.policies.policy_of(session, tool)

    def _plan(self, session: Session, command: ChangeCommand) -> tuple[_Plan, bool]:
        """What `command` wants, and whether it is quiet (recorded, not announced)."""
        match command:
            case SetPolicy():
                return self._set(session, command), command.quiet
            case UnsetRule():
                return self._unset(session, command), False
            case AddAlias(tool=tool, alias=alias):
                return self._alias(session, tool, alias), False
            case AddTool(name=name):
                return self._add(session, name), True
            case SavePolicy():
                return self._save_form(session, command), command.quiet
            case RemoveTool(tool=tool):
                return self._remove(session, tool), False
        raise TypeError(f"unhandled change {command!r}")

    def _replay(
        self,
        uow: UnitOfWork,
        commands: Sequence[tuple[ChangeCommand, Actor]],
        by: Actor | None,
    ) -> list[Change]:
        """Apply staged commands in order in `session`; StagedCommandError names the first
        that cannot apply. A staged form is refused if its tool changed since it was opened
        (outside the draft: the draft's own earlier changes are expected)."""
        session = uow.session
        seen: dict[int, int | None] = {}
        for position, (command, _author) in enumerate(commands, start=1):
            if isinstance(command, SavePolicy) and command.tool is not None:
                found = self.policies.find(session, command.tool)
                seen[position] = found.version if found is not None else None
        changes = []
        for position, (command, author) in enumerate(commands, start=1):
            try:
                if isinstance(command, SavePolicy) and command.expected_version is not None:
                    if seen.get(position) not in (None, command.expected_version):
                        raise StaleEditError(
                            f"'{command.tool}' was changed by someone else after this form "
                            "was staged"
                        )
                    command = replace(command, expected_version=None)
                plan, quiet = self._plan(session, command)
                changes.append(self._apply(uow, plan, author, quiet, by))
            except PolicyError as error:
                raise StagedCommandError(position, command, author.user, error) from error
        return changes

    def _trial(
        self,
        commands: Sequence[tuple[ChangeCommand, Actor]],
        read: Callable[[Session], _T],
    ) -> tuple[list[Change], _T]:
        self.apply_due()
        outcome: list[tuple[list[Change], _T]] = []
        try:
            # A trial's events go to no handler: no announcement, notice or version rows.
            with unit_of_work(self.store, self.handlers, trial=True) as uow:
                changes = self._replay(uow, commands, None)
                outcome.append((changes, read(uow.session)))
                raise _RolledBack
        except _RolledBack:
            pass
        return outcome[0]

    def _apply(
        self, uow: UnitOfWork, plan: _Plan, actor: Actor, quiet: bool, by: Actor | None = None
    ) -> Change:
        """Write one planned change; `by` (who publishes a draft) announces it if not `actor`."""
        session = uow.session
        now = self.store.clock()
        teller = by or actor
        if plan.after is None:
            assert plan.tool is not None
            change = self.policies.delete(
                session, plan.tool, author=actor.user, source=actor.source, at=now
            )
            self.policies.bump_generation(session)
            uow.publish(ChangeEvent(change, teller.user, teller.source, quiet, now))
            return change
        today = self.today()
        index = self.policies.index(session)
        after = without_stale_translations(plan.before, self.checked(plan.after, index, plan.tool))
        if not plan.effective_given:
            after = revised(plan.before, after, today)
        elif (
            plan.before is not None
            and plan.before.status != after.status
            and (after.effective is None)
        ):
            after = replace(after, effective=today)
        if (
            plan.tool is not None
            and plan.before is not None
            and after.effective is not None
            and after.effective > today
        ):
            return self._schedule(uow, plan, after, actor, quiet, now, by)
        change = self.policies.write(
            session,
            after,
            plan.tool,
            plan.before,
            author=actor.user,
            source=actor.source,
            at=now,
            expected_version=plan.expected_version,
        )
        if not change.is_noop:
            self.policies.bump_generation(session)
            uow.publish(ChangeEvent(change, teller.user, teller.source, quiet, now))
        return change

    def _schedule(
        self,
        uow: UnitOfWork,
        plan: _Plan,
        after: ToolPolicy,
        actor: Actor,
        quiet: bool,
        now: dt.datetime,
        by: Actor | None = None,
    ) -> Change:
        assert plan.tool is not None and plan.before is not None and after.effective
        session = uow.session
        self.policies.check_version(plan.tool, plan.expected_version)
        current = replace(plan.before, scheduled=None)
        changed = diff(current, after)
        if not changed:
            return Change(plan.before, plan.before, {}, plan.tool.version)
        self.policies.schedule(
            session,
            plan.tool,
            {name: plain_value(new) for name, (_old, new) in changed.items()},
            after.effective,
            author=actor.user,
            source=actor.source,
            quiet=quiet,
            at=now,
            revision_changes=changed,
        )
        self.policies.bump_generation(session)
        change = Change(plan.before, after, changed, plan.tool.version, after.effective)
        teller = by or actor
        uow.publish(ChangeEvent(change, teller.user, teller.source, quiet, now))
        return change

    def checked(self, policy: ToolPolicy, index: NameIndex, tool: Tool | None) -> ToolPolicy:
        """The policy normalised, its names free, its alternatives by canonical name.

        Every problem is found before any is reported (PolicyError.problems), so a form
        shows them all in one round."""
        policy = policy.normalised()
        problems: list[tuple[str | None, str]] = list(policy.problems())
        own = name_key(tool.name) if tool is not None else name_key(policy.name)
        for text, kind in [(policy.name, "name"), *((a, "alias") for a in policy.aliases)]:
            owner = index.tool_for(text)
            if owner is not None and name_key(owner) != own:
                if name_key(owner) == name_key(text):
                    message = f"'{text}' is already the name of a tool ('{owner}')"
                else:
                    message = f"'{text}' is already an alias of '{owner}'"
                problems.append(("name" if kind == "name" else "aliases", message))
        alternatives = policy.alternatives
        try:
            alternatives = self._canonical(policy, index, own)
        except PolicyError as error:
            if not problems:
                raise  # the only problem, as it is (an unknown tool keeps its suggestions)
            if (error.field, str(error)) not in problems:
                problems.append((error.field, str(error)))
        if problems:
            field, problem = problems[0]
            raise PolicyError(problem, field=field, problems=problems)
        rules = tuple(
            replace(
                rule,
                alternatives=canonical_alternatives(
                    replace(policy, alternatives=rule.alternatives), index, own
                ),
            )
            if rule.alternatives
            else rule
            for rule in policy.rules
        )
        return replace(policy, alternatives=alternatives, rules=rules)

    def problems(self, command: SavePolicy) -> list[tuple[str | None, str]]:
        """Every rule the edit form's policy breaks, found without writing anything, so the
        form can show them beside its own format errors in one round."""
        with self.store.reader() as session:
            try:
                plan = self._save_form(session, command)
                if plan.after is not None:
                    self.checked(plan.after, self.policies.index(session), plan.tool)
            except PolicyError as error:
                return list(error.problems)
        return []

    def _canonical(self, policy: ToolPolicy, index: NameIndex, own: str) -> tuple[str, ...]:
        """Alternatives by the canonical name of the tool each names (an alias -> its tool)."""

        def close_to(name: str) -> list[str]:
            with self.store.reader() as reader:
                return self.policies.close_names(reader, name)

        return canonical_alternatives(policy, index, own, close_to)

    def _after_commit(self, uow: UnitOfWork) -> None:
        for effect in self.committed:
            uow.after_commit(effect)

    # -- import ----------------------------------------------------------------------------

    def _import(self, uow: UnitOfWork, command: ImportPolicies, actor: Actor) -> ImportReport:
        session = uow.session
        report = ImportReport()
        now = self.store.clock()
        # Plain rows: only the tools the import changes are read again as ORM objects.
        current = self.policies.registry(session)
        ids = {key: tool_id for key, (tool_id, _policy) in current.items()}

        def existing(key: str) -> Tool:
            found = session.get(Tool, ids[key])
            assert found is not None, "read in this transaction"
            return found

        befores = [policy for _id, policy in current.values()]
        audiences_changed = False
        if command.audiences is not None:
            # The files' audiences replace the registry's; their rules must name them.
            check_audiences(command.policies, command.audiences)
            audiences_changed = self.policies.replace_audiences(session, command.audiences)
        outcome = imported(befores, command.policies, prune=command.prune, today=self.today())
        for policy in outcome.removed:
            tool = existing(name_key(policy.name))
            removal = self.policies.delete(
                session, tool, author=actor.user, source=actor.source, at=now
            )
            report.removed.append(tool.name)
            # A removal is part of the import's version (and its announcement) like any change.
            uow.publish(ChangeEvent(removal, actor.user, actor.source, command.quiet, now))
        # Names may move between tools: free those the files give to another tool first.
        later = outcome.scheduled | outcome.pending
        incoming = {
            name_key(after.name): after
            for _before, after in outcome.written
            if name_key(after.name) not in later
        }
        claims = {name_key(t): k for k, p in incoming.items() for t in (p.name, *p.aliases)}
        self.policies.free_claimed_aliases(session, claims, ids)
        changed_any = bool(outcome.removed) or audiences_changed
        # New tools are created together, a run of them at a time so that every revision
        # and event keeps the files' order.
        new: list[ToolPolicy] = []

        def create_new() -> None:
            created = self.policies.create_many(
                session, new, author=actor.user, source=actor.source, at=now
            )
            for change in created:
                uow.publish(ChangeEvent(change, actor.user, actor.source, command.quiet, now))
            new.clear()

        for before, after in outcome.written:
            key = name_key(after.name)
            if before is None:
                new.append(after)
                report.created.append(after.name)
                changed_any = True
                continue
            create_new()
            if key in outcome.pending:
                report.unchanged.append(after.name)
                continue
            if key in outcome.scheduled:
                # A future-dated status change is kept for its day, as `set` keeps it.
                plan = _Plan(existing(key), before, after)
                self._schedule(uow, plan, after, actor, command.quiet, now)
                report.scheduled.append(after.name)
                changed_any = True
                continue
            if not diff(before, after):
                report.unchanged.append(after.name)  # as `write` finds it, without the row
                continue
            change = self.policies.write(
                session,
                after,
                existing(key),
                before,
                author=actor.user,
                source=actor.source,
                at=now,
            )
            report.updated.append(after.name)
            changed_any = True
            uow.publish(ChangeEvent(change, actor.user, actor.source, command.quiet, now))
        create_new()
        if changed_any:
            self.policies.bump_generation(session)
        return report


def check_audiences(policies: Sequence[ToolPolicy], audiences: Sequence[Audience]) -> None:
    """PolicyError when a rule names an audience that `audiences` does not define."""
    known = {a.name for a in audiences}
    for policy in policies:
        for rule in policy.rules:
            if rule.audience not in known:
                raise PolicyError(
                    f"{policy.name}: a rule for the audience '{rule.audience}', which "
                    "policies/audiences.yaml does not name: add it there or change the rule"
                )


@dataclass(frozen=True)
class ImportOutcome:
    """What an import makes of the registry, worked out before anything is written: each
    file tool as it was and as it will be kept, and the tools --prune removes."""

    written: list[tuple[ToolPolicy | None, ToolPolicy]]
    removed: list[ToolPolicy]
    # Existing tools whose status changes from a future date: kept as scheduled changes
    # (today's policy stays), and those whose same change is already scheduled.
    scheduled: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()


def imported(
    current: Sequence[ToolPolicy],
    policies: Sequence[ToolPolicy],
    *,
    prune: bool,
    today: dt.date,
) -> ImportOutcome:
    """The import's rules in one place, used by the import itself and by its plan (dry run,
    doctor's drift): normalised policies, one owner per name, alternatives by canonical name,
    a status change dated today, a status change dated later scheduled for that day.
    PolicyError for anything the import would refuse."""
    incoming: dict[str, ToolPolicy] = {}
    for policy in policies:
        policy = policy.normalised()
        problems = policy.problems()
        if problems:
            raise PolicyError(f"{policy.name}: {problems[0][1]}")
        incoming[name_key(policy.name)] = policy
    befores = {name_key(p.name): replace(p, scheduled=None) for p in current}
    doomed = set(befores) - set(incoming) if prune else set()
    index = _import_index(incoming, befores, doomed)
    for key, before in befores.items():
        if key in incoming or key in doomed:
            continue
        for alternative in before.alternatives:
            if alternative not in index:
                raise PolicyError(
                    f"'{alternative}' is an alternative of '{before.name}': keep it or change that"
                )
    pending_now = {name_key(p.name): p.scheduled for p in current}
    written: list[tuple[ToolPolicy | None, ToolPolicy]] = []
    scheduled: set[str] = set()
    pending: set[str] = set()
    for key, policy in incoming.items():
        canonical = canonical_alternatives(policy, index, key)
        previous = befores.get(key)
        after = revised(previous, replace(policy, alternatives=canonical), today)
        written.append((previous, after))
        if is_scheduled(previous, after, today):
            assert after.effective is not None
            if pending_now.get(key) == Scheduled(after.effective, after.status):
                pending.add(key)
            else:
                scheduled.add(key)
    removed = [befores[key] for key in sorted(doomed)]
    return ImportOutcome(written, removed, frozenset(scheduled), frozenset(pending))


def is_scheduled(before: ToolPolicy | None, after: ToolPolicy, today: dt.date) -> bool:
    """Whether an import keeps `after` as a scheduled change: an existing tool whose status
    changes from a later day (a new tool is created as the files say)."""
    return (
        before is not None
        and before.status != after.status
        and after.effective is not None
        and after.effective > today
    )


def _import_index(
    incoming: dict[str, ToolPolicy],
    befores: dict[str, ToolPolicy],
    doomed: set[str],
) -> NameIndex:
    """Names after the import: the files' tools, then the tools kept from the database."""
    index = NameIndex()
    owners: dict[str, str] = {}
    for policy in incoming.values():
        for text in (policy.name, *policy.aliases):
            key = name_key(text)
            owner = owners.get(key)
            if owner is not None and owner != policy.name:
                raise PolicyError(f"'{text}' names both '{owner}' and '{policy.name}'")
            owners[key] = policy.name
        index.add(policy.name, policy.aliases)
    for key, before in befores.items():
        if key in incoming or key in doomed:
            continue
        for text in (before.name, *before.aliases):
            owner = owners.get(name_key(text))
            if owner is not None and owner != before.name:
                raise PolicyError(f"'{text}' already names '{before.name}'")
            owners[name_key(text)] = before.name
        index.add(before.name, before.aliases)
    return index


def canonical_alternatives(
    policy: ToolPolicy,
    index: NameIndex,
    own: str,
    close_to: Callable[[str], list[str]] = lambda _name: [],
) -> tuple[str, ...]:
    """`policy`'s alternatives by the canonical name of the tool each names (an alias -> its
    tool), once each; UnknownToolError (with close names) or PolicyError when one cannot be."""
    canonical: list[str] = []
    for alternative in policy.alternatives:
        target = index.tool_for(alternative)
        if target is None:
            raise UnknownToolError(alternative, close_to(alternative), field="alternatives")
        if name_key(target) in (own, name_key(policy.name)):
            raise PolicyError(
                f"'{policy.name}' cannot be its own alternative", field="alternatives"
            )
        if target not in canonical:
            canonical.append(target)
    return tuple(canonical)


@dataclass(frozen=True)
class _Plan:
    """What a command wants: the tool (None to create), before and after (None to remove)."""

    tool: Tool | None
    before: ToolPolicy | None
    after: ToolPolicy | None
    expected_version: int | None = None
    effective_given: bool = False


__all__ = [
    "Actor",
    "AddTool",
    "ChangeCommand",
    "DueChanges",
    "ImportOutcome",
    "ImportPolicies",
    "Permissions",
    "PolicyChanges",
    "SavePolicy",
    "StagedCommandError",
    "imported",
    "is_scheduled",
    "sentence",
]

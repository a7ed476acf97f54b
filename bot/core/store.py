"""The only place that opens sessions and writes: one transaction per use case.

Every write records a Revision (who, how, each changed field's old and new value) and bumps
the registry generation so that cached registries in every process know to refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlmodel import Session, col, select

from bot.core.models import (
    Alias,
    ProcessedEvent,
    QuestionLog,
    RegistryState,
    Revision,
    Tool,
    utcnow,
)
from bot.core.policy import DataClass, Status, ToolPolicy

Clock = Callable[[], dt.datetime]

# "Did you mean" for unknown tool names: a score floor, and how far below the best to go.
_SUGGEST_CUTOFF = 75.0
_SUGGEST_SPREAD = 5.0

# Fields compared and recorded per revision, in YAML order (name is the identity).
_TRACKED = tuple(f for f in ToolPolicy.FIELDS if f != "name")


class PolicyError(ValueError):
    """A change that cannot be made; the message is a sentence for people."""


class UnknownToolError(PolicyError):
    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no tool named '{name}' in the registry.{hint}")


class StaleEditError(PolicyError):
    """Someone else changed the tool since it was read: optimistic locking refused the write."""


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


@dataclass(frozen=True)
class RevisionView:
    tool: str
    action: str
    author: str
    source: str
    at: dt.datetime
    changes: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """The outcome of one write: the policy before and after, and what changed."""

    before: ToolPolicy | None
    after: ToolPolicy | None
    changed: dict[str, tuple[Any, Any]]
    version: int = 0

    @property
    def is_noop(self) -> bool:
        return not self.changed


@dataclass(frozen=True)
class ChangeEvent:
    """Handed to change listeners inside the writing transaction (for an outbox, say)."""

    change: Change
    author: str
    source: str
    quiet: bool
    at: dt.datetime


ChangeListener = Callable[[Session, ChangeEvent], None]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    count: int
    last_asked: dt.datetime


def plain_value(value: Any) -> Any:
    """A JSON-friendly form of a policy value (lists, ISO dates), for revisions and messages."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _to_policy(tool: Tool, aliases: Iterable[str]) -> ToolPolicy:
    return ToolPolicy(
        name=tool.name,
        status=Status(tool.status),
        vendor=tool.vendor,
        aliases=tuple(aliases),
        category=tool.category,
        reason=tool.reason,
        conditions=tool.conditions,
        max_data=DataClass(tool.max_data) if tool.max_data else None,
        alternatives=tuple(tool.alternatives or ()),
        effective=tool.effective,
        owner=tool.owner,
        link=tool.link,
        updated_at=tool.updated_at,
    )


def _policy_from_changes(name: str, values: dict[str, Any]) -> ToolPolicy:
    effective = values.get("effective")
    max_data = values.get("max_data")
    return ToolPolicy(
        name=name,
        status=Status(values["status"]),
        vendor=values.get("vendor"),
        aliases=tuple(values.get("aliases") or ()),
        category=values.get("category"),
        reason=values.get("reason"),
        conditions=values.get("conditions"),
        max_data=DataClass(max_data) if max_data else None,
        alternatives=tuple(values.get("alternatives") or ()),
        effective=dt.date.fromisoformat(effective) if effective else None,
        owner=values.get("owner"),
        link=values.get("link"),
    )


def diff(before: ToolPolicy | None, after: ToolPolicy | None) -> dict[str, tuple[Any, Any]]:
    """Each tracked field whose value differs, as (old, new) in JSON-friendly form."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name in _TRACKED:
        old = plain_value(getattr(before, name)) if before else None
        new = plain_value(getattr(after, name)) if after else None
        if name in ("aliases", "alternatives"):
            old, new = old or [], new or []
            if before is None:
                old = None
            if after is None:
                new = None
        if old != new and not (old in (None, []) and new in (None, [])):
            changed[name] = (old, new)
    return changed


def question_row(
    question: str, *, matched: Sequence[str], asker: str | None, channel: str, at: dt.datetime
) -> dict[str, Any]:
    """A question_log row as `Store.log_questions` takes it."""
    return {
        "question": question[:2000],
        "asker": asker,
        "channel": channel,
        "matched": list(matched),
        "answered": bool(matched),
        "asked_at": at,
    }


class Store:
    """Reads and writes the registry; each public method is one transaction."""

    def __init__(self, engine: sa.Engine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        # Called in the same transaction as every real change, so what they write commits
        # (or rolls back) together with it.
        self.listeners: list[ChangeListener] = []

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # -- reading ---------------------------------------------------------------------------

    def generation(self) -> int:
        with Session(self.engine) as session:
            state = session.get(RegistryState, 1)
            return state.generation if state else 0

    def policies(self) -> list[ToolPolicy]:
        with Session(self.engine) as session:
            return self._policies(session)

    def _policies(self, session: Session) -> list[ToolPolicy]:
        aliases: dict[int, list[str]] = {}
        for tool_id, alias in session.exec(
            select(Alias.tool_id, Alias.alias).order_by(col(Alias.id))
        ):
            aliases.setdefault(tool_id, []).append(alias)
        tools = session.exec(select(Tool).order_by(col(Tool.name_key))).all()
        return [_to_policy(t, aliases.get(t.id or 0, [])) for t in tools]

    def get(self, name: str) -> ToolPolicy | None:
        with Session(self.engine) as session:
            found = self._find(session, name)
            return self._policy_of(session, found) if found else None

    def version_of(self, name: str) -> int | None:
        with Session(self.engine) as session:
            found = self._find(session, name)
            return found.version if found else None

    def list_tools(self, status: Status | None = None) -> list[ToolPolicy]:
        return [p for p in self.policies() if status is None or p.status == status]

    def resolve(self, name: str) -> ToolPolicy:
        """The tool called `name` (or with that alias); UnknownToolError with close names."""
        with Session(self.engine) as session:
            found = self._find(session, name)
            if found is None:
                raise UnknownToolError(name, self._close_names(session, name))
            return self._policy_of(session, found)

    def history(self, name: str) -> list[RevisionView]:
        """Every revision of a tool, oldest first; works for removed tools too."""
        with Session(self.engine) as session:
            found = self._find(session, name)
            key = found.name_key if found else name_key(name)
            rows = session.exec(
                select(Revision).where(Revision.tool_key == key).order_by(col(Revision.id))
            ).all()
            if not rows and found is None:
                raise UnknownToolError(name, self._close_names(session, name))
            return [
                RevisionView(r.tool_name, r.action, r.author, r.source, r.at, r.changes)
                for r in rows
            ]

    def recent_changes(self, limit: int = 10) -> list[RevisionView]:
        with Session(self.engine) as session:
            rows = session.exec(select(Revision).order_by(col(Revision.id).desc()).limit(limit))
            return [
                RevisionView(r.tool_name, r.action, r.author, r.source, r.at, r.changes)
                for r in rows
            ]

    def policy_on(self, name: str, day: dt.date, tz: dt.tzinfo = dt.UTC) -> ToolPolicy | None:
        """The policy a tool had at the end of `day` (in `tz`), rebuilt from its revisions."""
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        values: dict[str, Any] | None = None
        tool_name = name
        for revision in self.history(name):
            if revision.at >= end:
                break
            tool_name = revision.tool
            if revision.action == "delete":
                values = None
                continue
            values = dict(values or {})
            for field_name, (_old, new) in revision.changes.items():
                values[field_name] = new
        return _policy_from_changes(tool_name, values) if values else None

    # -- writing ---------------------------------------------------------------------------

    def save(
        self,
        policy: ToolPolicy,
        *,
        author: str,
        source: str,
        expected_version: int | None = None,
        create: bool | None = None,
        quiet: bool = False,
    ) -> Change:
        """Create or update one tool to exactly `policy`.

        `expected_version` is the version the editor saw: if the tool has moved on since, the
        write is refused instead of silently overwriting someone else's change. `create=True`
        refuses to overwrite an existing tool, `create=False` refuses to create one.
        """
        with self.session() as session:
            existing = self._find(session, policy.name)
            if existing is None and create is False:
                raise UnknownToolError(policy.name, self._close_names(session, policy.name))
            if existing is not None and create is True:
                raise PolicyError(f"'{existing.name}' is already in the registry: use set or edit")
            return self._write(
                session, policy, existing, author, source, expected_version, quiet=quiet
            )

    def update(
        self,
        name: str,
        *,
        author: str,
        source: str,
        expected_version: int | None = None,
        quiet: bool = False,
        **changes: Any,
    ) -> Change:
        """Change some fields of an existing tool (None values in `changes` are kept as given)."""
        with self.session() as session:
            existing = self._find(session, name)
            if existing is None:
                raise UnknownToolError(name, self._close_names(session, name))
            before = self._policy_of(session, existing)
            after = replace(before, **changes)
            return self._write(
                session, after, existing, author, source, expected_version, quiet=quiet
            )

    def add_alias(self, name: str, alias: str, *, author: str, source: str) -> Change:
        with self.session() as session:
            existing = self._find(session, name)
            if existing is None:
                raise UnknownToolError(name, self._close_names(session, name))
            before = self._policy_of(session, existing)
            if name_key(alias) in {name_key(a) for a in before.aliases}:
                raise PolicyError(f"'{alias}' is already an alias of '{before.name}'")
            after = replace(before, aliases=(*before.aliases, alias.strip()))
            return self._write(session, after, existing, author, source, None)

    def remove(self, name: str, *, author: str, source: str, quiet: bool = False) -> Change:
        with self.session() as session:
            existing = self._find(session, name)
            if existing is None:
                raise UnknownToolError(name, self._close_names(session, name))
            self._check_not_referenced(session, {existing.name_key})
            return self._delete(session, existing, author, source, quiet=quiet)

    def import_policies(
        self,
        policies: Sequence[ToolPolicy],
        *,
        author: str,
        prune: bool = False,
        quiet: bool = False,
    ) -> ImportReport:
        """Bring the registry in line with `policies` in one transaction.

        Everything is checked before anything is written; revisions are recorded only for
        tools that really changed. With `prune`, tools the files no longer list are removed.
        """
        report = ImportReport()
        with self.session() as session:
            incoming = {name_key(p.name): p for p in policies}
            current = {t.name_key: t for t in session.exec(select(Tool)).all()}
            doomed = set(current) - set(incoming) if prune else set()
            self._check_import(session, policies, current, doomed)
            for key in doomed:
                self._delete(session, current[key], author, "import", quiet=quiet)
                report.removed.append(current[key].name)
            befores = {
                key: self._policy_of(session, tool)
                for key, tool in current.items()
                if key in incoming
            }
            # Free aliases that move to another tool before that tool claims them.
            claims = {name_key(t): k for k, p in incoming.items() for t in (p.name, *p.aliases)}
            for alias in session.exec(select(Alias)).all():
                owner = next((k for k, t in current.items() if t.id == alias.tool_id), None)
                if alias.alias_key in claims and claims[alias.alias_key] != owner:
                    session.delete(alias)
            session.flush()
            for key, policy in incoming.items():
                existing = current.get(key)
                change = self._write(
                    session,
                    policy,
                    existing,
                    author,
                    "import",
                    None,
                    check_names=False,
                    quiet=quiet,
                    before=befores.get(key),
                )
                if existing is None:
                    report.created.append(policy.name)
                elif change.is_noop:
                    report.unchanged.append(policy.name)
                else:
                    report.updated.append(policy.name)
        return report

    # -- questions and events --------------------------------------------------------------

    def log_question(
        self, question: str, *, matched: Sequence[str], asker: str | None, channel: str
    ) -> None:
        self.log_questions(
            [question_row(question, matched=matched, asker=asker, channel=channel, at=self.clock())]
        )

    def log_questions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Several question-log rows (QuestionLog columns) in one transaction and one INSERT."""
        if rows:
            with self.session() as session:
                session.execute(sa.insert(QuestionLog), list(rows))

    def unanswered(self, limit: int = 20) -> list[UnansweredQuestion]:
        """The questions that found no tool, most asked first."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(QuestionLog.question, QuestionLog.asked_at).where(
                    col(QuestionLog.answered).is_(False)
                )
            ).all()
        grouped: dict[str, tuple[str, int, dt.datetime]] = {}
        for question, asked_at in rows:
            key = " ".join(question.casefold().split()).rstrip(
                "?!. \uff01\uff1f"
            )  # ASCII and full-width marks
            text, count, last = grouped.get(key, (question, 0, asked_at))
            grouped[key] = (text, count + 1, max(last, asked_at))
        ordered = sorted(grouped.values(), key=lambda item: (-item[1], -item[2].timestamp()))
        return [UnansweredQuestion(q, n, last) for q, n, last in ordered[:limit]]

    def question_stats(self, since: dt.datetime) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(QuestionLog.answered, sa.func.count())
                .where(col(QuestionLog.asked_at) >= since)
                .group_by(col(QuestionLog.answered))
            ).all()
        counts = {bool(answered): int(n) for answered, n in rows}
        return {"answered": counts.get(True, 0), "unanswered": counts.get(False, 0)}

    def purge_questions(self, older_than: dt.datetime) -> int:
        with self.session() as session:
            result = session.exec(
                sa.delete(QuestionLog).where(col(QuestionLog.asked_at) < older_than)
            )
            return int(result.rowcount or 0)

    def first_time_event(self, event_id: str) -> bool:
        """Record a Slack event id; False when it was already handled (a re-send)."""
        # A Core insert: this runs for every signed request, and the ORM's unit of work
        # would cost it several times over.
        insert = sa.insert(ProcessedEvent).values(event_id=event_id, seen_at=self.clock())
        try:
            with self.engine.begin() as connection:
                connection.execute(insert)
            return True
        except sa.exc.IntegrityError:
            return False

    def purge_events(self, older_than: dt.datetime) -> int:
        with self.session() as session:
            result = session.exec(
                sa.delete(ProcessedEvent).where(col(ProcessedEvent.seen_at) < older_than)
            )
            return int(result.rowcount or 0)

    # -- internals -------------------------------------------------------------------------

    def _find(self, session: Session, name: str) -> Tool | None:
        key = name_key(name)
        tool = session.exec(select(Tool).where(Tool.name_key == key)).first()
        if tool is None:
            tool = session.exec(
                select(Tool)
                .join(Alias, col(Alias.tool_id) == col(Tool.id))
                .where(Alias.alias_key == key)
            ).first()
        return tool

    def _policy_of(self, session: Session, tool: Tool) -> ToolPolicy:
        aliases = session.exec(
            select(Alias.alias).where(Alias.tool_id == tool.id).order_by(col(Alias.id))
        ).all()
        return _to_policy(tool, aliases)

    def _close_names(self, session: Session, name: str) -> list[str]:
        """Up to three tool names close to `name` (by name or alias), the clearly best first."""
        owners: dict[str, str] = {}
        for tool in session.exec(select(Tool)).all():
            owners[tool.name] = tool.name
        for alias, tool_name in session.exec(
            select(Alias.alias, Tool.name).join(Tool, col(Alias.tool_id) == col(Tool.id))
        ):
            owners.setdefault(alias, tool_name)
        hits = process.extract(
            name, list(owners), scorer=fuzz.WRatio, processor=utils.default_process, limit=10
        )
        if not hits or hits[0][1] < _SUGGEST_CUTOFF:
            return []
        # Only names about as close as the best one: "Cluade Code" is Claude Code, not also
        # every tool whose name contains "Code".
        floor = max(_SUGGEST_CUTOFF, hits[0][1] - _SUGGEST_SPREAD)
        names: list[str] = []
        for text, score, _index in hits:
            if score >= floor and owners[text] not in names:
                names.append(owners[text])
        return names[:3]

    def _check_names(self, session: Session, policy: ToolPolicy, tool_id: int | None) -> None:
        """Names and aliases are unique across the registry, ignoring case."""
        wanted = [(policy.name, "name")] + [(a, "alias") for a in policy.aliases]
        seen: set[str] = set()
        for text, kind in wanted:
            key = name_key(text)
            if not key:
                raise PolicyError(f"empty {kind} for '{policy.name}'")
            if key in seen:
                raise PolicyError(f"'{text}' is given twice for '{policy.name}'")
            seen.add(key)
            other = self._find(session, text)
            if other is not None and other.id != tool_id:
                if other.name_key == key:
                    raise PolicyError(f"'{text}' is already the name of a tool ('{other.name}')")
                raise PolicyError(f"'{text}' is already an alias of '{other.name}'")

    def _check_alternatives(self, session: Session, policy: ToolPolicy) -> None:
        for alternative in policy.alternatives:
            if name_key(alternative) == name_key(policy.name):
                raise PolicyError(f"'{policy.name}' cannot be its own alternative")
            if self._find(session, alternative) is None:
                raise UnknownToolError(alternative, self._close_names(session, alternative))

    def _check_not_referenced(self, session: Session, keys: set[str]) -> None:
        for tool in session.exec(select(Tool)).all():
            if tool.name_key in keys:
                continue
            for alternative in tool.alternatives or ():
                if name_key(alternative) in keys:
                    raise PolicyError(
                        f"'{alternative}' is an alternative of '{tool.name}': change that first"
                    )

    def _check_import(
        self,
        session: Session,
        policies: Sequence[ToolPolicy],
        current: dict[str, Tool],
        doomed: set[str],
    ) -> None:
        names: dict[str, str] = {}
        for policy in policies:
            for text in (policy.name, *policy.aliases):
                key = name_key(text)
                if key in names and names[key] != policy.name:
                    raise PolicyError(f"'{text}' names both '{names[key]}' and '{policy.name}'")
                names[key] = policy.name
        incoming = {name_key(p.name) for p in policies}
        # Tools kept from the database (not in the files, not pruned) keep their names.
        for key, tool in current.items():
            if key in incoming or key in doomed:
                continue
            kept = [tool.name, *self._policy_of(session, tool).aliases]
            for text in kept:
                if name_key(text) in names and names[name_key(text)] != tool.name:
                    raise PolicyError(f"'{text}' already names '{tool.name}'")
                names[name_key(text)] = tool.name
        for policy in policies:
            for alternative in policy.alternatives:
                owner = names.get(name_key(alternative))
                if owner is None:
                    raise UnknownToolError(alternative)
        known = {name_key(n) for n in names.values()}
        for key, tool in current.items():
            if key in incoming or key in doomed:
                continue
            for alternative in tool.alternatives or ():
                if name_key(alternative) not in known:
                    raise PolicyError(
                        f"'{alternative}' is an alternative of '{tool.name}': "
                        "keep it or change that"
                    )

    def _write(
        self,
        session: Session,
        policy: ToolPolicy,
        existing: Tool | None,
        author: str,
        source: str,
        expected_version: int | None,
        *,
        check_names: bool = True,
        quiet: bool = False,
        before: ToolPolicy | None = None,
    ) -> Change:
        policy = _normalised(policy)
        if check_names:
            self._check_names(session, policy, existing.id if existing else None)
            self._check_alternatives(session, policy)
        before = self._policy_of(session, existing) if existing else None
        if (
            existing is not None
            and expected_version is not None
            and (existing.version != expected_version)
        ):
            raise StaleEditError(
                f"'{existing.name}' was changed by someone else while you were editing "
                f"(version {existing.version}, you had {expected_version}): reload and try again"
            )
        changed = diff(before, policy)
        if existing is not None and not changed:
            return Change(before, before, {}, existing.version)
        now = self.clock()
        values: dict[str, Any] = {
            "name": policy.name,
            "name_key": name_key(policy.name),
            "vendor": policy.vendor,
            "category": policy.category,
            "status": policy.status.value,
            "reason": policy.reason,
            "conditions": policy.conditions,
            "max_data": policy.max_data.value if policy.max_data else None,
            "alternatives": list(policy.alternatives),
            "effective": policy.effective,
            "owner": policy.owner,
            "link": policy.link,
            "updated_at": now,
        }
        if existing is None:
            tool = Tool(**values, created_at=now)
            session.add(tool)
            _flush_claiming_names(session, policy)
            version = tool.version
            tool_id = tool.id
        else:
            # Conditional on the version read: a concurrent writer makes this match no row.
            updated = session.exec(
                sa.update(Tool)
                .where(col(Tool.id) == existing.id, col(Tool.version) == existing.version)
                .values(**values, version=existing.version + 1)
            )
            if updated.rowcount != 1:
                raise StaleEditError(
                    f"'{existing.name}' was changed by someone else at the same time: try again"
                )
            version = existing.version + 1
            tool_id = existing.id
            session.exec(sa.delete(Alias).where(col(Alias.tool_id) == tool_id))
        for alias in policy.aliases:
            session.add(Alias(tool_id=tool_id or 0, alias=alias, alias_key=name_key(alias)))
        session.add(
            Revision(
                tool_key=name_key(policy.name),
                tool_name=policy.name,
                action="create" if existing is None else "update",
                author=author,
                source=source,
                changes={k: list(v) for k, v in changed.items()},
                at=now,
            )
        )
        self._bump_generation(session)
        _flush_claiming_names(session, policy)
        result = Change(before, replace(policy, updated_at=now), changed, version)
        self._notify(session, ChangeEvent(result, author, source, quiet, now))
        return result

    def _delete(
        self, session: Session, tool: Tool, author: str, source: str, *, quiet: bool = False
    ) -> Change:
        before = self._policy_of(session, tool)
        changed = diff(before, None)
        now = self.clock()
        session.exec(sa.delete(Alias).where(col(Alias.tool_id) == tool.id))
        session.exec(sa.delete(Tool).where(col(Tool.id) == tool.id))
        session.add(
            Revision(
                tool_key=tool.name_key,
                tool_name=tool.name,
                action="delete",
                author=author,
                source=source,
                changes={k: list(v) for k, v in changed.items()},
                at=now,
            )
        )
        self._bump_generation(session)
        session.flush()
        result = Change(before, None, changed, tool.version)
        self._notify(session, ChangeEvent(result, author, source, quiet, now))
        return result

    def _notify(self, session: Session, event: ChangeEvent) -> None:
        for listener in self.listeners:
            listener(session, event)

    def _bump_generation(self, session: Session) -> None:
        result = session.exec(
            sa.update(RegistryState)
            .where(col(RegistryState.id) == 1)
            .values(generation=col(RegistryState.generation) + 1)
        )
        if result.rowcount == 0:
            session.add(RegistryState(id=1, generation=1))


def _flush_claiming_names(session: Session, policy: ToolPolicy) -> None:
    """Flush; a name or alias that a concurrent writer took after our check is a stale edit."""
    try:
        session.flush()
    except sa.exc.IntegrityError as error:
        raise StaleEditError(
            f"'{policy.name}' (or one of its aliases) was just taken by someone else's change: "
            "reload and try again"
        ) from error


def _normalised(policy: ToolPolicy) -> ToolPolicy:
    """Trim text fields, drop empty strings, so that 'changed' means changed."""

    def clean(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    return replace(
        policy,
        name=" ".join(policy.name.split()),
        vendor=clean(policy.vendor),
        category=clean(policy.category),
        reason=clean(policy.reason),
        conditions=clean(policy.conditions),
        owner=clean(policy.owner),
        link=clean(policy.link),
        aliases=tuple(" ".join(a.split()) for a in policy.aliases if a.strip()),
        alternatives=tuple(a.strip() for a in policy.alternatives if a.strip()),
    )

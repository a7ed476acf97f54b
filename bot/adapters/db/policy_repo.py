"""The registry and its history: tool, alias, revision, scheduled_change and registry_state.

Reads are public to everyone; the session-level write helpers (`write`, `delete`,
`schedule`, ...) are called only by `changes.PolicyChanges`, inside its transaction, so
every change goes through one place that checks permissions and domain rules first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlmodel import Session, col, select

from bot.adapters.db.models import (
    Alias,
    AudienceRow,
    PolicyVersion,
    RegistryState,
    Revision,
    ScheduledChange,
    Tool,
)
from bot.adapters.db.store import Store
from bot.domain.audiences import rules_from, rules_plain, translations_from, translations_plain
from bot.domain.errors import StaleEditError, UnknownToolError
from bot.domain.events import Change, RevisionView, diff, plain_value
from bot.domain.names import NameIndex, name_key
from bot.domain.policy import Audience, DataClass, Scheduled, Status, ToolPolicy

# "Did you mean" for unknown tool names: a score floor, and how far below the best to go.
_SUGGEST_CUTOFF = 75.0
_SUGGEST_SPREAD = 5.0


# Stored text -> its enum member, by dictionary: the Enum call was a tenth of a reload.
_STATUSES = {status.value: status for status in Status}
_DATA_CLASSES = {data.value: data for data in DataClass}
# The tool columns a policy is made of, read as plain rows when loading the whole registry.
_POLICY_COLUMNS = (
    col(Tool.id),
    col(Tool.name),
    col(Tool.status),
    col(Tool.vendor),
    col(Tool.category),
    col(Tool.reason),
    col(Tool.conditions),
    col(Tool.max_data),
    col(Tool.alternatives),
    col(Tool.effective),
    col(Tool.owner),
    col(Tool.link),
    col(Tool.rules),
    col(Tool.translations),
    col(Tool.updated_at),
)


def to_policy(
    tool: Tool | sa.Row[Any], aliases: Iterable[str], scheduled: Scheduled | None = None
) -> ToolPolicy:
    """A policy from a tool's row (an ORM object, or a plain row of _POLICY_COLUMNS)."""
    return ToolPolicy(
        name=tool.name,
        status=_STATUSES[tool.status],
        vendor=tool.vendor,
        aliases=tuple(aliases),
        category=tool.category,
        reason=tool.reason,
        conditions=tool.conditions,
        max_data=_DATA_CLASSES[tool.max_data] if tool.max_data else None,
        alternatives=tuple(tool.alternatives or ()),
        effective=tool.effective,
        owner=tool.owner,
        link=tool.link,
        updated_at=tool.updated_at,
        scheduled=scheduled,
        rules=rules_from(tool.rules),
        translations=translations_from(tool.translations),
    )


def policy_from_values(name: str, values: dict[str, Any]) -> ToolPolicy:
    """A policy from JSON-friendly field values (a revision's, a scheduled change's)."""
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
        rules=rules_from(values.get("rules")),
        translations=translations_from(values.get("translations") or None),
    )


def revision_view(row: Revision) -> RevisionView:
    """A revision as readers see it, with the number of the policy version it belongs to."""
    return RevisionView(
        row.tool_name, row.action, row.author, row.source, row.at, row.changes, row.version_id
    )


def with_values(policy: ToolPolicy, values: dict[str, Any]) -> ToolPolicy:
    """`policy` with some fields replaced by JSON-friendly values."""
    plain = {
        name: plain_value(getattr(policy, name))
        for name in (*ToolPolicy.FIELDS, *ToolPolicy.SCOPED)
    }
    plain.update(values)
    return replace(policy_from_values(policy.name, plain), updated_at=policy.updated_at)


def _scheduled(row: ScheduledChange, current_status: str) -> Scheduled:
    status = row.changes.get("status", current_status)
    return Scheduled(effective=row.effective, status=Status(status))


@dataclass(frozen=True)
class LoadedPolicies:
    """The registry as one load read it: the policies in name order, and each tool's row
    version and policy by id, so the next load reads again only what changed."""

    policies: tuple[ToolPolicy, ...]
    rows: Mapping[int, tuple[Stamp, ToolPolicy]]


# What tells a row read before from one to read again: its version moves on every write,
# and SQLite may give a removed tool's id to the next tool added, so its name and creation
# too (as the database holds it: converting 10,000 times was a third of a reload).
Stamp = tuple[int, str, Any]
_STAMP_COLUMNS = (
    col(Tool.id),
    col(Tool.version),
    col(Tool.name_key),
    sa.type_coerce(col(Tool.created_at), sa.String).label("created"),
)


def _stamp(row: sa.Row[Any]) -> Stamp:
    return (row.version, row.name_key, row.created)


_BATCH = 500  # ids in one IN (...) list


class PolicyRepository:
    """Reads the registry for everyone; writes for `PolicyChanges` only."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ---------------------------------------------------------------------------

    def generation(self) -> int:
        with self.store.reader() as session:
            state = session.get(RegistryState, 1)
            return state.generation if state else 0

    def policies(self) -> list[ToolPolicy]:
        """Every policy, in name order."""
        return list(self.load().policies)

    def load(self, previous: LoadedPolicies | None = None) -> LoadedPolicies:
        """Every policy, in name order, read in a few queries of plain rows (ORM objects for
        10,000 tools cost most of a reload). Given the previous load, only the tools whose
        row version moved are read again: after one change, one row."""
        known = previous.rows if previous is not None else {}
        with self.store.reader() as session:
            aliases: dict[int, list[str]] = {}
            for tool_id, alias in session.exec(
                select(Alias.tool_id, Alias.alias).order_by(col(Alias.id))
            ):
                aliases.setdefault(tool_id, []).append(alias)
            pending = {row.tool_id: row for row in session.exec(select(ScheduledChange)).all()}
            heads = [
                (row.id or 0, _stamp(row))
                for row in session.execute(sa.select(*_STAMP_COLUMNS).order_by(col(Tool.name_key)))
            ]
            stale = [i for i, stamp in heads if i not in known or known[i][0] != stamp]
            fresh = {
                row.id: row
                for row in self._rows(session, stale, everything=len(stale) == len(heads))
            }
        rows: dict[int, tuple[Stamp, ToolPolicy]] = {}
        for tool_id, _ in heads:
            names = tuple(aliases.get(tool_id, ()))
            change = pending.get(tool_id)
            row = fresh.get(tool_id)
            if row is not None:
                scheduled = _scheduled(change, row.status) if change is not None else None
                rows[tool_id] = (_stamp(row), to_policy(row, names, scheduled))
                continue
            if tool_id not in known:
                continue  # removed between the two reads: the next load will not list it
            stamp, policy = known[tool_id]
            # Aliases and scheduled changes can move without the tool's row.
            scheduled = _scheduled(change, policy.status.value) if change is not None else None
            if policy.aliases != names or policy.scheduled != scheduled:
                policy = replace(policy, aliases=names, scheduled=scheduled)
            rows[tool_id] = (stamp, policy)
        return LoadedPolicies(tuple(policy for _, policy in rows.values()), rows)

    @staticmethod
    def _rows(session: Session, ids: list[int], *, everything: bool) -> list[sa.Row[Any]]:
        """The policy columns (and row version) of the tools `ids`, in batches."""
        columns = (*_POLICY_COLUMNS, *_STAMP_COLUMNS[1:])
        if everything:
            return list(session.execute(sa.select(*columns)))
        found: list[sa.Row[Any]] = []
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            found += session.execute(sa.select(*columns).where(col(Tool.id).in_(batch)))
        return found

    def index(self, session: Session) -> NameIndex:
        """Every name and alias in the registry -> its tool's name."""
        index = NameIndex()
        for name in session.exec(select(Tool.name)).all():  # names only: no ORM objects
            index.add(name)
        for alias, tool_name in session.exec(
            select(Alias.alias, Tool.name).join(Tool, col(Alias.tool_id) == col(Tool.id))
        ):
            index.add(tool_name, [alias])
        return index

    def get(self, name: str) -> ToolPolicy | None:
        with self.store.reader() as session:
            found = self.find(session, name)
            return self.policy_of(session, found) if found else None

    def version_of(self, name: str) -> int | None:
        with self.store.reader() as session:
            found = self.find(session, name)
            return found.version if found else None

    def list_tools(self, status: Status | None = None) -> list[ToolPolicy]:
        return [p for p in self.policies() if status is None or p.status == status]

    def resolve(self, name: str) -> ToolPolicy:
        """The tool called `name` (or with that alias); UnknownToolError with close names."""
        with self.store.reader() as session:
            found = self.find(session, name)
            if found is None:
                raise UnknownToolError(name, self.close_names(session, name))
            return self.policy_of(session, found)

    def history(self, name: str) -> list[RevisionView]:
        """Every revision of a tool, oldest first; works for removed tools too."""
        with self.store.reader() as session:
            found = self.find(session, name)
            key = found.name_key if found else name_key(name)
            rows = session.exec(
                select(Revision)
                .where(Revision.tool_key == key)
                .order_by(col(Revision.at), col(Revision.id))
            ).all()
            if not rows and found is None:
                raise UnknownToolError(name, self.close_names(session, name))
            return [revision_view(r) for r in rows]

    def recent_changes(self, limit: int = 10) -> list[RevisionView]:
        with self.store.reader() as session:
            rows = session.exec(select(Revision).order_by(col(Revision.id).desc()).limit(limit))
            return [revision_view(r) for r in rows]

    def changed_since(self, since: dt.datetime) -> set[str]:
        """The names (as the revisions wrote them) of the tools changed at or after `since`:
        one indexed query of names, not the revisions themselves. The baseline (the first
        load into an empty registry) is recorded, never news: it is no change."""
        with self.store.reader() as session:
            query = (
                select(Revision.tool_name)
                .outerjoin(PolicyVersion, col(PolicyVersion.id) == col(Revision.version_id))
                .where(col(Revision.at) >= since)
                .where(sa.or_(col(PolicyVersion.baseline).is_(None), ~col(PolicyVersion.baseline)))
                .distinct()
            )
            return set(session.exec(query).all())

    def policy_on(self, name: str, day: dt.date, tz: dt.tzinfo = dt.UTC) -> ToolPolicy | None:
        """The policy a tool had at the end of `day` (in `tz`), rebuilt from its revisions.

        A scheduled change counts from the day it took effect (its own revision), not from
        the day it was decided.
        """
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        values: dict[str, Any] | None = None
        tool_name = name
        for revision in self.history(name):
            if revision.at >= end or revision.action in ("schedule", "unschedule"):
                continue
            tool_name = revision.tool
            if revision.action == "delete":
                values = None
                continue
            values = dict(values or {})
            for field_name, (_old, new) in revision.changes.items():
                values[field_name] = new
        return policy_from_values(tool_name, values) if values else None

    def suggestions(self, name: str) -> list[str]:
        with self.store.reader() as session:
            return self.close_names(session, name)

    # -- session-level helpers for PolicyChanges -------------------------------------------

    def find(self, session: Session, name: str) -> Tool | None:
        key = name_key(name)
        tool = session.exec(select(Tool).where(Tool.name_key == key)).first()
        if tool is None:
            tool = session.exec(
                select(Tool)
                .join(Alias, col(Alias.tool_id) == col(Tool.id))
                .where(Alias.alias_key == key)
            ).first()
        return tool

    def tools(self, session: Session) -> list[Tool]:
        return list(session.exec(select(Tool)).all())

    def pending(self, session: Session, tool: Tool) -> ScheduledChange | None:
        """The tool's scheduled change, if it has one."""
        return session.exec(
            select(ScheduledChange).where(ScheduledChange.tool_id == tool.id)
        ).first()

    def policy_of(self, session: Session, tool: Tool) -> ToolPolicy:
        aliases = session.exec(
            select(Alias.alias).where(Alias.tool_id == tool.id).order_by(col(Alias.id))
        ).all()
        pending = self.pending(session, tool)
        return to_policy(tool, aliases, _scheduled(pending, tool.status) if pending else None)

    def registry(self, session: Session) -> dict[str, tuple[int, ToolPolicy]]:
        """Every tool's id and policy (as `policy_of` reads it) by name key, in three queries
        of plain rows, not an ORM object a tool: what an import compares the files with."""
        aliases: dict[int, list[str]] = {}
        for tool_id, alias in session.exec(
            select(Alias.tool_id, Alias.alias).order_by(col(Alias.id))
        ):
            aliases.setdefault(tool_id, []).append(alias)
        pending = {row.tool_id: row for row in session.exec(select(ScheduledChange)).all()}
        found: dict[str, tuple[int, ToolPolicy]] = {}
        for row in session.execute(sa.select(*_POLICY_COLUMNS, col(Tool.name_key))):
            change = pending.get(row.id)
            scheduled = _scheduled(change, row.status) if change is not None else None
            found[row.name_key] = (row.id, to_policy(row, aliases.get(row.id, ()), scheduled))
        return found

    def close_names(self, session: Session, name: str) -> list[str]:
        """Up to three tool names close to `name` (by name or alias), the clearly best first."""
        owners: dict[str, str] = {}
        for tool_name in session.exec(select(Tool.name)).all():
            owners[tool_name] = tool_name
        for alias, tool_name in session.exec(
            select(Alias.alias, Tool.name).join(Tool, col(Alias.tool_id) == col(Tool.id))
        ):
            owners.setdefault(alias, tool_name)
        # The whole name against the whole name: WRatio's partial matches made "Foobar" close
        # to Gemini (through its alias "Bard"), a name nobody could have meant.
        hits = process.extract(
            name, list(owners), scorer=fuzz.ratio, processor=utils.default_process, limit=10
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

    def dependents(self, session: Session, keys: set[str], index: NameIndex) -> dict[str, str]:
        """Tools outside `keys` naming one of them as an alternative: tool -> that alternative."""
        owners = {name_key(index.tool_for(k) or k) for k in keys}
        found: dict[str, str] = {}
        for tool in session.exec(select(Tool).order_by(col(Tool.name_key))).all():
            if tool.name_key in owners:
                continue
            for alternative in tool.alternatives or ():
                target = index.tool_for(alternative) or alternative
                if name_key(target) in owners:
                    found[tool.name] = target
        return found

    def write(
        self,
        session: Session,
        policy: ToolPolicy,
        existing: Tool | None,
        before: ToolPolicy | None,
        *,
        author: str,
        source: str,
        at: dt.datetime,
        expected_version: int | None = None,
    ) -> Change:
        """Make the tool's row exactly `policy` and record the revision; a no-op if equal."""
        if existing is not None:
            self.check_version(existing, expected_version)
        changed = diff(before, policy)
        if existing is not None and not changed:
            return Change(before, before, {}, existing.version)
        now = self.store.clock()
        values = _tool_values(policy, now)
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
            session.flush()
        for alias in policy.aliases:
            session.add(Alias(tool_id=tool_id or 0, alias=alias, alias_key=name_key(alias)))
        action = "create" if existing is None else "update"
        self.record(session, policy.name, action, changed, author=author, source=source, at=at)
        _flush_claiming_names(session, policy)
        return Change(before, replace(policy, updated_at=now), changed, version)

    def create_many(
        self,
        session: Session,
        policies: Sequence[ToolPolicy],
        *,
        author: str,
        source: str,
        at: dt.datetime,
    ) -> list[Change]:
        """`write` for many new tools at once (an import): their rows, aliases and `create`
        revisions in three statements, not three round trips a tool. The revisions are
        added in the order of `policies`."""
        if not policies:
            return []
        now = self.store.clock()
        rows = [{**_tool_values(policy, now), "created_at": now} for policy in policies]
        try:
            ids = session.execute(
                sa.insert(_TOOL).returning(_TOOL.c.id, sort_by_parameter_order=True), rows
            ).scalars()
            aliases = [
                {"tool_id": tool_id, "alias": alias, "alias_key": name_key(alias)}
                for tool_id, policy in zip(ids, policies, strict=True)
                for alias in policy.aliases
            ]
            if aliases:
                session.execute(sa.insert(_ALIAS), aliases)
        except sa.exc.IntegrityError as error:
            raise StaleEditError(
                "a name or alias of the imported tools was just taken by someone else's "
                "change: try again"
            ) from error
        changes = []
        revisions = []
        for policy in policies:
            changed = diff(None, policy)
            changes.append(Change(None, replace(policy, updated_at=now), changed, 1))
            revisions.append(_revision_values(policy.name, "create", changed, author, source, at))
        session.execute(sa.insert(_REVISION), revisions)
        return changes

    def check_version(self, tool: Tool, expected_version: int | None) -> None:
        """StaleEditError when the editor saw another version than the tool is at now."""
        if expected_version is not None and tool.version != expected_version:
            raise StaleEditError(
                f"'{tool.name}' was changed by someone else while you were editing "
                f"(version {tool.version}, you had {expected_version}): reload and try again"
            )

    def delete(
        self, session: Session, tool: Tool, *, author: str, source: str, at: dt.datetime
    ) -> Change:
        before = self.policy_of(session, tool)
        changed = diff(before, None)
        session.exec(sa.delete(ScheduledChange).where(col(ScheduledChange.tool_id) == tool.id))
        session.exec(sa.delete(Alias).where(col(Alias.tool_id) == tool.id))
        session.exec(sa.delete(Tool).where(col(Tool.id) == tool.id))
        self.record(session, tool.name, "delete", changed, author=author, source=source, at=at)
        session.flush()
        return Change(before, None, changed, tool.version)

    def free_claimed_aliases(
        self, session: Session, claims: Mapping[str, str], tool_ids: Mapping[str, int]
    ) -> None:
        """Drop aliases that `claims` (name key -> tool key) gives to another tool than the
        one holding them (`tool_ids`: tool key -> its id)."""
        owner_of = {tool_id: key for key, tool_id in tool_ids.items()}
        # Plain rows, not ORM objects: an import reads every alias of the registry here.
        freed = [
            alias_id
            for alias_id, tool_id, alias_key in session.exec(
                select(Alias.id, Alias.tool_id, Alias.alias_key)
            )
            if (claimant := claims.get(alias_key)) is not None and claimant != owner_of.get(tool_id)
        ]
        for start in range(0, len(freed), _BATCH):
            session.exec(sa.delete(Alias).where(col(Alias.id).in_(freed[start : start + _BATCH])))
        session.flush()

    def schedule(
        self,
        session: Session,
        tool: Tool,
        changes: dict[str, Any],
        effective: dt.date,
        *,
        author: str,
        source: str,
        quiet: bool,
        at: dt.datetime,
        revision_changes: dict[str, tuple[Any, Any]],
    ) -> None:
        """Keep a change for `effective` (replacing the tool's earlier pending one)."""
        session.exec(sa.delete(ScheduledChange).where(col(ScheduledChange.tool_id) == tool.id))
        session.add(
            ScheduledChange(
                tool_id=tool.id or 0,
                effective=effective,
                changes=changes,
                author=author,
                source=source,
                quiet=quiet,
                created_at=at,
            )
        )
        self.record(
            session, tool.name, "schedule", revision_changes, author=author, source=source, at=at
        )
        session.flush()

    def unschedule(
        self, session: Session, tool: Tool, *, author: str, source: str, at: dt.datetime
    ) -> dict[str, tuple[Any, Any]]:
        """Drop the tool's scheduled change; its revision says, field by field, what was
        planned -> what stays. Empty when the tool had none."""
        pending = self.pending(session, tool)
        if pending is None:
            return {}
        current = to_policy(tool, ())
        kept = {name: plain_value(getattr(current, name)) for name in pending.changes}
        changed = {name: (planned, kept[name]) for name, planned in pending.changes.items()}
        session.delete(pending)
        self.record(session, tool.name, "unschedule", changed, author=author, source=source, at=at)
        session.flush()
        return changed

    def due(self, session: Session, today: dt.date) -> list[ScheduledChange]:
        """Scheduled changes whose day has come, oldest day first."""
        return list(
            session.exec(
                select(ScheduledChange)
                .where(col(ScheduledChange.effective) <= today)
                .order_by(col(ScheduledChange.effective), col(ScheduledChange.id))
            ).all()
        )

    def has_due(self, today: dt.date) -> bool:
        with self.store.reader() as session:
            return (
                session.exec(
                    select(ScheduledChange.id).where(col(ScheduledChange.effective) <= today)
                ).first()
                is not None
            )

    def take_due(self, session: Session, row: ScheduledChange) -> bool:
        """Claim a due change (delete its row); False when another process applied it first."""
        result = session.exec(sa.delete(ScheduledChange).where(col(ScheduledChange.id) == row.id))
        return result.rowcount == 1

    def record(
        self,
        session: Session,
        tool_name: str,
        action: str,
        changed: dict[str, tuple[Any, Any]],
        *,
        author: str,
        source: str,
        at: dt.datetime,
    ) -> None:
        session.add(Revision(**_revision_values(tool_name, action, changed, author, source, at)))

    # -- audiences ---------------------------------------------------------------------------

    def audiences(self) -> list[Audience]:
        """Every audience, in the order policies/audiences.yaml lists them."""
        with self.store.reader() as session:
            return self.audiences_in(session)

    def audiences_in(self, session: Session) -> list[Audience]:
        rows = session.exec(select(AudienceRow).order_by(col(AudienceRow.position))).all()
        return [
            Audience(
                row.name,
                row.title,
                row.slack_usergroup,
                tuple(row.members or ()),
                tuple(sorted((row.titles or {}).items())),
            )
            for row in rows
        ]

    def replace_audiences(self, session: Session, audiences: Iterable[Audience]) -> bool:
        """Make the audience table exactly `audiences` (in order); whether anything changed."""
        wanted = list(audiences)
        if self.audiences_in(session) == wanted:
            return False
        session.exec(sa.delete(AudienceRow))
        session.flush()
        for position, audience in enumerate(wanted):
            session.add(
                AudienceRow(
                    name=audience.name,
                    title=audience.title,
                    slack_usergroup=audience.slack_usergroup,
                    members=list(audience.members),
                    titles=dict(audience.titles),
                    position=position,
                )
            )
        session.flush()
        return True

    def bump_generation(self, session: Session) -> None:
        result = session.exec(
            sa.update(RegistryState)
            .where(col(RegistryState.id) == 1)
            .values(generation=col(RegistryState.generation) + 1)
        )
        if result.rowcount == 0:
            session.add(RegistryState(id=1, generation=1))


# Core tables for the bulk statements of an import (no ORM object per row).
_TOOL = cast(sa.Table, Tool.__table__)  # type: ignore[attr-defined]
_ALIAS = cast(sa.Table, Alias.__table__)  # type: ignore[attr-defined]
_REVISION = cast(sa.Table, Revision.__table__)  # type: ignore[attr-defined]


def _tool_values(policy: ToolPolicy, now: dt.datetime) -> dict[str, Any]:
    """A tool row's columns for `policy`, written at `now`."""
    return {
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
        "rules": rules_plain(policy.rules) or None,
        "translations": translations_plain(policy.translations) or None,
        "updated_at": now,
    }


def _revision_values(
    tool_name: str,
    action: str,
    changed: dict[str, tuple[Any, Any]],
    author: str,
    source: str,
    at: dt.datetime,
) -> dict[str, Any]:
    """A revision row's columns: who changed which tool how, when, each field old -> new."""
    return {
        "tool_key": name_key(tool_name),
        "tool_name": tool_name,
        "action": action,
        "author": author,
        "source": source,
        "changes": {k: list(v) for k, v in changed.items()},
        "at": at,
    }


def _flush_claiming_names(session: Session, policy: ToolPolicy) -> None:
    """Flush; a name or alias that a concurrent writer took after our check is a stale edit."""
    try:
        session.flush()
    except sa.exc.IntegrityError as error:
        raise StaleEditError(
            f"'{policy.name}' (or one of its aliases) was just taken by someone else's change: "
            "reload and try again"
        ) from error

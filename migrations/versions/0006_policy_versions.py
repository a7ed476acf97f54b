"""policy versions: every change belongs to one; announcements tell of a version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:20:00

Existing data is kept and placed in versions: every announcement of a change (or a manual
re-send) becomes a version of its own, with its acknowledgements; every revision written in
the same moment as such an announcement of its tool belongs to that version; every other
revision (imports, quiet changes, aliases) belongs to one baseline version, "history before
versions", numbered first.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A revision and its announcement were written in one transaction: within this of each other.
SAME_MOMENT = dt.timedelta(seconds=5)


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_policy_version_created_at", "policy_version", ["created_at"])
    # A plain ADD COLUMN, never a batch table copy: on SQLite copying `announcement` would
    # drop the old table, and its acknowledgements with it (ON DELETE CASCADE).
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("revision", "announcement"):
        if sqlite:  # SQLite takes a foreign key in ADD COLUMN, not in a separate ALTER
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN version_id INTEGER REFERENCES policy_version (id)"
            )
            op.create_index(f"ix_{table}_version_id", table, ["version_id"])
            continue
        op.add_column(
            table,
            sa.Column(
                "version_id",
                sa.Integer(),
                sa.ForeignKey("policy_version.id", name=f"fk_{table}_version_id_policy_version"),
                nullable=True,
            ),
        )
        op.create_index(f"ix_{table}_version_id", table, ["version_id"])
    op.create_index("ix_delivery_recipient_status", "delivery", ["recipient", "status"])
    op.create_index("ix_audience_member_user_id", "audience_member", ["user_id"])
    place_existing_history(op.get_bind())


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def place_existing_history(connection: sa.Connection) -> None:
    """Put the revisions and announcements written before versions into versions."""
    meta = sa.MetaData()
    version = sa.Table("policy_version", meta, autoload_with=connection)
    revision_t = sa.Table("revision", meta, autoload_with=connection)
    announcement = sa.Table("announcement", meta, autoload_with=connection)
    revisions = connection.execute(
        sa.select(revision_t.c.id, revision_t.c.tool_key, revision_t.c.at).order_by(
            revision_t.c.id
        )
    ).all()
    announced = connection.execute(
        sa.select(
            announcement.c.id,
            announcement.c.tool_key,
            announcement.c.summary,
            announcement.c.author,
            announcement.c.created_at,
        )
        .where(announcement.c.kind.in_(("change", "manual")))
        .order_by(announcement.c.id)
    ).all()
    if not revisions and not announced:
        return
    baseline_id = None
    if revisions:
        first = min(_aware(r.at) for r in revisions)
        baseline_id = connection.execute(
            version.insert()
            .values(
                author="policybot",
                source="migration",
                summary="History before versions",
                baseline=True,
                created_at=first,
            )
            .returning(version.c.id)
        ).scalar_one()
    of_announcement: dict[int, int] = {}
    for row in announced:
        of_announcement[row.id] = connection.execute(
            version.insert()
            .values(
                author=row.author,
                source="migration",
                summary=row.summary,
                baseline=False,
                created_at=_aware(row.created_at),
            )
            .returning(version.c.id)
        ).scalar_one()
        connection.execute(
            announcement.update()
            .where(announcement.c.id == row.id)
            .values(version_id=of_announcement[row.id])
        )
    for rev in revisions:
        at = _aware(rev.at)
        match = [
            a
            for a in announced
            if a.tool_key == rev.tool_key and abs(_aware(a.created_at) - at) <= SAME_MOMENT
        ]
        target = of_announcement[match[0].id] if match else baseline_id
        connection.execute(
            revision_t.update().where(revision_t.c.id == rev.id).values(version_id=target)
        )


def downgrade() -> None:
    op.drop_index("ix_audience_member_user_id", "audience_member")
    op.drop_index("ix_delivery_recipient_status", "delivery")
    for table in ("announcement", "revision"):
        op.drop_index(f"ix_{table}_version_id", table)
        if op.get_bind().dialect.name == "sqlite":
            # SQLite drops a column only without a foreign key on it: rebuild, children kept.
            op.execute("PRAGMA foreign_keys=OFF")
            with op.batch_alter_table(table) as batch_op:
                batch_op.drop_column("version_id")
            op.execute("PRAGMA foreign_keys=ON")
        else:
            op.drop_constraint(f"fk_{table}_version_id_policy_version", table, "foreignkey")
            op.drop_column(table, "version_id")
    op.drop_index("ix_policy_version_created_at", "policy_version")
    op.drop_table("policy_version")

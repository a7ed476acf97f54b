"""staged changes: the draft of the next policy version

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 04:10:00

`draft set …` and the other staged commands are kept here, in the order staged, until
`publish` replays them as one policy version or `discard` drops them. Nothing else refers
to these rows, so adding and dropping the table loses nothing but an unpublished draft.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staged_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("tool_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("staged_change")

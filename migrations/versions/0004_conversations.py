"""conversation context for follow-ups, and which reply answered which message

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_context",
        sa.Column("conversation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation"),
    )
    op.create_index(
        op.f("ix_conversation_context_updated_at"),
        "conversation_context",
        ["updated_at"],
        unique=False,
    )
    op.create_table(
        "answered_message",
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reply_ts", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("thread_ts", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_ts"),
    )
    op.create_index(op.f("ix_answered_message_at"), "answered_message", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_answered_message_at"), table_name="answered_message")
    op.drop_table("answered_message")
    op.drop_index(op.f("ix_conversation_context_updated_at"), table_name="conversation_context")
    op.drop_table("conversation_context")

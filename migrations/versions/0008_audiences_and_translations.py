"""audiences, rules per audience and policy texts per language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 01:40:00

Two nullable JSON columns on `tool` (`rules`, `translations`): NULL is no rule and no
translation, so every existing policy stays the default for everyone. The `audience` table
holds policies/audiences.yaml as imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tool") as batch:
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    op.create_table(
        "audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("slack_usergroup", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("audience")
    with op.batch_alter_table("tool") as batch:
        batch.drop_column("translations")
        batch.drop_column("rules")

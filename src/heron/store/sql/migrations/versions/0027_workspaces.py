"""Workspaces: experiments and registered models belong to one (`default` until said
otherwise), and their names are unique within it instead of across the server; the `default`
workspace row exists.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_TABLES = (
    ("experiments", "uq_experiments_name"),
    ("registered_models", "uq_registered_models_name"),
)


def upgrade() -> None:
    # SQLite rebuilds each table to change its unique constraint; migrate.upgrade runs with
    # foreign keys off there, so dropping the old copy deletes none of its children's rows.
    for table, unique in _TABLES:
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.add_column(
                sa.Column("workspace", sa.String(63), nullable=False, server_default="default")
            )
            batch.drop_constraint(unique, type_="unique")
            batch.create_unique_constraint(f"uq_{table}_workspace_name", ["workspace", "name"])
        op.create_index(f"ix_{table}_workspace", table, ["workspace"])
    op.execute(
        sa.text(
            "INSERT INTO workspaces (name, description, created_time) "
            "SELECT 'default', 'The workspace of everything made without one', 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM workspaces WHERE name = 'default')"
        )
    )


def downgrade() -> None:
    for table, unique in _TABLES:
        op.drop_index(f"ix_{table}_workspace", table_name=table)
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_constraint(f"uq_{table}_workspace_name", type_="unique")
            batch.create_unique_constraint(unique, ["name"])
            batch.drop_column("workspace")

"""Evaluation datasets and their records keep who created and last changed them as text: the
caller's name, which no column width bounds (varchar(256) in 0012 let a long Basic user name
become a database error on PostgreSQL).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 05:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TABLES = ("evaluation_datasets", "evaluation_dataset_records")
_COLUMNS = ("created_by", "last_updated_by")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _COLUMNS:
                batch.alter_column(
                    column, type_=sa.Text(), existing_type=sa.String(length=256),
                    existing_nullable=True,
                )  # fmt: skip


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _COLUMNS:
                batch.alter_column(
                    column, type_=sa.String(length=256), existing_type=sa.Text(),
                    existing_nullable=True,
                )  # fmt: skip

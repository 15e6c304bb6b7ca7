"""Serving endpoints and the inference tables keep who created an endpoint and who sent a
request as text: the caller's name, up to 256 characters (a user or token owner), which
varchar(250) in 0011 refused on PostgreSQL (as 0016 did for evaluation datasets).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_COLUMNS = (("serving_endpoints", "creator"), ("inference_records", "requester"))


def upgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.Text(), existing_type=sa.String(length=250),
                existing_nullable=False,
            )  # fmt: skip


def downgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.String(length=250), existing_type=sa.Text(),
                existing_nullable=False,
            )  # fmt: skip

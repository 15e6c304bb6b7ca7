"""judge_limits: one row per judge endpoint, the token bucket its callers share across
processes on one database (tokens used in the current minute, and the pause a 429 asked for).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judge_limits",
        sa.Column("endpoint_key", sa.String(64), primary_key=True),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_tokens", sa.BigInteger, nullable=False),
        sa.Column("paused_until_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("judge_limits")

"""Indexes for sorting and filtering runs by metrics (to be filled in; empty until then).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Indexes for trace search (to be filled in; empty until then).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

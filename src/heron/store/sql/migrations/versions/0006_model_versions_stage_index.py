"""An index serving the newest version in each stage of a page of models (latest_versions).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEX = "ix_model_versions_stage"


def upgrade() -> None:
    op.create_index(_INDEX, "model_versions", ["registered_model_id", "current_stage", "version"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="model_versions")

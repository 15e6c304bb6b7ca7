"""Access tokens' names as text: with field encryption on, a name is stored sealed
(heron-enc:1:..., a few hundred characters for a name of 256), which varchar(256) cannot hold.
The limit users see stays 256 characters, checked on input (principals.MAX_NAME).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.alter_column(
            "name", type_=sa.Text(), existing_type=sa.String(length=256), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_tokens") as batch:
        batch.alter_column(
            "name", type_=sa.String(length=256), existing_type=sa.Text(), existing_nullable=False
        )

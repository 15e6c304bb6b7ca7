"""latest_metrics keeps each point also as MLflow's messages write it (point_json, see
run_writes.point_json), so that a page of runs is answered from JSON the database joins, with
no Python object per value. Existing rows are filled in here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from heron.store.sql.run_writes import point_json

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "latest_metrics",
        sa.Column("point_json", sa.Text(), nullable=False, server_default=""),
    )
    conn = op.get_bind()
    page = sa.text(
        "SELECT run_uuid, key, step, timestamp, value, is_nan FROM latest_metrics "
        "WHERE run_uuid > :r OR (run_uuid = :r AND key > :k) ORDER BY run_uuid, key LIMIT 10000"
    )
    update = sa.text("UPDATE latest_metrics SET point_json = :j WHERE run_uuid = :r AND key = :k")
    after = {"r": "", "k": ""}
    while batch := conn.execute(page, after).fetchall():
        conn.execute(
            update,
            [
                {"j": point_json(key, step, ts, value, bool(nan)), "r": run, "k": key}
                for run, key, step, ts, value, nan in batch
            ],
        )
        after = {"r": batch[-1][0], "k": batch[-1][1]}


def downgrade() -> None:
    op.drop_column("latest_metrics", "point_json")

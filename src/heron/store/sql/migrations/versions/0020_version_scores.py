"""A version's scores read one index range: assessments keep their trace's app version
(filled in from the traces here), and the scores index ends with it; the version index of
traces also holds the input and output tokens, so an overview of one version is covered too.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 06:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from heron.store.sql.traces_derived import MAX_INDEXED

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_MODEL_INDEX = ["experiment_id", "model_id", "request_time", "state", "execution_duration"]
_SCORES_INDEX = ["experiment_id", "trace_time", "kind", "valid", "name", "score"]


def upgrade() -> None:
    op.add_column(
        "assessments", sa.Column("model_id", sa.String(length=MAX_INDEXED), nullable=True)
    )
    op.execute(
        "UPDATE assessments SET model_id = "
        "(SELECT t.model_id FROM traces AS t WHERE t.trace_id = assessments.trace_id)"
    )
    op.drop_index("ix_assessments_scores", table_name="assessments")
    op.create_index("ix_assessments_scores", "assessments", [*_SCORES_INDEX, "model_id"])
    op.drop_index("ix_traces_model", table_name="traces")
    op.create_index(
        "ix_traces_model",
        "traces",
        [*_MODEL_INDEX, "input_tokens", "output_tokens", "total_tokens", "total_cost"],
    )


def downgrade() -> None:
    op.drop_index("ix_traces_model", table_name="traces")
    op.create_index("ix_traces_model", "traces", [*_MODEL_INDEX, "total_tokens", "total_cost"])
    op.drop_index("ix_assessments_scores", table_name="assessments")
    op.create_index("ix_assessments_scores", "assessments", _SCORES_INDEX)
    op.drop_column("assessments", "model_id")

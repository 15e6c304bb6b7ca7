"""Where Heron's search answers on purpose other than MLflow 3.17.2, cell by cell, and why.

Every other cell of cells.py answers as MLflow does (mlflow-3.17.2.json): the same names where
MLflow answers, INVALID_PARAMETER_VALUE where it refuses or fails. Pure data, like cells.py."""

from __future__ import annotations

# Heron accepts more: MLflow refuses these cells (or fails on them with a 500).
EXTENSIONS: dict[str, list[str]] = {
    # IN / NOT IN on text fields where MLflow takes them only for run ids.
    "runs:params.lr:IN": ["alpha"],
    "runs:params.lr:NOT IN": ["beta"],
    "runs:tags.team:IN": ["alpha"],
    "runs:tags.team:NOT IN": ["beta"],
    "runs:attributes.run_name:IN": ["alpha", "beta"],
    "runs:attributes.run_name:NOT IN": ["gamma"],
    "runs:attributes.status:IN": ["alpha", "beta"],
    "runs:attributes.status:NOT IN": ["gamma"],
    "runs:attributes.user_id:IN": ["beta"],
    "runs:attributes.user_id:NOT IN": ["alpha", "gamma"],
    "runs:attributes.artifact_uri:IN": ["alpha"],
    "runs:attributes.artifact_uri:NOT IN": ["beta", "gamma"],
    "traces:name:IN": ["t-alpha"],
    "traces:name:NOT IN": ["t-beta", "t-gamma"],
    "traces:run_id:IN": ["t-alpha"],
    "traces:run_id:NOT IN": [],
    "traces:tags.team:IN": ["t-alpha"],
    "traces:tags.team:NOT IN": ["t-beta"],
    "traces:metadata.env:IN": ["t-alpha"],
    "traces:metadata.env:NOT IN": ["t-beta"],
    "traces:span.attributes.model:IN": ["t-alpha"],
    "traces:span.attributes.model:NOT IN": ["t-beta"],
    "traces:feedback.score:IN": [],
    "traces:feedback.score:NOT IN": ["t-alpha", "t-beta"],
    "traces:feedback.verdict:IN": ["t-alpha"],
    "traces:feedback.verdict:NOT IN": ["t-beta"],
    "traces:expectation.answer:IN": ["t-alpha"],
    "traces:expectation.answer:NOT IN": ["t-beta"],
    # A run's lifecycle stage (active, deleted) as a text attribute.
    "runs:attributes.lifecycle_stage:=": ["alpha", "beta", "gamma"],
    "runs:attributes.lifecycle_stage:!=": [],
    "runs:attributes.lifecycle_stage:LIKE": ["alpha", "beta", "gamma"],
    "runs:attributes.lifecycle_stage:ILIKE": ["alpha", "beta", "gamma"],
    "runs:attributes.lifecycle_stage:IN": ["alpha", "beta", "gamma"],
    "runs:attributes.lifecycle_stage:NOT IN": [],
    # last_updated_time is MLflow's own alias of last_updated_timestamp (as creation_time is
    # of creation_timestamp), but its server fails on = and != and refuses < <= > >=.
    "logged_models:last_updated_time:=": ["lm-beta"],
    "logged_models:last_updated_time:!=": ["lm-alpha"],
    "logged_models:last_updated_time:<": ["lm-alpha"],
    "logged_models:last_updated_time:<=": ["lm-alpha", "lm-beta"],
    "logged_models:last_updated_time:>": [],
    "logged_models:last_updated_time:>=": ["lm-beta"],
}

# Heron answers otherwise: MLflow compares a stored form its filter never matches.
DIFFERENCES: dict[str, list[str]] = {
    # MLflow compares the status's number with the name given, so nothing is ever READY.
    "logged_models:status:=": ["lm-alpha"],
    "logged_models:status:!=": ["lm-beta"],
    "logged_models:status:LIKE": ["lm-alpha"],
    "logged_models:status:ILIKE": ["lm-alpha"],
    "logged_models:status:IN": ["lm-alpha"],
    "logged_models:status:NOT IN": ["lm-beta"],
    # MLflow matches span attributes inside their JSON text ('"gpt-4o"'), so = 'gpt-4o' never
    # does; Heron compares the attribute's value.
    "traces:span.attributes.model:=": ["t-alpha"],
    "traces:span.attributes.model:!=": ["t-beta"],
    "traces:span.attributes.model:LIKE": ["t-alpha"],
    "traces:span.attributes.model:ILIKE": ["t-alpha"],
    # MLflow matches patterns against the JSON text of an assessment's value ('"yes"'), so
    # LIKE 'y%' never matches "yes"; Heron matches the value's text, as = does in both.
    "traces:feedback.verdict:LIKE": ["t-alpha"],
    "traces:feedback.verdict:ILIKE": ["t-alpha"],
    "traces:feedback.verdict:RLIKE": ["t-beta"],
    "traces:expectation.answer:LIKE": ["t-alpha"],
    "traces:expectation.answer:ILIKE": ["t-alpha"],
    "traces:expectation.answer:RLIKE": ["t-beta"],
}


def expected(cell: str, recorded: object) -> object:
    """What Heron must answer for a cell, given MLflow's recorded answer: a list of names, or
    "refused" (INVALID_PARAMETER_VALUE)."""
    if cell in EXTENSIONS:
        return EXTENSIONS[cell]
    if cell in DIFFERENCES:
        return DIFFERENCES[cell]
    return recorded if isinstance(recorded, list) else "refused"

"""The search matrix: every field kind of every search against every comparator.

Pure data, importable by both Pythons: the test (Heron's) and driver.py (MLflow's, which seeds
a server with the mlflow client and asks it every cell). A cell's filter is built from its
row's values; `{name}` placeholders are ids and times the driver learns while seeding."""

from __future__ import annotations

from dataclasses import dataclass

OPS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "RLIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
)
SEARCHES = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")


@dataclass(frozen=True)
class Row:
    """One field kind of one search, with the values its filters compare against.

    `value` is the literal for = != < <= > >= (a number when `numeric`, else the text of a
    quoted string); `like` the LIKE pattern (ILIKE takes it in upper case), `regex` the RLIKE
    pattern, `listed` the IN / NOT IN list."""

    search: str
    field: str
    kind: str
    value: str
    like: str
    regex: str
    listed: tuple[str, ...]
    numeric: bool = False

    def filter(self, op: str, values: dict[str, object]) -> str:
        """The filter of this row's cell for `op`, with the seeded `values` filled in."""
        if op in ("IS NULL", "IS NOT NULL"):
            return f"{self.field} {op}"
        if op == "LIKE":
            return f"{self.field} LIKE {_quote(self.like.format(**values))}"
        if op == "ILIKE":
            return f"{self.field} ILIKE {_quote(self.like.format(**values).upper())}"
        if op == "RLIKE":
            return f"{self.field} RLIKE {_quote(self.regex.format(**values))}"
        if op in ("IN", "NOT IN"):
            listed = ", ".join(_quote(v.format(**values)) for v in self.listed)
            return f"{self.field} {op} ({listed})"
        value = self.value.format(**values)
        return f"{self.field} {op} {value if self.numeric else _quote(value)}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _num(search: str, field: str, kind: str, value: str) -> Row:
    return Row(search, field, kind, value, value, f"^{value}", (value, "-1"), numeric=True)


def _text(
    search: str, field: str, kind: str, value: str, like: str, regex: str, listed: tuple[str, ...]
) -> Row:
    return Row(search, field, kind, value, like, regex, listed)


ROWS: tuple[Row, ...] = (
    # runs: alpha (acc 0.9, lr 0.1, team red, FINISHED, ann), beta (0.5, 0.01, blue, FAILED,
    # bob), gamma (none of them, RUNNING, ann)
    _num("runs", "metrics.acc", "metric", "0.9"),
    _text("runs", "params.lr", "param", "0.1", "0.1%", "^0\\.0", ("0.1", "x")),
    _text("runs", "tags.team", "tag", "red", "r%", "^b", ("red", "green")),
    _text(
        "runs", "attributes.run_name", "attribute (string)", "alpha", "al%", "^b", ("alpha", "beta")
    ),
    _text(
        "runs",
        "attributes.status",
        "attribute (string)",
        "FINISHED",
        "FIN%",
        "^R",
        ("FINISHED", "FAILED"),
    ),
    _text("runs", "attributes.user_id", "attribute (string)", "bob", "b%", "^a", ("bob", "x")),
    _text(
        "runs",
        "attributes.artifact_uri",
        "attribute (string)",
        "{alpha_artifact_uri}",
        "%/artifacts",
        "artifacts$",
        ("{alpha_artifact_uri}", "x"),
    ),
    _text(
        "runs",
        "attributes.run_id",
        "attribute (run_id)",
        "{alpha_id}",
        "{alpha_id_head}%",
        "^{alpha_id_head}",
        ("{alpha_id}", "{beta_id}"),
    ),
    _text(
        "runs",
        "attributes.lifecycle_stage",
        "attribute (string)",
        "active",
        "act%",
        "^a",
        ("active", "x"),
    ),
    _num("runs", "attributes.start_time", "attribute (time)", "1700000100000"),
    _num("runs", "attributes.end_time", "attribute (time)", "1700000050000"),
    _num("runs", "attributes.created", "attribute (time)", "1700000100000"),
    _text("runs", "datasets.name", "dataset", "train", "tr%", "^e", ("train", "x")),
    _text("runs", "datasets.digest", "dataset", "d1", "d%", "2$", ("d1", "x")),
    _text("runs", "datasets.context", "dataset", "training", "train%", "^e", ("training", "x")),
    # experiments: mx-exp-a (team red), mx-exp-b (team blue), then the other searches' own
    _text(
        "experiments",
        "name",
        "attribute (name)",
        "mx-exp-a",
        "mx-exp-%",
        "^mx-exp-b",
        ("mx-exp-a", "x"),
    ),
    _text(
        "experiments",
        "experiment_id",
        "attribute (id)",
        "{exp_a_id}",
        "{exp_a_id}%",
        "^{exp_a_id}$",
        ("{exp_a_id}", "x"),
    ),
    _num("experiments", "creation_time", "attribute (time)", "{exp_b_created}"),
    _num("experiments", "last_update_time", "attribute (time)", "{exp_b_updated}"),
    _text("experiments", "tags.team", "tag", "red", "r%", "^b", ("red", "green")),
    # registered models: mx-rm-a (team red), mx-rm-b (team blue), mx-rm-c
    _text(
        "registered_models",
        "name",
        "attribute (name)",
        "mx-rm-a",
        "mx-rm-%",
        "^mx-rm-b",
        ("mx-rm-a", "mx-rm-b"),
    ),
    _num("registered_models", "creation_timestamp", "attribute (time)", "{rm_b_created}"),
    _num("registered_models", "last_updated_timestamp", "attribute (time)", "{rm_b_updated}"),
    _text("registered_models", "tags.team", "tag", "red", "r%", "^b", ("red", "green")),
    # model versions: mx-rm-a/1 (run alpha, stage prod), mx-rm-a/2 (beta, dev), mx-rm-b/1 (beta)
    _text(
        "model_versions",
        "name",
        "attribute (name)",
        "mx-rm-a",
        "mx-rm-%",
        "^mx-rm-b",
        ("mx-rm-a", "x"),
    ),
    _num("model_versions", "version_number", "attribute (number)", "1"),
    _text(
        "model_versions",
        "run_id",
        "attribute (run_id)",
        "{alpha_id}",
        "{alpha_id_head}%",
        "^{alpha_id_head}",
        ("{alpha_id}", "x"),
    ),
    _text(
        "model_versions",
        "source_path",
        "attribute (source)",
        "runs:/{alpha_id}/model",
        "runs:/{alpha_id_head}%",
        "^runs:/{beta_id}",
        ("runs:/{alpha_id}/model", "x"),
    ),
    _num("model_versions", "creation_timestamp", "attribute (time)", "{mv_b_created}"),
    _num("model_versions", "last_updated_timestamp", "attribute (time)", "{mv_b_updated}"),
    _text("model_versions", "tags.stage", "tag", "prod", "pr%", "^d", ("prod", "x")),
    # logged models: lm-alpha (agent, READY, run alpha, acc 0.9, p 1, red), lm-beta (classifier,
    # PENDING, acc 0.5, p 2, blue)
    _text(
        "logged_models", "name", "attribute (name)", "lm-alpha", "lm-a%", "^lm-b", ("lm-alpha", "x")
    ),
    _text(
        "logged_models",
        "model_id",
        "attribute (id)",
        "{lm_alpha_id}",
        "{lm_alpha_head}%",
        "^{lm_alpha_head}",
        ("{lm_alpha_id}", "x"),
    ),
    _text(
        "logged_models", "model_type", "attribute (string)", "agent", "ag%", "^c", ("agent", "x")
    ),
    _text("logged_models", "status", "attribute (status)", "READY", "REA%", "^P", ("READY", "x")),
    _text(
        "logged_models",
        "source_run_id",
        "attribute (run_id)",
        "{alpha_id}",
        "{alpha_id_head}%",
        "^{alpha_id_head}",
        ("{alpha_id}", "x"),
    ),
    _num("logged_models", "creation_timestamp", "attribute (time)", "{lm_beta_created}"),
    _num("logged_models", "creation_time", "attribute (time)", "{lm_beta_created}"),
    _num("logged_models", "last_updated_timestamp", "attribute (time)", "{lm_beta_updated}"),
    _num("logged_models", "last_updated_time", "attribute (time)", "{lm_beta_updated}"),
    _num("logged_models", "metrics.acc", "metric", "0.9"),
    _text("logged_models", "params.p", "param", "1", "1%", "^2", ("1", "x")),
    _text("logged_models", "tags.team", "tag", "red", "r%", "^b", ("red", "green")),
    # traces: t-alpha (team red, env prod, req-a, in a run, retrieve span of gpt-4o, score 0.8,
    # verdict yes, answer 42), t-beta (blue, dev, req-b, gpt-3.5, 0.3, no, 7), t-gamma (ERROR)
    _num("traces", "timestamp_ms", "attribute (time)", "{t_beta_time}"),
    _num("traces", "execution_time_ms", "attribute (time)", "{t_beta_duration}"),
    _num("traces", "end_time_ms", "attribute (time)", "{t_beta_end}"),
    _text("traces", "status", "attribute (status)", "OK", "O%", "^E", ("OK", "x")),
    _text("traces", "name", "attribute (name)", "t-alpha", "t-a%", "^t-b", ("t-alpha", "x")),
    _text(
        "traces",
        "client_request_id",
        "attribute (string)",
        "req-a",
        "req-a%",
        "^req-b",
        ("req-a", "x"),
    ),
    _text(
        "traces",
        "run_id",
        "attribute (run_id)",
        "{trace_run_id}",
        "{trace_run_head}%",
        "^{trace_run_head}",
        ("{trace_run_id}", "x"),
    ),
    _text(
        "traces",
        "request_id",
        "attribute (id)",
        "{t_alpha_id}",
        "{t_alpha_head}%",
        "^{t_alpha_head}",
        ("{t_alpha_id}", "x"),
    ),
    _text("traces", "tags.team", "tag", "red", "r%", "^b", ("red", "green")),
    _text("traces", "metadata.env", "metadata", "prod", "pr%", "^d", ("prod", "x")),
    _text("traces", "span.name", "span", "retrieve", "retr%", "^t-b", ("retrieve", "x")),
    _text("traces", "span.type", "span", "RETRIEVER", "RETR%", "^LLM", ("RETRIEVER", "x")),
    _text("traces", "span.status", "span", "ERROR", "ERR%", "^E", ("ERROR", "x")),
    _text(
        "traces",
        "span.attributes.model",
        "span attribute",
        "gpt-4o",
        "gpt-4%",
        "3\\.5$",
        ("gpt-4o", "x"),
    ),
    _text("traces", "span.content", "span content", "hello", "%hello%", "hello", ("hello", "x")),
    _num("traces", "feedback.score", "feedback (number)", "0.5"),
    _text("traces", "feedback.verdict", "feedback (text)", "yes", "y%", "^n", ("yes", "x")),
    _text("traces", "expectation.answer", "expectation", "42", "4%", "^7", ("42", "x")),
    _text("traces", "prompt", "prompt", "mx-prompt/1", "mx-prompt%", "^mx", ("mx-prompt/1", "x")),
    _text("traces", "text", "text", "hello", "%hello%", "hello", ("hello", "x")),
    _text("traces", "issue.id", "issue", "iss-1", "iss%", "^iss", ("iss-1", "x")),
)


def cell_id(row: Row, op: str) -> str:
    return f"{row.search}:{row.field}:{op}"


def cells() -> list[tuple[str, Row, str]]:
    """Every (id, row, comparator)."""
    return [(cell_id(row, op), row, op) for row in ROWS for op in OPS]

"""Registered scorers on production traces: scorers saved in MLflow's serialized form
(`register_scorer`, `start`, `stop`), and the worker pass that scores the new traces each
started scorer picks (by a hash of the trace id and its name, within its filter), storing the
verdicts as assessments. Custom code scorers run in the sandbox (`heron.genai.sandbox`)."""

from __future__ import annotations

import inspect
import textwrap
import threading
from collections.abc import Mapping
from typing import Any

import orjson

from heron.client.fluent.state import active_experiment_id, tracking_client
from heron.entities.assessment import Assessment, AssessmentKind
from heron.entities.evaluation import OnlineScoringConfig, ScorerVersion
from heron.errors import InvalidParameter
from heron.genai import scorers as builtin
from heron.genai.judges.base import Judge
from heron.genai.judges.custom import InstructionsJudge, make_judge
from heron.genai.judges.limiter import share_limits
from heron.genai.sandbox import SandboxedScorer
from heron.genai.scoring import FunctionScorer, Row, Scorer
from heron.services.scorers import picked

SCORER_NAME = "mlflow.assessment.scorerName"
SCORER_VERSION = "mlflow.assessment.scorerVersion"
_SERIALIZATION_VERSION = 1


def serialize(scorer: Scorer) -> str:
    """The scorer in MLflow's serialized form (what `mlflow.genai` registers)."""
    data: dict[str, Any] = {
        "name": scorer.name,
        "aggregations": None,
        "description": None,
        "is_session_level_scorer": scorer.session_level,
        "serialization_version": _SERIALIZATION_VERSION,
    }
    if isinstance(scorer, InstructionsJudge):
        data["instructions_judge_pydantic_data"] = {
            "name": scorer.name,
            "instructions": scorer.instructions,
            "model": scorer.model,
            "description": scorer.description,
        }
    elif isinstance(scorer, FunctionScorer):
        source = textwrap.dedent(inspect.getsource(scorer.fn))
        body = source[source.index(":\n", source.index("def ")) + 2 :]
        data.update(
            call_source=textwrap.dedent(body),
            original_func_name=scorer.fn.__name__,
            call_signature=str(inspect.signature(scorer.fn)),
        )
    elif type(scorer).__name__ in builtin.__all__:
        fields: dict[str, Any] = {"name": scorer.name}
        if isinstance(scorer, Judge):
            fields["model"] = scorer.model
        if hasattr(scorer, "guidelines"):
            fields["guidelines"] = scorer.guidelines
        data.update(builtin_scorer_class=type(scorer).__name__, builtin_scorer_pydantic_data=fields)
    else:
        raise InvalidParameter(
            f"{scorer!r} cannot be registered: use a built-in scorer, "
            "@heron.genai.scorer or make_judge"
        )
    return orjson.dumps(data).decode()


def deserialize(text: str) -> Scorer:
    """The scorer a serialized form describes; code scorers come back sandboxed."""
    data = orjson.loads(text)
    if data.get("instructions_judge_pydantic_data"):
        judge = data["instructions_judge_pydantic_data"]
        return make_judge(judge["name"], judge["instructions"], model=judge.get("model"))
    if data.get("builtin_scorer_class"):
        cls = data["builtin_scorer_class"]
        if cls not in builtin.__all__:
            raise InvalidParameter(f"Heron has no built-in scorer {cls!r}")
        fields = dict(data.get("builtin_scorer_pydantic_data") or {})
        kwargs = {k: fields[k] for k in ("name", "model", "guidelines") if fields.get(k)}
        made: Scorer = getattr(builtin, cls)(**kwargs)
        return made
    if data.get("call_source") is not None:
        name = data.get("original_func_name") or data["name"]
        signature = data.get("call_signature") or "(inputs=None, outputs=None, expectations=None)"
        source = f"def {name}{signature}:\n" + textwrap.indent(data["call_source"], "    ")
        wants = [p for p in ("inputs", "outputs", "expectations") if p in signature]
        return SandboxedScorer(data["name"], name, source, wants)
    raise InvalidParameter("The serialized scorer names no built-in class, judge or code")


def register_scorer(
    scorer: Scorer, name: str | None = None, experiment_id: str | None = None
) -> ScorerVersion:
    """Saves a new version of the scorer in the experiment (the active one by default)."""
    api = tracking_client().backend.scorers
    return api.register_scorer(
        experiment_id or active_experiment_id(), name or scorer.name, serialize(scorer)
    )


def start_scorer(
    name: str,
    sample_rate: float,
    filter_string: str | None = None,
    experiment_id: str | None = None,
) -> OnlineScoringConfig:
    """Scores new traces of the experiment with the registered scorer `name` (its latest
    version): the share `sample_rate` of them that match `filter_string`. A rate of 0 stops
    it; calling again updates it."""
    api = tracking_client().backend.scorers
    return api.set_online_config(
        experiment_id or active_experiment_id(), name, sample_rate, filter_string
    )


def stop_scorer(name: str, experiment_id: str | None = None) -> OnlineScoringConfig:
    return start_scorer(name, 0.0, experiment_id=experiment_id)


def score_new_traces(
    since_ms: int,
    max_traces: int = 500,
    *,
    client: Any = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """One pass of the monitoring worker: every started scorer scores the traces of its
    experiment since `since_ms` that its sample rate picks and its filter matches, unless it
    scored them already. Returns how many each scored. `client`: the tracking client's by
    default; `stop`: the pass ends between two traces once it is set."""
    client = client or tracking_client()
    share_limits(client.backend.judge_limits)  # paced with the other processes' judges
    done: dict[str, int] = {}
    for config in client.backend.scorers.active_configs():
        if stop is not None and stop.is_set():
            break
        version = client.backend.scorers.scorer_by_id(config.scorer_id)
        scorer = deserialize(version.serialized_scorer)
        done[version.name] = _score(client, config, version, scorer, since_ms, max_traces, stop)
    return done


def _score(
    client: Any,
    config: OnlineScoringConfig,
    version: ScorerVersion,
    scorer: Scorer,
    since_ms: int,
    max_traces: int,
    stop: threading.Event | None,
) -> int:
    window = f"timestamp_ms >= {since_ms}"
    where = f"{config.filter_string} AND {window}" if config.filter_string else window
    page = client.search_traces([config.experiment_id], filter_string=where, max_results=max_traces)
    count = 0
    for trace in page:
        if stop is not None and stop.is_set():
            break
        if not picked(trace.info.trace_id, version.name, config.sample_rate):
            continue
        if any(a.metadata.get(SCORER_NAME) == version.name for a in trace.info.assessments):
            continue
        root = trace.root_span
        expectations = {
            a.name: a.value
            for a in trace.info.assessments
            if a.kind is AssessmentKind.EXPECTATION and a.valid
        }
        row = Row(
            inputs=root.inputs if root else None,
            outputs=root.outputs if root else None,
            expectations=expectations,
            trace=trace,
        )
        for fb in scorer.run(row):
            meta: Mapping[str, str] = {
                **fb.metadata,
                SCORER_NAME: version.name,
                SCORER_VERSION: str(version.version),
            }
            client.backend.traces.create_assessment(
                Assessment(
                    assessment_id="",
                    trace_id=trace.info.trace_id,
                    name=fb.name or version.name,
                    kind=AssessmentKind.FEEDBACK,
                    value=fb.value,
                    source=fb.source or scorer.source(),
                    rationale=fb.rationale,
                    error=fb.error,
                    metadata=dict(meta),
                    span_id=fb.span_id or (root.span_id if root else None),
                )
            )
        count += 1
    return count

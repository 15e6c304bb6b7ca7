"""MLflow's reserved names, each written once: the tags and metadata keys its clients and
server read and write on runs, datasets, logged models, registered models and traces, and the
attributes of spans."""

from __future__ import annotations

SYSTEM_PREFIX = "mlflow."  # tags under it are MLflow's own, shown apart from the user's

# Runs
RUN_NAME = "mlflow.runName"
PARENT_RUN_ID = "mlflow.parentRunId"
USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"  # on a trace, MLflow's docs make it the deployment's name
NOTE = "mlflow.note.content"
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"
RUN_TYPE = "mlflow.runType"  # an evaluation run's, read by MLflow's UI

# Experiments
EXPERIMENT_KIND = "mlflow.experimentKind"  # what the UI shows first: training or GenAI

# Dataset inputs
DATASET_CONTEXT = "mlflow.data.context"

# Logged models and the registry
MODEL_VERSIONS = "mlflow.modelVersions"
LINKED_PROMPTS = "mlflow.linkedPrompts"  # [{"name", "version"}] on traces and logged models
IS_PROMPT = "mlflow.prompt.is_prompt"

# Traces: tags and metadata
TRACE_NAME = "mlflow.traceName"
TRACE_SOURCE_RUN = "mlflow.sourceRun"
TRACE_MODEL_ID = "mlflow.modelId"
TRACE_USER = "mlflow.trace.user"
TRACE_SESSION = "mlflow.trace.session"
TRACE_CLIENT_REQUEST_ID = "mlflow.trace.requestId"
TRACE_SCHEMA_VERSION = "mlflow.trace_schema.version"
TRACE_TOKEN_USAGE = "mlflow.trace.tokenUsage"  # noqa: S105 (not a secret)
TRACE_COST = "mlflow.trace.cost"  # {"input_cost", "output_cost", "total_cost"} in USD
TRACE_ARTIFACT_LOCATION = "mlflow.artifactLocation"
TRACE_SPANS_LOCATION = "mlflow.trace.spansLocation"
TRACE_REQUEST_ID = "mlflow.traceRequestId"  # a span attribute in MLflow 2's traces
EVAL_RECORD_KEY = "heron.eval.recordKey"  # pairs an evaluation's row with the same row of another
EVAL_DATASET_ID = "heron.eval.datasetId"  # a run tag: the evaluation dataset evaluated
EVAL_DATASET_VERSION = "heron.eval.datasetVersion"  # a run tag: the version of its records

# Assessments: metadata
ASSESSMENT_JUDGE_COST = "mlflow.assessment.judgeCost"
ASSESSMENT_JUDGE_INPUT_TOKENS = "mlflow.assessment.judgeInputTokens"
ASSESSMENT_JUDGE_OUTPUT_TOKENS = "mlflow.assessment.judgeOutputTokens"
ASSESSMENT_SOURCE_RUN_ID = "mlflow.assessment.sourceRunId"
ASSESSMENT_SCORER_DIGEST = "mlflow.assessment.scorerDigest"

# Spans: attributes
SPAN_TYPE = "mlflow.spanType"
# MLflow's client copies a trace's request and response into these metadata (cut short).
TRACE_INPUTS = "mlflow.traceInputs"
TRACE_OUTPUTS = "mlflow.traceOutputs"
SPAN_INPUTS = "mlflow.spanInputs"
SPAN_OUTPUTS = "mlflow.spanOutputs"
CHAT_TOKEN_USAGE = "mlflow.chat.tokenUsage"  # noqa: S105 (not a secret): summed into the trace's
LLM_MODEL = "mlflow.llm.model"
LLM_PROVIDER = "mlflow.llm.provider"
LLM_COST = "mlflow.llm.cost"
MESSAGE_FORMAT = "mlflow.message.format"

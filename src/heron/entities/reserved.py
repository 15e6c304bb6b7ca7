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
SOURCE_TYPE = "mlflow.source.type"
NOTE = "mlflow.note.content"
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"

# Dataset inputs
DATASET_CONTEXT = "mlflow.data.context"

# Logged models and the registry
MODEL_VERSIONS = "mlflow.modelVersions"
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
TRACE_ARTIFACT_LOCATION = "mlflow.artifactLocation"
TRACE_SPANS_LOCATION = "mlflow.trace.spansLocation"
TRACE_REQUEST_ID = "mlflow.traceRequestId"  # a span attribute in MLflow 2's traces

# Spans: attributes
SPAN_TYPE = "mlflow.spanType"
SPAN_INPUTS = "mlflow.spanInputs"
SPAN_OUTPUTS = "mlflow.spanOutputs"
CHAT_TOKEN_USAGE = "mlflow.chat.tokenUsage"  # noqa: S105 (not a secret): summed into the trace's
LLM_MODEL = "mlflow.llm.model"
LLM_PROVIDER = "mlflow.llm.provider"
LLM_COST = "mlflow.llm.cost"
MESSAGE_FORMAT = "mlflow.message.format"

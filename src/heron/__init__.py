"""Heron: ML experiment tracking, wire-compatible with MLflow. The fluent API and the client."""

from heron import data
from heron.client.client import HeronClient
from heron.client.fluent.artifacts import (
    download_artifacts,
    get_artifact_uri,
    list_artifacts,
    load_dict,
    load_image,
    load_text,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_table,
    log_text,
)
from heron.client.fluent.logged_models import (
    create_external_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_logged_model,
    initialize_logged_model,
    log_model_params,
    search_logged_models,
    set_active_model,
    set_logged_model_tags,
)
from heron.client.fluent.registry import (
    register_model,
)
from heron.client.fluent.runs import (
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    get_experiment,
    get_experiment_by_name,
    get_metric_history,
    get_run,
    log_batch,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    restore_experiment,
    restore_run,
    search_experiments,
    search_runs,
    set_tag,
    set_tags,
)
from heron.client.fluent.state import (
    ActiveRun,
    active_run,
    clear_active_model,
    end_run,
    get_active_model_id,
    get_tracking_uri,
    last_active_run,
    set_experiment,
    set_tracking_uri,
    start_run,
)

# Tracing loads the OpenTelemetry SDK: imported on first use, so `import heron` stays light.
_TRACING = frozenset(
    {
        "flush_trace_async_logging",
        "get_last_active_trace_id",
        "get_trace",
        "log_expectation",
        "log_feedback",
        "search_traces",
        "start_span",
        "trace",
        "update_current_trace",
    }
)


def __getattr__(name: str) -> object:
    if name in _TRACING:
        from heron import tracing

        return getattr(tracing, name)
    if name in ("openai", "genai"):  # `heron.openai.autolog()` after a plain `import heron`
        import importlib

        return importlib.import_module(f"heron.{name}")
    raise AttributeError(f"module 'heron' has no attribute {name!r}")


__all__ = [
    "ActiveRun",
    "HeronClient",
    "active_run",
    "clear_active_model",
    "create_experiment",
    "create_external_model",
    "data",
    "delete_experiment",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "download_artifacts",
    "end_run",
    "finalize_logged_model",
    "flush_trace_async_logging",
    "genai",
    "get_active_model_id",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_last_active_trace_id",
    "get_logged_model",
    "get_metric_history",
    "get_run",
    "get_trace",
    "get_tracking_uri",
    "initialize_logged_model",
    "last_active_run",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
    "log_artifact",
    "log_artifacts",
    "log_batch",
    "log_dict",
    "log_expectation",
    "log_feedback",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_runs",
    "search_traces",
    "set_active_model",
    "set_experiment",
    "set_logged_model_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "start_span",
    "trace",
    "update_current_trace",
]

"""The public surface of `import heron`, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import heron

PUBLIC = [
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


def test_heron_all_is_pinned() -> None:
    assert heron.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(heron, name) is not None


def test_import_heron_loads_no_heavy_module() -> None:
    heavy = ["pandas", "numpy", "httpx", "sqlalchemy", "alembic", "uvicorn", "starlette", "rich"]
    code = f"import sys, heron; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


FLAVOR_MODULES = ["sklearn", "xgboost", "lightgbm", "statsmodels", "onnx", "pytorch"]


def test_model_modules_are_pinned() -> None:
    import importlib

    import heron.pyfunc

    assert heron.pyfunc.__all__ == [
        "ModelInfo",
        "PyFuncModel",
        "PythonModel",
        "PythonModelContext",
        "get_model_info",
        "load_model",
        "log_model",
        "model_config",
        "save_model",
        "set_model",
        "spark_udf",
    ]
    for name in FLAVOR_MODULES:
        module = importlib.import_module(f"heron.{name}")
        assert {"load_model", "log_model", "save_model"} <= set(module.__all__), name

"""Running a scoring server: load the model, build the app, serve it with uvicorn."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter

OPTIONS_ENV = "HERON_SCORING_OPTIONS"
BATCHING_MODES = ("auto", "on", "off")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """How `heron models serve` serves one model directory.

    `batching`: `auto` batches the built-in tabular flavors (scikit-learn, XGBoost,
    LightGBM), whose predictions are row by row; `on` batches any model (say so only for a
    model that scores each row independently); `off` never.

    `tracing`: `auto` traces each request of a model that is not batched (agents, custom
    models) when a tracking URI is set ($HERON_TRACKING_URI or $MLFLOW_TRACKING_URI); `on`
    traces every request scored alone; `off` none.
    """

    model_dir: str
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    timeout_s: float = 60.0
    batching: str = "auto"
    max_batch_rows: int = 1024
    max_latency_ms: float | None = 10_000.0
    threads: int | None = None  # worker threads per process; default by batching
    max_request_bytes: int = 100 * 1024 * 1024
    tracing: str = "auto"

    def __post_init__(self) -> None:
        if self.batching not in BATCHING_MODES:
            raise InvalidParameter(f"batching must be one of {list(BATCHING_MODES)}")
        if self.tracing not in BATCHING_MODES:
            raise InvalidParameter(f"tracing must be one of {list(BATCHING_MODES)}")
        if self.workers < 1 or self.max_batch_rows < 1 or self.timeout_s <= 0:
            raise InvalidParameter("workers, max_batch_rows and timeout must be positive")


def build_app(options: ServeOptions) -> Any:
    """The ASGI app serving the model in `options.model_dir` (loaded here: its code runs)."""
    from heron.models.pyfunc_model import load_pyfunc
    from heron.serving.app import ScoringApp
    from heron.serving.batching import Batcher
    from heron.serving.metrics import ServingMetrics
    from heron.serving.scoring import ROW_WISE_LOADERS, Scorer

    model = load_pyfunc(Path(options.model_dir))
    schema = model.metadata.signature.inputs if model.metadata.signature is not None else None
    batching = options.batching == "on" or (
        options.batching == "auto"
        and model.loader_module in ROW_WISE_LOADERS
        and (schema is None or not schema.is_tensor_spec())
    )
    tracking = os.environ.get("HERON_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    tracing = options.tracing == "on" or (
        options.tracing == "auto" and not batching and bool(tracking)
    )
    metrics = ServingMetrics()
    scorer = Scorer(model, batching=batching, tracing=tracing)
    batcher = Batcher(
        scorer.score,
        threads=options.threads or (1 if batching else 8),
        batching=batching,
        max_batch_rows=options.max_batch_rows,
        max_latency_s=None if options.max_latency_ms is None else options.max_latency_ms / 1000,
        observe=metrics.observe_batch,
    )
    logging.getLogger("heron.serving").info(
        "Serving %s (%s), batching %s, tracing %s", options.model_dir, model.loader_module,
        "on" if batching else "off", "on" if tracing else "off",
    )  # fmt: skip
    return ScoringApp(
        scorer,
        batcher,
        metrics,
        timeout_s=options.timeout_s,
        max_request_bytes=options.max_request_bytes,
    )


def app_from_environment() -> Any:
    """The app of one of uvicorn's worker processes, from the options the parent left."""
    values = json.loads(os.environ[OPTIONS_ENV])
    return build_app(ServeOptions(**values))


def serve(options: ServeOptions) -> None:
    """Serves until interrupted. With one worker the model loads in this process before
    the port opens; with several, each worker process loads its own copy."""
    import uvicorn

    config: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "access_log": False,
        "log_level": "info",
        "loop": "auto",
        "http": "auto",
        "timeout_graceful_shutdown": 30,
    }
    if options.workers == 1:
        uvicorn.run(build_app(options), **config)
        return
    os.environ[OPTIONS_ENV] = json.dumps(dataclasses.asdict(options))
    with tempfile.TemporaryDirectory(prefix="heron-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        uvicorn.run(
            "heron.serving.server:app_from_environment",
            factory=True,
            workers=options.workers,
            **config,
        )

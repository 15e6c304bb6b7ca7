"""Runs the search matrix against a tracking server with the real mlflow client.

    python driver.py URL            # MLflow's Python (.venv-conformance); prints one JSON line

Seeds an empty server through the mlflow client (experiments, runs, logged models, the
registry, a prompt, traces with assessments), then asks every cell of cells.py through the
client's REST stores, which send the filter as given (the fluent helpers add clauses of their
own). Each answer is the sorted names found, or "refused <ERROR_CODE>"."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelStatus, ViewType
from mlflow.exceptions import MlflowException

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cells import cells


def _pause() -> None:
    time.sleep(0.02)  # distinct millisecond times for the seeded entities


def seed_tracking(client: MlflowClient) -> dict[str, Any]:
    values: dict[str, Any] = {}
    exp_a = client.create_experiment("mx-exp-a", tags={"team": "red"})
    _pause()
    exp_b = client.create_experiment("mx-exp-b", tags={"team": "blue"})
    _pause()
    runs_exp = client.create_experiment("mx-runs")
    values["exp_a_id"] = exp_a
    b = client.get_experiment(exp_b)
    values["exp_b_created"], values["exp_b_updated"] = b.creation_time, b.last_update_time
    specs = [
        ("alpha", 1700000000000, "ann", {"team": "red"}, {"lr": "0.1"}, 0.9, "FINISHED"),
        ("beta", 1700000100000, "bob", {"team": "blue"}, {"lr": "0.01"}, 0.5, "FAILED"),
        ("gamma", 1700000200000, "ann", {}, {}, None, None),
    ]
    ids = {}
    for name, start, user, tags, params, acc, status in specs:
        run = client.create_run(
            runs_exp, start_time=start, tags={"mlflow.user": user, **tags}, run_name=name
        )
        run_id = run.info.run_id
        ids[name] = run_id
        for key, value in params.items():
            client.log_param(run_id, key, value)
        if acc is not None:
            client.log_metric(run_id, "acc", acc, timestamp=start, step=0)
        if status is not None:
            client.set_terminated(run_id, status, end_time=start + 50000)
    for name, dataset, digest, context in (
        ("alpha", "train", "d1", "training"),
        ("beta", "eval", "d2", "eval"),
    ):
        client.log_inputs(
            ids[name],
            datasets=[
                DatasetInput(
                    Dataset(dataset, digest, "local", f"file:///{dataset}"),
                    tags=[InputTag("mlflow.data.context", context)],
                )
            ],
        )
    values["alpha_id"], values["beta_id"] = ids["alpha"], ids["beta"]
    values["alpha_id_head"] = ids["alpha"][:8]
    values["alpha_artifact_uri"] = client.get_run(ids["alpha"]).info.artifact_uri
    return values


def seed_models(client: MlflowClient, values: dict[str, Any]) -> None:
    exp = client.create_experiment("mx-models")
    alpha = client.create_logged_model(
        exp,
        name="lm-alpha",
        source_run_id=values["alpha_id"],
        tags={"team": "red"},
        params={"p": "1"},
        model_type="agent",
    )
    client.finalize_logged_model(alpha.model_id, LoggedModelStatus.READY)
    _pause()
    beta = client.create_logged_model(
        exp,
        name="lm-beta",
        source_run_id=values["beta_id"],
        tags={"team": "blue"},
        params={"p": "2"},
        model_type="classifier",
    )
    client.log_metric(values["alpha_id"], "acc", 0.9, timestamp=1, model_id=alpha.model_id)
    client.log_metric(values["beta_id"], "acc", 0.5, timestamp=1, model_id=beta.model_id)
    beta = client.get_logged_model(beta.model_id)
    values["lm_alpha_id"], values["lm_alpha_head"] = alpha.model_id, alpha.model_id[:8]
    values["lm_beta_created"] = beta.creation_timestamp
    values["lm_beta_updated"] = beta.last_updated_timestamp

    for name, tags in (
        ("mx-rm-a", {"team": "red"}),
        ("mx-rm-b", {"team": "blue"}),
        ("mx-rm-c", {}),
    ):
        client.create_registered_model(name, tags=tags)
        _pause()
    for name, run, stage in (
        ("mx-rm-a", "alpha", "prod"),
        ("mx-rm-a", "beta", "dev"),
        ("mx-rm-b", "beta", None),
    ):
        run_id = values[f"{run}_id"]
        client.create_model_version(
            name, f"runs:/{run_id}/model", run_id=run_id, tags={"stage": stage} if stage else {}
        )
        _pause()
    rm_b = client.get_registered_model("mx-rm-b")
    values["rm_b_created"] = rm_b.creation_timestamp
    values["rm_b_updated"] = rm_b.last_updated_timestamp
    mv_b = client.get_model_version("mx-rm-a", "2")
    values["mv_b_created"] = mv_b.creation_timestamp
    values["mv_b_updated"] = mv_b.last_updated_timestamp


def seed_traces(client: MlflowClient, values: dict[str, Any]) -> None:
    mlflow.set_experiment(experiment_id="0")
    with mlflow.start_span(name="warm-up"):  # the tracer's first start, outside the timed traces
        pass
    exp = client.create_experiment("mx-traces")
    mlflow.set_experiment(experiment_id=exp)
    prompt = mlflow.genai.register_prompt("mx-prompt", "Answer {{question}}")
    with (
        mlflow.start_run(run_name="tracer") as run,
        mlflow.start_span(name="t-alpha", span_type="CHAIN") as root,
    ):
        root.set_inputs({"q": "hello world"})
        mlflow.update_current_trace(
            tags={"team": "red"}, metadata={"env": "prod"}, client_request_id="req-a"
        )
        with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as child:
            child.set_attribute("model", "gpt-4o")
            child.set_inputs("hello")
        root.set_outputs("done")
        time.sleep(0.02)  # durations in a known order: alpha < beta < gamma
    alpha_id = root.trace_id
    _pause()
    with mlflow.start_span(name="t-beta", span_type="LLM") as span:
        span.set_attribute("model", "gpt-3.5")
        span.set_inputs({"q": "bye"})
        mlflow.update_current_trace(
            tags={"team": "blue"}, metadata={"env": "dev"}, client_request_id="req-b"
        )
        time.sleep(0.1)
    beta_id = span.trace_id
    _pause()
    try:
        with mlflow.start_span(name="t-gamma") as span:
            time.sleep(0.3)
            raise ValueError("boom")
    except ValueError:
        pass
    mlflow.flush_trace_async_logging()
    for trace_id, score, verdict, answer in (
        (alpha_id, 0.8, "yes", "42"),
        (beta_id, 0.3, "no", "7"),
    ):
        mlflow.log_feedback(trace_id=trace_id, name="score", value=score)
        mlflow.log_feedback(trace_id=trace_id, name="verdict", value=verdict)
        mlflow.log_expectation(trace_id=trace_id, name="answer", value=answer)
    client.link_prompt_versions_to_trace([prompt], alpha_id)
    beta = client.get_trace(beta_id).info
    values["t_alpha_id"], values["t_alpha_head"] = alpha_id, alpha_id[:8]
    values["t_beta_time"] = beta.request_time
    values["t_beta_duration"] = beta.execution_duration
    values["t_beta_end"] = beta.request_time + beta.execution_duration
    values["trace_run_id"], values["trace_run_head"] = run.info.run_id, run.info.run_id[:8]
    values["traces_exp"] = exp


def ask(client: MlflowClient, search: str, text: str, values: dict[str, Any]) -> Any:
    tracking = client._tracking_client.store
    registry = client._get_registry_client().store
    try:
        if search == "runs":
            exp = client.get_experiment_by_name("mx-runs").experiment_id
            runs = tracking.search_runs([exp], text, ViewType.ALL, 1000, None, None)
            return sorted(r.info.run_name for r in runs)
        if search == "experiments":
            found = tracking.search_experiments(ViewType.ALL, 1000, text)
            return sorted(e.name for e in found)
        if search == "registered_models":
            return sorted(m.name for m in registry.search_registered_models(text, 1000))
        if search == "model_versions":
            found = registry.search_model_versions(text, 1000)
            return sorted(f"{v.name}/{v.version}" for v in found)
        if search == "logged_models":
            exp = client.get_experiment_by_name("mx-models").experiment_id
            return sorted(m.name for m in tracking.search_logged_models([exp], text, None, 100))
        infos, _ = tracking.search_traces(
            filter_string=text, max_results=100, locations=[values["traces_exp"]]
        )
        return sorted(i.tags.get("mlflow.traceName", "?") for i in infos)
    except MlflowException as exc:
        return f"refused {exc.error_code}"


def main(url: str) -> None:
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    values = seed_tracking(client)
    seed_models(client, values)
    seed_traces(client, values)
    answers = {}
    for cell, row, op in cells():
        answers[cell] = ask(client, row.search, row.filter(op, values), values)
    print(json.dumps(answers, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])

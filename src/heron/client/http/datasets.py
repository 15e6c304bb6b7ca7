"""Evaluation datasets over HTTP (MLflow's /api/3.0/mlflow/datasets routes), the judge cache
(Heron's /api/2.0/heron/judge-cache) and registered scorers, behind the services' methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from heron.client.http.transport import Transport
from heron.entities import Page
from heron.entities.evaluation import (
    CachedVerdict,
    DatasetRecord,
    DatasetVersion,
    EvaluationDataset,
    OnlineScoringConfig,
    ScorerVersion,
)
from heron.mlflow_json import Json

V3 = "/api/3.0/mlflow/datasets"
HERON_API = "/api/2.0/heron"


def dataset_in(d: Json) -> EvaluationDataset:
    return EvaluationDataset(
        dataset_id=d["dataset_id"],
        name=d.get("name", ""),
        digest=d.get("digest", ""),
        created_time=int(d.get("created_time", 0)),
        last_update_time=int(d.get("last_update_time", 0)),
        tags=orjson.loads(d["tags"]) if d.get("tags") else {},
        schema=d.get("schema"),
        profile=d.get("profile"),
        created_by=d.get("created_by"),
        last_updated_by=d.get("last_updated_by"),
        experiment_ids=d.get("experiment_ids", []),
    )


def record_in(r: Json) -> DatasetRecord:
    return DatasetRecord(
        dataset_record_id=r["dataset_record_id"],
        dataset_id=r["dataset_id"],
        inputs=r.get("inputs") or {},
        outputs=r.get("outputs"),
        expectations=r.get("expectations"),
        tags=r.get("tags"),
        source=r.get("source"),
        created_time=int(r.get("created_time", 0)),
        last_update_time=int(r.get("last_update_time", 0)),
        created_by=r.get("created_by"),
        last_updated_by=r.get("last_updated_by"),
    )


def version_in(v: Json) -> DatasetVersion:
    return DatasetVersion(
        dataset_id=v["dataset_id"],
        version=int(v["version"]),
        digest=v.get("digest", ""),
        created_time=int(v.get("created_time", 0)),
        created_by=v.get("created_by"),
        num_records=int(v.get("num_records", 0)),
        inserted_count=int(v.get("inserted_count", 0)),
        updated_count=int(v.get("updated_count", 0)),
        deleted_count=int(v.get("deleted_count", 0)),
    )


class HttpDatasets:
    """The `DatasetApi` methods over a transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_dataset(
        self,
        name: str,
        *,
        experiment_ids: Sequence[str] = (),
        tags: Mapping[str, Any] | None = None,
    ) -> EvaluationDataset:
        body: dict[str, Any] = {"name": name, "experiment_ids": [str(e) for e in experiment_ids]}
        if tags:
            body["tags"] = orjson.dumps(dict(tags)).decode()
        return dataset_in(self._t.post(f"{V3}/create", body)["dataset"])

    def get_dataset(self, dataset_id: str) -> EvaluationDataset:
        return dataset_in(self._t.get(f"{V3}/{quote(dataset_id, safe='')}", {})["dataset"])

    def search_datasets(
        self,
        experiment_ids: Sequence[str] = (),
        *,
        filter_string: str | None = None,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[EvaluationDataset]:
        body = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter_string": filter_string,
            "max_results": max_results,
            "order_by": list(order_by or []),
            "page_token": page_token,
        }
        answer = self._t.post(f"{V3}/search", {k: v for k, v in body.items() if v is not None})
        items = [dataset_in(d) for d in answer.get("datasets", [])]
        return Page(items, answer.get("next_page_token"))

    def delete_dataset(self, dataset_id: str) -> None:
        self._t.send_json("DELETE", f"{V3}/{quote(dataset_id, safe='')}", {})

    def set_dataset_tags(self, dataset_id: str, tags: Mapping[str, Any]) -> EvaluationDataset:
        body = {"tags": orjson.dumps(dict(tags)).decode()}
        path = f"{V3}/{quote(dataset_id, safe='')}/tags"
        return dataset_in(self._t.send_json("PATCH", path, body)["dataset"])

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None:
        path = f"{V3}/{quote(dataset_id, safe='')}/tags/{quote(key, safe='')}"
        self._t.send_json("DELETE", path, {})

    def link_experiments(
        self, dataset_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> EvaluationDataset:
        path = f"{V3}/{quote(dataset_id, safe='')}"
        answer: Json = {}
        if add:
            answer = self._t.post(f"{path}/add-experiments", {"experiment_ids": list(add)})
        if remove:
            answer = self._t.post(f"{path}/remove-experiments", {"experiment_ids": list(remove)})
        return dataset_in(answer["dataset"]) if answer else self.get_dataset(dataset_id)

    def upsert_records(
        self, dataset_id: str, items: Sequence[Mapping[str, Any]]
    ) -> tuple[int, int]:
        body = {"records": orjson.dumps(list(items), default=str).decode()}
        answer = self._t.post(f"{V3}/{quote(dataset_id, safe='')}/records", body)
        return int(answer.get("inserted_count", 0)), int(answer.get("updated_count", 0))

    def get_records(
        self, dataset_id: str, *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[DatasetRecord]:
        query: dict[str, Any] = {"max_results": max_results}
        if page_token:
            query["page_token"] = page_token
        answer = self._t.get(f"{V3}/{quote(dataset_id, safe='')}/records", query)
        items = [record_in(r) for r in orjson.loads(answer.get("records") or "[]")]
        return Page(items, answer.get("next_page_token"))

    def delete_records(self, dataset_id: str, record_ids: Sequence[str]) -> int:
        body = {"dataset_record_ids": list(record_ids)}
        path = f"{V3}/{quote(dataset_id, safe='')}/records"
        return int(self._t.send_json("DELETE", path, body).get("deleted_count", 0))

    def list_versions(
        self, dataset_id: str, *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        path = f"{HERON_API}/datasets/{quote(dataset_id, safe='')}/versions"
        answer = self._t.get(path, {"max_results": max_results, "page_token": page_token})
        items = [version_in(v) for v in answer.get("versions", [])]
        return Page(items, answer.get("next_page_token"))

    def get_version(self, dataset_id: str, version: int) -> DatasetVersion:
        path = f"{HERON_API}/datasets/{quote(dataset_id, safe='')}/versions/{int(version)}"
        return version_in(self._t.get(path, {})["version"])

    def get_version_records(
        self,
        dataset_id: str,
        version: int,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[DatasetRecord]:
        path = f"{HERON_API}/datasets/{quote(dataset_id, safe='')}/versions/{int(version)}/records"
        answer = self._t.get(path, {"max_results": max_results, "page_token": page_token})
        items = [record_in(r) for r in answer.get("records", [])]
        return Page(items, answer.get("next_page_token"))


class HttpJudgeCache:
    """The judge cache of the server (Heron's own routes)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get_verdict(self, key: str) -> CachedVerdict | None:
        v = self._t.post(f"{HERON_API}/judge-cache/get", {"key": key}).get("verdict")
        if v is None:
            return None
        return CachedVerdict(
            key=v["key"],
            scorer_digest=v["scorer_digest"],
            model=v["model"],
            value=v.get("value"),
            rationale=v.get("rationale"),
            input_tokens=int(v.get("input_tokens", 0)),
            output_tokens=int(v.get("output_tokens", 0)),
            cost_usd=float(v.get("cost_usd", 0)),
            create_time=int(v.get("create_time", 0)),
            hits=int(v.get("hits", 0)),
        )

    def put_verdict(self, verdict: CachedVerdict) -> None:
        self._t.post(
            f"{HERON_API}/judge-cache/put",
            {
                "key": verdict.key,
                "scorer_digest": verdict.scorer_digest,
                "model": verdict.model,
                "value": verdict.value,
                "rationale": verdict.rationale,
                "input_tokens": verdict.input_tokens,
                "output_tokens": verdict.output_tokens,
                "cost_usd": verdict.cost_usd,
                "create_time": verdict.create_time,
            },
        )


class HttpScorers:
    """Registered scorers over HTTP (MLflow's /api/3.0/mlflow/scorers routes)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def register_scorer(self, experiment_id: str, name: str, serialized: str) -> ScorerVersion:
        body = {"experiment_id": experiment_id, "name": name, "serialized_scorer": serialized}
        s = self._t.post("/api/3.0/mlflow/scorers/register", body)
        return ScorerVersion(
            scorer_id=s["scorer_id"],
            experiment_id=str(s["experiment_id"]),
            name=s["name"],
            version=int(s["version"]),
            serialized_scorer=s["serialized_scorer"],
            creation_time=int(s.get("creation_time", 0)),
        )

    def get_scorer(
        self, experiment_id: str, name: str, version: int | None = None
    ) -> ScorerVersion:
        query: dict[str, Any] = {"experiment_id": experiment_id, "name": name}
        if version is not None:
            query["version"] = version
        return scorer_in(self._t.get("/api/3.0/mlflow/scorers/get", query)["scorer"])

    def set_online_config(
        self, experiment_id: str, name: str, sample_rate: float, filter_string: str | None = None
    ) -> OnlineScoringConfig:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "name": name,
            "sample_rate": sample_rate,
        }
        if filter_string:
            body["filter_string"] = filter_string
        c = self._t.send_json("PUT", "/api/3.0/mlflow/scorers/online-config", body)["config"]
        return config_in(c)

    def active_configs(self) -> list[OnlineScoringConfig]:
        answer = self._t.get(f"{HERON_API}/scorers/active-configs", {})
        return [config_in(c) for c in answer.get("configs", [])]

    def scorer_by_id(self, scorer_id: str) -> ScorerVersion:
        answer = self._t.get(f"{HERON_API}/scorers/by-id", {"scorer_id": scorer_id})
        return scorer_in(answer["scorer"])


def scorer_in(s: Json) -> ScorerVersion:
    return ScorerVersion(
        scorer_id=s["scorer_id"],
        experiment_id=str(s["experiment_id"]),
        name=s["scorer_name"],
        version=int(s["scorer_version"]),
        serialized_scorer=s["serialized_scorer"],
        creation_time=int(s.get("creation_time", 0)),
    )


def config_in(c: Json) -> OnlineScoringConfig:
    return OnlineScoringConfig(
        config_id=c["online_scoring_config_id"],
        scorer_id=c["scorer_id"],
        experiment_id=str(c["experiment_id"]),
        sample_rate=float(c["sample_rate"]),
        filter_string=c.get("filter_string"),
    )

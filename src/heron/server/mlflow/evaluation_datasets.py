"""MLflow REST v3: GenAI evaluation datasets under /api/3.0/mlflow/datasets (what
`mlflow.genai.datasets` calls). MLflow compat: tags, schema, profile and records travel as
JSON-encoded strings inside the JSON body."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.routing import BaseRoute

from heron.entities.evaluation import DatasetRecord, EvaluationDataset
from heron.errors import InvalidParameter
from heron.server.routing import MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.datasets import DEFAULT_RECORDS_PAGE, DatasetService

DATASET = "/datasets/{dataset_id}"


def dataset_json(d: EvaluationDataset) -> Json:
    out: Json = {
        "dataset_id": d.dataset_id,
        "name": d.name,
        "digest": d.digest,
        "created_time": d.created_time,
        "last_update_time": d.last_update_time,
        "tags": orjson.dumps(dict(d.tags)).decode(),
    }
    for key, value in (
        ("schema", d.schema),
        ("profile", d.profile),
        ("created_by", d.created_by),
        ("last_updated_by", d.last_updated_by),
    ):
        if value is not None:
            out[key] = value
    if d.experiment_ids:
        out["experiment_ids"] = list(d.experiment_ids)
    return out


def record_json(r: DatasetRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset_record_id": r.dataset_record_id,
        "dataset_id": r.dataset_id,
        "inputs": r.inputs,
        "created_time": r.created_time,
        "last_update_time": r.last_update_time,
    }
    for key in ("outputs", "expectations", "tags", "created_by", "last_updated_by"):
        value = getattr(r, key)
        if value is not None:
            out[key] = value
    if r.source:
        out["source"] = r.source
        out["source_type"] = r.source.get("source_type", "SOURCE_TYPE_UNSPECIFIED")
        data = r.source.get("source_data") or {}
        source_id = data.get("trace_id") or data.get("source_id")
        if source_id:
            out["source_id"] = source_id
    return out


def _json_field(f: Fields, name: str, *, required: bool = False) -> Any:
    text = f.string(name, required=required)
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidParameter(f"{name!r} must be a JSON-encoded string") from None


def routes(api: Endpoints, service: DatasetService) -> list[BaseRoute]:
    def create_dataset(f: Fields) -> Json:
        tags = _json_field(f, "tags")
        dataset = service.create_dataset(
            f.required_string("name"), experiment_ids=f.strings("experiment_ids"), tags=tags
        )
        return {"dataset": dataset_json(dataset)}

    def get_dataset(f: Fields) -> Json:
        return {"dataset": dataset_json(service.get_dataset(f.required_string("dataset_id")))}

    def delete_dataset(f: Fields) -> Json:
        service.delete_dataset(f.required_string("dataset_id"))
        return {}

    def search_datasets(f: Fields) -> Json:
        page = service.search_datasets(
            f.strings("experiment_ids"),
            filter_string=f.string("filter_string") or None,
            max_results=f.int64("max_results") or 1000,
            order_by=f.strings("order_by"),
            page_token=f.string("page_token") or None,
        )
        out: Json = {"datasets": [dataset_json(d) for d in page]}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return out

    def set_dataset_tags(f: Fields) -> Json:
        tags = _json_field(f, "tags", required=True)
        if not isinstance(tags, dict):
            raise InvalidParameter("'tags' must be a JSON-encoded object")
        dataset = service.set_dataset_tags(f.required_string("dataset_id"), tags)
        return {"dataset": dataset_json(dataset)}

    def delete_dataset_tag(f: Fields) -> Json:
        service.delete_dataset_tag(f.required_string("dataset_id"), f.required_string("key"))
        return {}

    def upsert_records(f: Fields) -> Json:
        items = _json_field(f, "records", required=True)
        inserted, updated = service.upsert_records(f.required_string("dataset_id"), items)
        return {"inserted_count": inserted, "updated_count": updated}

    def get_records(f: Fields) -> Json:
        page = service.get_records(
            f.required_string("dataset_id"),
            max_results=f.int64("max_results") or DEFAULT_RECORDS_PAGE,
            page_token=f.string("page_token") or None,
        )
        out: Json = {"records": orjson.dumps([record_json(r) for r in page]).decode()}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return out

    def delete_records(f: Fields) -> Json:
        count = service.delete_records(
            f.required_string("dataset_id"), f.strings("dataset_record_ids")
        )
        return {"deleted_count": count}

    def experiment_ids(f: Fields) -> Json:
        ids = service.get_dataset(f.required_string("dataset_id")).experiment_ids
        return {"experiment_ids": list(ids)} if ids else {}

    def add_experiments(f: Fields) -> Json:
        dataset = service.link_experiments(
            f.required_string("dataset_id"), add=f.strings("experiment_ids")
        )
        return {"dataset": dataset_json(dataset)}

    def remove_experiments(f: Fields) -> Json:
        dataset = service.link_experiments(
            f.required_string("dataset_id"), remove=f.strings("experiment_ids")
        )
        return {"dataset": dataset_json(dataset)}

    reads = requires("read", "dataset", "dataset_id")
    updates = requires("update", "dataset", "dataset_id")
    search = requires("read", "experiment", "experiment_ids")
    shared = [
        api.post("/datasets/create", create_dataset, requires("create", "dataset")),
        api.post("/datasets/search", search_datasets, search),
        api.get("/datasets/search", search_datasets, search),
        api.with_path("GET", DATASET, get_dataset, reads),
        api.with_path(
            "DELETE", DATASET, delete_dataset, requires("delete", "dataset", "dataset_id")
        ),
        api.with_path("PATCH", f"{DATASET}/tags", set_dataset_tags, updates),
        api.with_path("DELETE", DATASET + "/tags/{key:path}", delete_dataset_tag, updates),
        api.with_path("POST", f"{DATASET}/records", upsert_records, updates),
        api.with_path("GET", f"{DATASET}/records", get_records, reads),
        api.with_path("DELETE", f"{DATASET}/records", delete_records, updates),
        api.with_path("GET", f"{DATASET}/experiment-ids", experiment_ids, reads),
        api.with_path("POST", f"{DATASET}/add-experiments", add_experiments, updates),
        api.with_path("POST", f"{DATASET}/remove-experiments", remove_experiments, updates),
    ]
    return under_prefixes(MLFLOW_V3, shared)

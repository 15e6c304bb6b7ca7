"""Heron's routes for the versions of evaluation datasets (beside MLflow's dataset routes,
whose wire stays as MLflow has it): list a dataset's versions, read one, and page through the
records it had."""

from __future__ import annotations

from heron.entities.evaluation import DatasetVersion
from heron.server.mlflow.evaluation_datasets import record_json
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.datasets import DEFAULT_RECORDS_PAGE, MAX_SEARCH, DatasetService
from heron.web.routes import PolicyRoute

VERSIONS = "/datasets/{dataset_id}/versions"


def version_json(v: DatasetVersion) -> Json:
    return {
        "dataset_id": v.dataset_id,
        "version": v.version,
        "digest": v.digest,
        "created_time": v.created_time,
        "created_by": v.created_by,
        "num_records": v.num_records,
        "inserted_count": v.inserted_count,
        "updated_count": v.updated_count,
        "deleted_count": v.deleted_count,
    }


def routes(api: Endpoints, service: DatasetService) -> list[PolicyRoute]:
    def list_versions(f: Fields) -> Json:
        page = service.list_versions(
            f.required_string("dataset_id"),
            max_results=f.int64("max_results") or MAX_SEARCH,
            page_token=f.string("page_token") or None,
        )
        out: Json = {"versions": [version_json(v) for v in page]}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return out

    def get_version(f: Fields) -> Json:
        found = service.get_version(f.required_string("dataset_id"), _number(f))
        return {"version": version_json(found)}

    def get_records(f: Fields) -> Json:
        page = service.get_records(
            f.required_string("dataset_id"),
            max_results=f.int64("max_results") or DEFAULT_RECORDS_PAGE,
            page_token=f.string("page_token") or None,
            version=_number(f),
        )
        out: Json = {"records": [record_json(r) for r in page]}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return out

    reads = requires("read", "dataset", "dataset_id")
    return [
        api.with_path("GET", VERSIONS, list_versions, reads),
        api.with_path("GET", VERSIONS + "/{version}", get_version, reads),
        api.with_path("GET", VERSIONS + "/{version}/records", get_records, reads),
    ]


def _number(f: Fields) -> int:
    return int(f.int64("version", required=True) or 0)

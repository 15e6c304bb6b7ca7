"""MLflow REST v3: label schemas under /api/3.0/mlflow/label-schemas (what
`mlflow.genai.label_schemas.create_label_schema`, `get_label_schema`, `list_label_schemas`,
`update_label_schema` and `delete_label_schema` call)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.entities.review import (
    InputCategorical,
    InputNumeric,
    InputPassFail,
    InputText,
    LabelInput,
    LabelSchema,
    LabelSchemaType,
)
from heron.errors import InvalidParameter
from heron.server.routing import MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.label_schemas import LabelSchemaService

SCHEMA_TYPES = {"LABEL_SCHEMA_TYPE_UNSPECIFIED": 0, "FEEDBACK": 1, "EXPECTATION": 2}
_TYPE_OF = {1: LabelSchemaType.FEEDBACK, 2: LabelSchemaType.EXPECTATION}
_NUMBER_OF = {t: n for n, t in _TYPE_OF.items()}


def input_json(value: LabelInput) -> Json:
    if isinstance(value, InputPassFail):
        return {
            "pass_fail": {
                "positive_label": value.positive_label,
                "negative_label": value.negative_label,
            }
        }
    if isinstance(value, InputCategorical):
        return {"categorical": {"options": list(value.options), "multi_select": value.multi_select}}
    if isinstance(value, InputNumeric):
        bounds = {"min_value": value.min_value, "max_value": value.max_value}
        return {"numeric": {k: v for k, v in bounds.items() if v is not None}}
    text: Json = {} if value.max_length is None else {"max_length": value.max_length}
    return {"text": text}


def schema_json(s: LabelSchema) -> Json:
    out: Json = {
        "schema_id": s.schema_id,
        "experiment_id": s.experiment_id,
        "name": s.name,
        "type": s.type.value,
        "enable_comment": s.enable_comment,
        "input": input_json(s.input),
        "created_at": s.created_at,
        "last_updated_at": s.last_updated_at,
        "is_default": s.is_default,
    }
    if s.instruction is not None:
        out["instruction"] = s.instruction
    if s.created_by is not None:
        out["created_by"] = s.created_by
    return out


def read_input(f: Fields) -> LabelInput:
    """The one kind set in a LabelSchemaInput message."""
    kinds = [k for k in ("pass_fail", "categorical", "numeric", "text") if f.message(k)]
    if len(kinds) != 1:
        raise InvalidParameter("input sets exactly one of pass_fail, categorical, numeric or text")
    body = f.message(kinds[0])
    assert body is not None  # noqa: S101 (found above)
    if kinds[0] == "pass_fail":
        return InputPassFail(
            positive_label=body.string("positive_label") or "",
            negative_label=body.string("negative_label") or "",
        )
    if kinds[0] == "categorical":
        return InputCategorical(
            options=tuple(body.strings("options")),
            multi_select=bool(body.boolean("multi_select")),
        )
    if kinds[0] == "numeric":
        return InputNumeric(min_value=body.double("min_value"), max_value=body.double("max_value"))
    return InputText(max_length=body.int64("max_length"))


def _type(f: Fields) -> LabelSchemaType:
    number = f.enum("type", SCHEMA_TYPES)
    if number not in _TYPE_OF:
        raise InvalidParameter("type is FEEDBACK or EXPECTATION")
    return _TYPE_OF[number]


def routes(api: Endpoints, service: LabelSchemaService) -> list[BaseRoute]:
    def create(f: Fields) -> Json:
        given = f.message("input", required=True)
        assert given is not None  # noqa: S101 (required)
        schema = service.create_schema(
            f.required_string("experiment_id"),
            f.required_string("name"),
            _type(f),
            read_input(given),
            instruction=f.string("instruction"),
            enable_comment=bool(f.boolean("enable_comment")),
        )
        return {"label_schema": schema_json(schema)}

    def get(f: Fields) -> Json:
        return {"label_schema": schema_json(service.get_schema(f.required_string("schema_id")))}

    def get_by_name(f: Fields) -> Json:
        schema = service.get_schema_by_name(
            f.required_string("experiment_id"), f.required_string("name")
        )
        return {"label_schema": schema_json(schema)}

    def list_schemas(f: Fields) -> Json:
        page = service.list_schemas(
            f.required_string("experiment_id"), f.int32("max_results"), f.string("page_token")
        )
        out: Json = {"label_schemas": [schema_json(s) for s in page]}
        if page.next_page_token:
            out["next_page_token"] = page.next_page_token
        return out

    def update(f: Fields) -> Json:
        given = f.message("input")
        schema = service.update_schema(
            f.required_string("schema_id"),
            name=f.string("name"),
            instruction=f.string("instruction"),
            enable_comment=f.boolean("enable_comment"),
            input_=None if given is None else read_input(given),
        )
        return {"label_schema": schema_json(schema)}

    def delete(f: Fields) -> Json:
        service.delete_schema(f.required_string("schema_id"))
        return {}

    # The service checks the experiment a schema_id belongs to (read, or update to change).
    reads = requires("read", "experiment", "experiment_id")
    updates = requires("update", "experiment", "experiment_id")
    return under_prefixes(
        MLFLOW_V3,
        [
            api.post("/label-schemas/create", create, updates),
            api.get("/label-schemas/get", get, requires("read", "experiment")),
            api.get("/label-schemas/get-by-name", get_by_name, reads),
            api.get("/label-schemas/list", list_schemas, reads),
            api.route("PATCH", "/label-schemas/update", update, requires("update", "experiment")),
            api.route("DELETE", "/label-schemas/delete", delete, requires("update", "experiment")),
        ],
    )

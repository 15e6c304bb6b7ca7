"""SqlLabelSchemaStore: the label schemas of experiments, their input kept as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities import Page
from heron.entities.review import (
    InputCategorical,
    InputNumeric,
    InputPassFail,
    InputText,
    LabelInput,
    LabelSchema,
    LabelSchemaType,
)
from heron.errors import AlreadyExists, NotFound
from heron.store.sql import keyset_tokens
from heron.store.sql.database import Database
from heron.store.sql.tables_review import label_schemas as schemas


def input_json(value: LabelInput) -> str:
    """The input as MLflow's LabelSchemaInput message (one field set)."""
    if isinstance(value, InputPassFail):
        body: dict[str, Any] = {
            "pass_fail": {
                "positive_label": value.positive_label,
                "negative_label": value.negative_label,
            }
        }
    elif isinstance(value, InputCategorical):
        body = {"categorical": {"options": list(value.options), "multi_select": value.multi_select}}
    elif isinstance(value, InputNumeric):
        body = {"numeric": {"min_value": value.min_value, "max_value": value.max_value}}
    else:
        body = {"text": {"max_length": value.max_length}}
    return orjson.dumps(body).decode()


def _input(text: str) -> LabelInput:
    found = orjson.loads(text)
    if "pass_fail" in found:
        return InputPassFail(**found["pass_fail"])
    if "categorical" in found:
        c = found["categorical"]
        return InputCategorical(options=tuple(c["options"]), multi_select=c["multi_select"])
    if "numeric" in found:
        return InputNumeric(**found["numeric"])
    return InputText(**found["text"])


def _schema(row: Any) -> LabelSchema:
    return LabelSchema(
        schema_id=row.schema_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        type=LabelSchemaType(row.type),
        input=_input(row.input),
        instruction=row.instruction,
        enable_comment=bool(row.enable_comment),
        created_by=row.created_by,
        created_at=row.created_at,
        last_updated_at=row.last_updated_at,
        is_default=bool(row.is_default),
    )


def _row(schema: LabelSchema) -> dict[str, Any]:
    return {
        "name": schema.name,
        "input": input_json(schema.input),
        "instruction": schema.instruction,
        "enable_comment": schema.enable_comment,
        "last_updated_at": schema.last_updated_at,
    }


class SqlLabelSchemaStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_schema(self, schema: LabelSchema) -> LabelSchema:
        def write(conn: Connection) -> None:
            row = {
                **_row(schema),
                "schema_id": schema.schema_id,
                "experiment_id": int(schema.experiment_id),
                "type": schema.type.value,
                "created_by": schema.created_by,
                "created_at": schema.created_at,
                "is_default": schema.is_default,
            }
            try:
                with conn.begin_nested():
                    conn.execute(insert(schemas), [row])
            except IntegrityError:
                raise _taken(schema) from None

        self._db.write(write)
        return schema

    def get_schema(self, schema_id: str) -> LabelSchema:
        with self._db.read() as conn:
            row = conn.execute(select(schemas).where(schemas.c.schema_id == schema_id)).first()
        if row is None:
            raise NotFound(f"No label schema with id {schema_id!r}")
        return _schema(row)

    def get_schema_by_name(self, experiment_id: str, name: str) -> LabelSchema:
        query = select(schemas).where(
            schemas.c.experiment_id == int(experiment_id), schemas.c.name == name
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"No label schema {name!r} in experiment {experiment_id}")
        return _schema(row)

    def list_schemas(
        self, experiment_id: str, max_results: int, page_token: str | None
    ) -> Page[LabelSchema]:
        scope = f"label-schemas/{experiment_id}"
        query = select(schemas).where(schemas.c.experiment_id == int(experiment_id))
        if page_token:
            time, last = keyset_tokens.decode(scope, page_token)
            query = query.where(
                or_(
                    schemas.c.created_at < time,
                    and_(schemas.c.created_at == time, schemas.c.schema_id > last),
                )
            )
        query = query.order_by(schemas.c.created_at.desc(), schemas.c.schema_id).limit(
            max_results + 1
        )
        with self._db.read() as conn:
            found = [_schema(r) for r in conn.execute(query)]
        if len(found) <= max_results:
            return Page(found)
        end = found[max_results - 1]
        token = keyset_tokens.encode(scope, end.created_at, end.schema_id)
        return Page(found[:max_results], token)

    def update_schema(self, schema: LabelSchema) -> LabelSchema:
        def write(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        update(schemas)
                        .where(schemas.c.schema_id == schema.schema_id)
                        .values(**_row(schema))
                    )
            except IntegrityError:
                raise _taken(schema) from None

        self._db.write(write)
        return schema

    def delete_schema(self, schema_id: str) -> None:
        self._db.write(
            lambda conn: conn.execute(delete(schemas).where(schemas.c.schema_id == schema_id))
        )


def _taken(schema: LabelSchema) -> AlreadyExists:
    return AlreadyExists(
        f"Experiment {schema.experiment_id} already has a label schema named {schema.name!r}"
    )

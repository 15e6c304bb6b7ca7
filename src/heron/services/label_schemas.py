"""LabelSchemaService: the questions reviewers answer about traces (pass/fail, categorical,
numeric or text), with MLflow's rules: names unique per experiment, a protected default
question "Feedback" seeded when an experiment's schemas are first listed, and an input kind
and type fixed once created."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import uuid

from heron.clock import now_ms
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
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services.access import Action, Authorizer, attributed
from heron.services.experiment_checks import checked_experiment
from heron.store.experiments import ExperimentStore
from heron.store.review import LabelSchemaStore

MAX_NAME = 250  # label_schemas.name: also the name of the assessments it makes
MAX_INSTRUCTION = 1000
MAX_LABEL = 64  # a pass/fail label or a categorical option
MAX_OPTIONS = 10
MAX_RESULTS = 1000
MAX_USER = 250  # label_schemas.created_by
DEFAULT_NAME = "Feedback"
DEFAULT_INSTRUCTION = "Share any feedback on this trace."


class LabelSchemaService:
    def __init__(
        self, store: LabelSchemaStore, experiments: ExperimentStore, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._experiments = experiments
        self._authorizer = authorizer

    def _experiment(self, experiment_id: str, action: Action) -> str:
        return checked_experiment(self._authorizer, self._experiments, experiment_id, action)

    def create_schema(
        self,
        experiment_id: str,
        name: str,
        type_: LabelSchemaType,
        input_: LabelInput,
        *,
        instruction: str | None = None,
        enable_comment: bool = False,
    ) -> LabelSchema:
        """Raises InvalidParameter for a bad field (saying which) and AlreadyExists when the
        experiment has a schema of that name."""
        found = self._experiment(experiment_id, "update")
        now = now_ms()
        schema = LabelSchema(
            schema_id="ls-" + uuid.uuid4().hex,
            experiment_id=found,
            name=_name(name),
            type=type_,
            input=check_input(input_),
            instruction=_instruction(instruction),
            enable_comment=enable_comment,
            created_by=attributed(None)[:MAX_USER],  # the caller's own name, not the wire's
            created_at=now,
            last_updated_at=now,
        )
        return self._store.create_schema(schema)

    def get_schema(self, schema_id: str) -> LabelSchema:
        schema = self._store.get_schema(_id(schema_id))
        self._experiment(schema.experiment_id, "read")
        return schema

    def get_schema_by_name(self, experiment_id: str, name: str) -> LabelSchema:
        found = self._experiment(experiment_id, "read")
        if name.strip().lower() == DEFAULT_NAME.lower():
            self._ensure_default(found)
        return self._store.get_schema_by_name(found, name)

    def list_schemas(
        self, experiment_id: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[LabelSchema]:
        """The experiment's schemas, newest first; the default question is made on the
        first call."""
        found = self._experiment(experiment_id, "read")
        limit = 100 if max_results is None else max_results
        if not 1 <= limit <= MAX_RESULTS:
            raise InvalidParameter(f"max_results is between 1 and {MAX_RESULTS}, not {limit}")
        self._ensure_default(found)
        return self._store.list_schemas(found, limit, page_token or None)

    def schemas_of(self, experiment_id: str) -> list[LabelSchema]:
        """Every schema of the experiment, the default question first, then oldest first
        (the questions of a USER queue)."""
        found: list[LabelSchema] = []
        page = self.list_schemas(experiment_id, MAX_RESULTS)
        found.extend(page.items)
        while page.next_page_token:
            page = self.list_schemas(experiment_id, MAX_RESULTS, page.next_page_token)
            found.extend(page.items)
        return sorted(found, key=lambda s: (not s.is_default, s.created_at, s.schema_id))

    def update_schema(
        self,
        schema_id: str,
        *,
        name: str | None = None,
        instruction: str | None = None,
        enable_comment: bool | None = None,
        input_: LabelInput | None = None,
    ) -> LabelSchema:
        """Changes the fields given. Raises InvalidParameter for the default question, or an
        input of another kind (or a categorical's multi_select changed): labels already
        given would no longer fit."""
        old = self._store.get_schema(_id(schema_id))
        self._experiment(old.experiment_id, "update")
        if old.is_default:
            raise InvalidParameter("The experiment's default question cannot be edited")
        if input_ is not None:
            if type(input_) is not type(old.input):
                raise InvalidParameter(
                    f"Label schema {old.name!r} takes a {input_kind(old.input)} answer, which "
                    f"cannot become {input_kind(input_)} (the labels given with it would no "
                    "longer fit): make a new label schema for the other kind"
                )
            if (
                isinstance(input_, InputCategorical)
                and isinstance(old.input, InputCategorical)
                and input_.multi_select != old.input.multi_select
            ):
                raise InvalidParameter(
                    f"Label schema {old.name!r}: whether several options may be chosen "
                    "(multi_select) cannot change: the labels given with it would no longer fit"
                )
            check_input(input_)
        new = dataclasses.replace(
            old,
            name=old.name if name is None else _name(name),
            instruction=old.instruction if instruction is None else _instruction(instruction),
            enable_comment=old.enable_comment if enable_comment is None else enable_comment,
            input=old.input if input_ is None else input_,
            last_updated_at=now_ms(),
        )
        return self._store.update_schema(new)

    def delete_schema(self, schema_id: str) -> None:
        """Deletes the schema; one that does not exist is no error (MLflow's way). Raises
        InvalidParameter for the default question."""
        try:
            old = self._store.get_schema(_id(schema_id))
        except NotFound:
            return
        self._experiment(old.experiment_id, "update")
        if old.is_default:
            raise InvalidParameter("The experiment's default question cannot be deleted")
        self._store.delete_schema(old.schema_id)

    def _ensure_default(self, experiment_id: str) -> None:
        try:
            self._store.get_schema_by_name(experiment_id, DEFAULT_NAME)
            return
        except NotFound:
            pass
        now = now_ms()
        default = LabelSchema(
            schema_id="ls-" + uuid.uuid4().hex,
            experiment_id=experiment_id,
            name=DEFAULT_NAME,
            type=LabelSchemaType.FEEDBACK,
            input=InputText(),
            instruction=DEFAULT_INSTRUCTION,
            created_at=now,
            last_updated_at=now,
            is_default=True,
        )
        with contextlib.suppress(AlreadyExists):  # another request made it first
            self._store.create_schema(default)


def check_input(value: LabelInput) -> LabelInput:
    """The input, or InvalidParameter saying what is wrong with it."""
    if isinstance(value, InputPassFail):
        for label in (value.positive_label, value.negative_label):
            _label(label, "A pass/fail label")
        if value.positive_label == value.negative_label:
            raise InvalidParameter("positive_label and negative_label must differ")
    elif isinstance(value, InputCategorical):
        if not 1 <= len(value.options) <= MAX_OPTIONS:
            raise InvalidParameter(f"A categorical input has 1 to {MAX_OPTIONS} options")
        for option in value.options:
            _label(option, "An option")
        if len(set(value.options)) != len(value.options):
            raise InvalidParameter("A categorical input's options must differ from each other")
    elif isinstance(value, InputNumeric):
        for bound in (value.min_value, value.max_value):
            if bound is not None and not math.isfinite(bound):
                raise InvalidParameter("min_value and max_value are finite numbers")
        low, high = value.min_value, value.max_value
        if low is not None and high is not None and low >= high:
            raise InvalidParameter(f"min_value ({low}) must be below max_value ({high})")
    elif value.max_length is not None and not 1 <= value.max_length <= 2**31 - 1:
        raise InvalidParameter(f"A text input's max_length is at least 1, not {value.max_length}")
    return value


def input_kind(value: LabelInput) -> str:
    """The kind of answer an input asks for, in words."""
    if isinstance(value, InputPassFail):
        return "pass/fail"
    if isinstance(value, InputCategorical):
        return "categorical"
    if isinstance(value, InputNumeric):
        return "numeric"
    return "text"


def _label(label: str, what: str) -> None:
    if not label or len(label) > MAX_LABEL:
        raise InvalidParameter(f"{what} has 1 to {MAX_LABEL} characters, not {label!r}")


def _name(name: str) -> str:
    if not name or len(name) > MAX_NAME:
        raise InvalidParameter(f"A label schema's name has 1 to {MAX_NAME} characters")
    if name.strip().lower() == DEFAULT_NAME.lower():
        raise InvalidParameter(
            f"{name!r} is the name of the experiment's default question; choose another"
        )
    return name


def _instruction(instruction: str | None) -> str | None:
    if instruction is not None and len(instruction) > MAX_INSTRUCTION:
        raise InvalidParameter(f"An instruction has at most {MAX_INSTRUCTION} characters")
    return instruction


def _id(schema_id: str) -> str:
    if not schema_id or len(schema_id) > 36:
        raise NotFound(f"No label schema with id {schema_id[:40]!r}")
    return schema_id

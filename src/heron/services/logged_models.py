"""LoggedModel rules: names, tags and params, status changes, search.

A logged model belongs to an experiment, and permissions follow it: reading a model needs
read access to its experiment, changing one needs update access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.entities import LoggedModel, LoggedModelStatus, Page
from heron.errors import InvalidParameter, NotFound
from heron.search.logged_models import (
    parse_dataset_scopes,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from heron.services import validation as v
from heron.services.access import Action, Authorizer, authorize
from heron.services.changes import changed, changed_field, changed_fields
from heron.services.names import generated_name
from heron.store import ids
from heron.store.experiments import ExperimentStore
from heron.store.logged_models import LoggedModelQuery, LoggedModelStore

MAX_MODEL_NAME = 500
MAX_MODEL_TYPE = 500
MAX_MODEL_TAG_VALUE = 100_000
MAX_LOGGED_MODEL_SEARCH_RESULTS = 50_000
_BAD_NAME_CHARS = ("/", ":", ".", "%", '"', "'")
_FINAL = (LoggedModelStatus.READY, LoggedModelStatus.UPLOAD_FAILED)


class LoggedModelService:
    def __init__(
        self, store: LoggedModelStore, experiments: ExperimentStore, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._experiments = experiments
        self._authorizer = authorizer

    def _check(self, action: Action, experiment_id: str) -> None:
        authorize(self._authorizer, action, "experiment", experiment_id)

    def _model_for(self, action: Action, model_id: str) -> LoggedModel:
        """The active model, once the caller may `action` its experiment."""
        model = self._store.get_logged_model(check_model_id(model_id))
        self._check(action, model.experiment_id)
        return model

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """A new PENDING model; a name is generated when none is given.

        Raises:
            NotFound: the experiment does not exist.
            InvalidParameter: a bad name, tag or param, or a deleted experiment.
        """
        experiment_id = ids.experiment_id(experiment_id)
        self._check("update", experiment_id)
        name = generated_name() if name is None else check_model_name(name)
        if source_run_id:
            v.check_run_reference("source_run_id", source_run_id)
        if model_type:
            v.check_length("model_type", v.check_string("model_type", model_type), MAX_MODEL_TYPE)
        made = self._store.create_logged_model(
            experiment_id=experiment_id,
            name=name,
            source_run_id=source_run_id or None,
            model_type=model_type or None,
            tags=_checked_tags(tags or {}),
            params=_checked_params(params or {}),
        )
        changed("logged_model", made.model_id, after=_audited(made))
        return made

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """Raises NotFound (also for a deleted model unless `allow_deleted`)."""
        model = self._store.get_logged_model(check_model_id(model_id), allow_deleted=allow_deleted)
        self._check("read", model.experiment_id)
        return model

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Sets the final status: READY, or UPLOAD_FAILED when its files could not be uploaded."""
        final = _final_status(status)
        before = self._model_for("update", model_id)
        done = self._store.finalize_logged_model(model_id, final)
        changed_field("logged_model", model_id, "status", before.status.value, final.value)
        return done

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        checked = _checked_tags(tags)
        before = self._model_for("update", model_id)
        if checked:
            self._store.set_logged_model_tags(model_id, checked)
            changed_fields("logged_model", model_id, _prefixed("tags", before.tags, checked),
                           _prefixed("tags", checked, checked))  # fmt: skip

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        v.check_string("key", key)
        before = self._model_for("update", model_id)
        self._store.delete_logged_model_tag(model_id, key)
        changed_field("logged_model", model_id, f"tags.{key}", before.tags.get(key), None)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        checked = _checked_params(params)
        before = self._model_for("update", model_id)
        if checked:
            self._store.log_logged_model_params(model_id, checked)
            changed_fields("logged_model", model_id, _prefixed("params", before.params, checked),
                           _prefixed("params", checked, checked))  # fmt: skip

    def delete_logged_model(self, model_id: str) -> None:
        before = self._model_for("delete", model_id)
        self._store.delete_logged_model(model_id)
        changed("logged_model", model_id, before=_audited(before), after=None)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Active models of the experiments, newest first unless `order_by` says otherwise.

        Args:
            experiment_ids: at least one.
            filter_string: e.g. `metrics.accuracy > 0.9 AND params.lr = '0.1'`.
            datasets: `[{"dataset_name": ..., "dataset_digest": ...}]`: metric clauses (and,
                without one, the models found) only count metrics computed on these.
            order_by: `[{"field_name": "metrics.accuracy", "ascending": False}]`.

        Raises:
            NotFound: an experiment does not exist.
            InvalidParameter: a bad filter, order_by, dataset, max_results or page token.
        """
        if isinstance(experiment_ids, str) or not experiment_ids:
            raise InvalidParameter(
                "experiment_ids must list at least one experiment to search logged models in"
            )
        searched = [ids.experiment_id(e) for e in experiment_ids]
        for experiment_id in searched:
            self._check("read", experiment_id)
            self._experiments.get_experiment(experiment_id)
        query = LoggedModelQuery(
            experiment_ids=searched,
            filter=parse_logged_model_filter(filter_string),
            datasets=parse_dataset_scopes(datasets),
            order_by=parse_logged_model_order_by(order_by),
            max_results=v.check_max_results(max_results, MAX_LOGGED_MODEL_SEARCH_RESULTS),
            page_token=page_token or None,
        )
        return self._store.search_logged_models(query)


def _audited(model: LoggedModel) -> dict[str, Any]:
    """What the audit log keeps of a model made or deleted."""
    return {
        "name": model.name, "experiment_id": model.experiment_id,
        "status": model.status.value, "model_type": model.model_type,
        "source_run_id": model.source_run_id,
    }  # fmt: skip


def _prefixed(kind: str, values: Mapping[str, str], keys: Mapping[str, str]) -> dict[str, Any]:
    """`values` of the `keys` given, as `kind.key` fields (None where there was none)."""
    return {f"{kind}.{k}": values.get(k) for k in keys}


def check_model_id(model_id: object) -> str:
    """Logged model ids are short strings (`m-<32 hex>`); anything else cannot exist."""
    if not isinstance(model_id, str) or not model_id or len(model_id) > v.MAX_MODEL_ID:
        raise NotFound(f"Logged model with ID {model_id!r} not found")
    return model_id


def check_model_name(name: object) -> str:
    """MLflow's rule: non-empty, none of / : . % " ' (the name becomes part of paths)."""
    if not isinstance(name, str) or not name.strip() or any(c in name for c in _BAD_NAME_CHARS):
        raise InvalidParameter(
            f"Invalid model name {name!r}: it must be a non-empty string without any of "
            f"{' '.join(_BAD_NAME_CHARS)}"
        )
    return v.check_length("Model name", name, MAX_MODEL_NAME)


def _final_status(status: LoggedModelStatus | str) -> LoggedModelStatus:
    text = str(status).removeprefix("LOGGED_MODEL_")
    try:
        final = LoggedModelStatus(text)
    except ValueError:
        final = None
    if final not in _FINAL:
        raise InvalidParameter(
            f"Invalid final status {status!r} for a logged model; use READY or UPLOAD_FAILED"
        )
    assert final is not None  # noqa: S101 (narrowing: _FINAL holds no None)
    return final


def _checked_tags(tags: Mapping[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        v.check_key("Logged model tag", key)
        v.check_length(
            f"Logged model tag {key!r} value",
            v.check_string("Tag value", value),
            MAX_MODEL_TAG_VALUE,
        )
    return dict(tags)


def _checked_params(params: Mapping[str, str]) -> dict[str, str]:
    for key, value in params.items():
        v.check_key("Logged model param", key)
        v.check_length(
            f"Logged model param {key!r} value",
            v.check_string("Param value", value),
            v.MAX_PARAM_VALUE,
        )
    return dict(params)

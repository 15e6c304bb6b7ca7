"""The check a service of an experiment's objects makes first: the experiment id read, the
caller allowed the action on it, and the experiment there."""

from __future__ import annotations

from heron.services.access import Action, Authorizer, authorize
from heron.store import ids
from heron.store.experiments import ExperimentStore


def checked_experiment(
    authorizer: Authorizer, experiments: ExperimentStore, experiment_id: str, action: Action
) -> str:
    """The experiment's id as stored. Raises InvalidParameter (a bad id), PermissionDenied,
    or NotFound (no such experiment)."""
    found = ids.experiment_id(experiment_id)
    authorize(authorizer, action, "experiment", found)
    experiments.get_experiment(found)
    return found

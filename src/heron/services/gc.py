"""Garbage collection (`heron gc`): removes deleted runs, logged models and experiments for good,
their files first, then their rows."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from heron.entities.deleted import Deleted, DeletedKind
from heron.errors import HeronError, InvalidParameter
from heron.store.artifacts.locations import ArtifactLocations
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.purge import PurgeStore

_ARTIFACTS_DIR = "artifacts"  # runs and models keep their files in <id>/artifacts


@dataclass(slots=True)
class GcReport:
    removed: list[Deleted] = field(default_factory=list)  # or, in a dry run, what would go
    kept: list[tuple[Deleted, str]] = field(default_factory=list)  # and why


class GarbageCollector:
    """`heron gc` over one database and the artifact roots of its settings."""

    def __init__(self, store: PurgeStore, locations: ArtifactLocations) -> None:
        self._store = store
        self._locations = locations

    def collect(
        self,
        *,
        deleted_before: int | None = None,
        experiment_ids: Sequence[str] = (),
        run_ids: Sequence[str] = (),
        dry_run: bool = False,
    ) -> GcReport:
        """See `collect_garbage`."""
        return collect_garbage(
            self._store,
            self._locations,
            deleted_before=deleted_before,
            experiment_ids=experiment_ids,
            run_ids=run_ids,
            dry_run=dry_run,
        )


def collect_garbage(
    store: PurgeStore,
    locations: ArtifactLocations,
    *,
    deleted_before: int | None = None,
    experiment_ids: Sequence[str] = (),
    run_ids: Sequence[str] = (),
    dry_run: bool = False,
) -> GcReport:
    """Deletes the files, then the rows, of everything deleted (before `deleted_before`, or
    only the given experiments and runs). An item whose files cannot be deleted keeps its row
    (and so does its experiment), so a later run can finish the job; nothing is lost."""
    report = GcReport()
    blocked_experiments: set[str] = set()
    items = store.find_deleted(
        deleted_before=deleted_before, experiment_ids=experiment_ids, run_ids=run_ids
    )
    for item in items:  # runs and models come before their experiments
        if item.kind is DeletedKind.EXPERIMENT and item.id in blocked_experiments:
            report.kept.append((item, "some of its runs or models were kept"))
            continue
        try:
            repository, path = locations.locate(item.artifact_uri)
            if not path and item.kind is not DeletedKind.EXPERIMENT:
                raise InvalidParameter(
                    f"its artifact root {item.artifact_uri!r} is a whole configured root"
                )
            if not dry_run:
                _delete_files(item, repository, path)
                store.purge(item)
        except HeronError as exc:
            report.kept.append((item, exc.message))
            blocked_experiments.add(item.experiment_id)
            continue
        except OSError as exc:
            report.kept.append((item, f"could not delete its files: {exc}"))
            blocked_experiments.add(item.experiment_id)
            continue
        report.removed.append(item)
    return report


def _delete_files(item: Deleted, repository: ArtifactRepository, path: str) -> None:
    if item.kind is DeletedKind.EXPERIMENT:
        # Its runs and models are gone by now; what is left may belong to another experiment
        # whose location lies inside this one, so only an empty directory goes.
        _delete_if_empty(repository, path)
        return
    repository.delete(path)
    parent, name = posixpath.split(path)
    if name == _ARTIFACTS_DIR and posixpath.basename(parent) == item.id:
        _delete_if_empty(repository, parent)


def _delete_if_empty(repository: ArtifactRepository, path: str) -> None:
    if path and not list(repository.list(path, max_results=1)):
        repository.delete(path)

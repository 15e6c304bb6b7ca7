"""SqlWorkspaceStore: the workspaces table, and the condition that keeps a query to the
current request's workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from heron.clock import now_ms
from heron.entities.workspace import DEFAULT_WORKSPACE, Workspace
from heron.errors import AlreadyExists, Conflict, NotFound
from heron.store import ids
from heron.store.sql.database import Database
from heron.store.sql.security_tables import workspaces
from heron.store.sql.shared_counters import SharedCounter, bump
from heron.store.sql.tables import experiments, registered_models
from heron.store.workspaces import current_workspace


def in_workspace(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """`column` (an experiment's or a model's workspace) is the request's; always true when
    workspaces are off."""
    name = current_workspace()
    return true() if name is None else column == name


def not_found(name: str) -> NotFound:
    return NotFound(
        f"Workspace {name!r} does not exist: create it first (POST /api/3.0/mlflow/workspaces) "
        "or name an existing one in the X-MLFLOW-WORKSPACE header"
    )


_VERSION = "workspaces"  # a row of security_state
_SIGNAL = "workspaces-version"  # `<db>-workspaces-version`, beside a SQLite database


class SqlWorkspaceStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._version = SharedCounter(database, _VERSION, _SIGNAL)

    def version(self) -> int:
        return self._version.read()

    def close(self) -> None:
        self._version.close()

    def create_workspace(self, workspace: Workspace) -> Workspace:
        made = Workspace(
            name=workspace.name,
            description=workspace.description,
            default_artifact_root=workspace.default_artifact_root,
            created_time=now_ms(),
        )

        def create(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(workspaces).values(
                            name=made.name,
                            description=made.description,
                            default_artifact_root=made.default_artifact_root,
                            created_time=made.created_time,
                        )
                    )
            except IntegrityError:
                raise AlreadyExists(f"Workspace {made.name!r} already exists") from None

        self._db.write(create)
        return made

    def get_workspace(self, name: str) -> Workspace:
        with self._db.read() as conn:
            row = conn.execute(select(workspaces).where(workspaces.c.name == name)).first()
        if row is None:
            raise not_found(name)
        return _workspace(row)

    def exists(self, name: str) -> bool:
        with self._db.read() as conn:
            return (
                conn.execute(select(workspaces.c.name).where(workspaces.c.name == name)).first()
                is not None
            )

    def list_workspaces(self) -> list[Workspace]:
        with self._db.read() as conn:
            rows = conn.execute(select(workspaces).order_by(workspaces.c.name)).all()
        return [_workspace(row) for row in rows]

    def update_workspace(
        self, name: str, *, description: str | None, default_artifact_root: str | None
    ) -> Workspace:
        values = {
            k: v
            for k, v in (
                ("description", description),
                ("default_artifact_root", default_artifact_root),
            )
            if v is not None
        }

        def change(conn: Connection) -> None:
            if values:
                changed = conn.execute(
                    update(workspaces).where(workspaces.c.name == name).values(**values)
                )
                if changed.rowcount == 0:
                    raise not_found(name)

        self._db.write(change)
        return self.get_workspace(name)

    def delete_workspace(self, name: str, *, to_default: bool = False) -> None:
        def remove(conn: Connection) -> None:
            if not conn.execute(select(workspaces.c.name).where(workspaces.c.name == name)).first():
                raise not_found(name)
            for table, what in ((experiments, "experiments"), (registered_models, "models")):
                if to_default:
                    _move_to_default(conn, table, name)
                elif conn.execute(select(exists().where(table.c.workspace == name))).scalar():
                    raise Conflict(
                        f"Cannot delete workspace {name!r}: it still holds {what} (deleted "
                        "ones too, until they are purged). Delete and purge them, or delete "
                        "with mode=SET_DEFAULT to move them to the default workspace"
                    )
            conn.execute(delete(workspaces).where(workspaces.c.name == name))
            bump(conn, _VERSION, _SIGNAL)  # every process forgets it on its next request

        self._db.write(remove)

    def workspace_of_experiment(self, experiment_id: str) -> str | None:
        key = ids.experiment_key(experiment_id)
        if key is None:
            return None
        with self._db.read() as conn:
            return conn.execute(
                select(experiments.c.workspace).where(experiments.c.experiment_id == key)
            ).scalar()


def _move_to_default(conn: Connection, table: Any, name: str) -> None:
    try:
        with conn.begin_nested():
            conn.execute(
                update(table).where(table.c.workspace == name).values(workspace=DEFAULT_WORKSPACE)
            )
    except IntegrityError:
        raise Conflict(
            f"Cannot move the objects of workspace {name!r} to the default workspace: some "
            "names are taken there. Rename them first"
        ) from None


def _workspace(row: Any) -> Workspace:
    return Workspace(
        name=row.name,
        description=row.description,
        default_artifact_root=row.default_artifact_root,
        created_time=row.created_time,
    )

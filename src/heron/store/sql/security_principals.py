"""SqlPrincipalStore and SqlGroupStore: users, service principals, groups and members."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities.security import Credentials, Principal, PrincipalKind
from heron.errors import AlreadyExists, NotFound
from heron.store.sql.database import Database
from heron.store.sql.security_state import bump_epoch
from heron.store.sql.security_tables import group_members, principals

_P = principals.c
_COLUMNS = (
    _P.principal_id, _P.kind, _P.name, _P.is_admin, _P.disabled,
    _P.password_hash.isnot(None), _P.created_time, _P.display_name,
)  # fmt: skip


def principal_of(row: Any) -> Principal:
    return Principal(
        principal_id=int(row[0]),
        kind=PrincipalKind(row[1]),
        name=row[2],
        is_admin=bool(row[3]),
        disabled=bool(row[4]),
        has_password=bool(row[5]),
        created_time=int(row[6]),
        display_name=row[7],
    )


class SqlPrincipalStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_principal(
        self,
        kind: PrincipalKind,
        name: str,
        *,
        password_hash: str | None = None,
        is_admin: bool = False,
        display_name: str | None = None,
    ) -> Principal:
        def create(conn: Connection) -> int:
            try:
                with conn.begin_nested():
                    done = conn.execute(
                        insert(principals).values(
                            kind=kind.value, name=name, display_name=display_name,
                            is_admin=is_admin, disabled=False, password_hash=password_hash,
                            failed_logins=0, locked_until=None,
                            created_time=int(time.time() * 1000),
                        )
                    )  # fmt: skip
            except IntegrityError:
                raise AlreadyExists(f"A {kind.value} named {name!r} already exists") from None
            bump_epoch(conn)
            return int(done.inserted_primary_key[0])  # type: ignore[index]

        return self.get_principal_by_id(self._db.write(create))

    def _one(self, where: Any, what: str) -> Principal:
        with self._db.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(where)).first()
        if row is None:
            raise NotFound(f"{what} does not exist")
        return principal_of(row)

    def get_principal(self, kind: PrincipalKind, name: str) -> Principal:
        label = kind.value.replace("_", " ").capitalize()
        return self._one((_P.kind == kind.value) & (_P.name == name), f"{label} {name!r}")

    def get_principal_by_id(self, principal_id: int) -> Principal:
        return self._one(_P.principal_id == principal_id, f"Principal {principal_id}")

    def list_principals(self, kind: PrincipalKind) -> list[Principal]:
        stmt = select(*_COLUMNS).where(_P.kind == kind.value).order_by(_P.name)
        with self._db.read() as conn:
            return [principal_of(row) for row in conn.execute(stmt)]

    def credentials(self, name: str) -> Credentials | None:
        stmt = select(*_COLUMNS, _P.password_hash, _P.failed_logins, _P.locked_until).where(
            (_P.kind == PrincipalKind.USER.value) & (_P.name == name)
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return Credentials(
            principal=principal_of(row),
            password_hash=row[8],
            failed_logins=int(row[9]),
            locked_until=row[10],
        )

    def update_principal(
        self,
        principal_id: int,
        *,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        disabled: bool | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if password_hash is not None:
            values.update(password_hash=password_hash, failed_logins=0, locked_until=None)
        if is_admin is not None:
            values["is_admin"] = is_admin
        if disabled is not None:
            values["disabled"] = disabled

        def change(conn: Connection) -> None:
            done = conn.execute(
                update(principals).where(_P.principal_id == principal_id).values(**values)
            )
            if done.rowcount == 0:
                raise NotFound(f"Principal {principal_id} does not exist")
            bump_epoch(conn)

        if values:
            self._db.write(change)

    def record_login(
        self, principal_id: int, *, failed_logins: int, locked_until: int | None
    ) -> None:
        stmt = (
            update(principals)
            .where(_P.principal_id == principal_id)
            .values(failed_logins=failed_logins, locked_until=locked_until)
        )
        self._db.write(lambda conn: conn.execute(stmt))

    def delete_principal(self, principal_id: int) -> None:
        def remove(conn: Connection) -> None:
            done = conn.execute(delete(principals).where(_P.principal_id == principal_id))
            if done.rowcount == 0:
                raise NotFound(f"Principal {principal_id} does not exist")
            bump_epoch(conn)

        self._db.write(remove)

    def count_admins(self) -> int:
        stmt = select(func.count()).where(
            (_P.kind == PrincipalKind.USER.value) & _P.is_admin & ~_P.disabled
        )
        with self._db.read() as conn:
            return int(conn.execute(stmt).scalar_one())


class SqlGroupStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add_member(self, group_id: int, member_id: int, *, source: str = "admin") -> None:
        def add(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(group_members).values(
                            group_id=group_id, member_id=member_id, source=source
                        )
                    )
            except IntegrityError:
                return  # already a member (or a principal that is gone: checked by the service)
            bump_epoch(conn)

        self._db.write(add)

    def remove_member(self, group_id: int, member_id: int) -> None:
        def remove(conn: Connection) -> None:
            conn.execute(
                delete(group_members).where(
                    (group_members.c.group_id == group_id)
                    & (group_members.c.member_id == member_id)
                )
            )
            bump_epoch(conn)

        self._db.write(remove)

    def members(self, group_id: int) -> list[Principal]:
        stmt = (
            select(*_COLUMNS)
            .join(group_members, group_members.c.member_id == _P.principal_id)
            .where(group_members.c.group_id == group_id)
            .order_by(_P.name)
        )
        with self._db.read() as conn:
            return [principal_of(row) for row in conn.execute(stmt)]

    def groups_of(self, member_id: int) -> list[Principal]:
        stmt = (
            select(*_COLUMNS)
            .join(group_members, group_members.c.group_id == _P.principal_id)
            .where(group_members.c.member_id == member_id)
            .order_by(_P.name)
        )
        with self._db.read() as conn:
            return [principal_of(row) for row in conn.execute(stmt)]

    def set_idp_groups(self, member_id: int, group_ids: Sequence[int]) -> None:
        def replace(conn: Connection) -> None:
            gm = group_members.c
            current = {
                int(g)
                for (g,) in conn.execute(
                    select(gm.group_id).where((gm.member_id == member_id) & (gm.source == "idp"))
                )
            }
            if current == set(group_ids):
                return
            conn.execute(
                delete(group_members).where((gm.member_id == member_id) & (gm.source == "idp"))
            )
            admin_set = {
                int(g)
                for (g,) in conn.execute(select(gm.group_id).where(gm.member_id == member_id))
            }
            rows = [
                {"group_id": g, "member_id": member_id, "source": "idp"}
                for g in sorted(set(group_ids) - admin_set)
            ]
            if rows:
                conn.execute(insert(group_members), rows)
            bump_epoch(conn)

        self._db.write(replace)

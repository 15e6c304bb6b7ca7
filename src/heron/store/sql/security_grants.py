"""SqlGrantStore: privileges granted (or denied) to principals on securables."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from heron.entities.security import Grant, PrincipalKind, Privilege, SecurableType
from heron.store.security import NewGrant
from heron.store.sql.database import Database
from heron.store.sql.security_state import bump_epoch
from heron.store.sql.security_tables import grants, principals

_G = grants.c
_SELECT = select(
    _G.grant_id, _G.principal_id, principals.c.name, principals.c.kind, _G.privilege,
    _G.securable_type, _G.securable_id, _G.deny, _G.aliases, _G.created_time, _G.created_by,
).join(principals, principals.c.principal_id == _G.principal_id)  # fmt: skip


def grant_of(row: Any) -> Grant:
    return Grant(
        grant_id=int(row[0]),
        principal_id=int(row[1]),
        principal_name=row[2],
        principal_kind=PrincipalKind(row[3]),
        privilege=Privilege(row[4]),
        securable_type=SecurableType(row[5]),
        securable_id=row[6],
        deny=bool(row[7]),
        aliases=None if row[8] is None else tuple(json.loads(row[8])),
        created_time=int(row[9]),
        created_by=row[10],
    )


class SqlGrantStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add_grant(self, grant: NewGrant) -> Grant:
        def add(conn: Connection) -> int:
            same = _same(grant.principal_id, grant.securable_type, grant.securable_id)
            conn.execute(same.where(_G.privilege == grant.privilege.value, _G.deny == grant.deny))
            done = conn.execute(
                insert(grants).values(
                    principal_id=grant.principal_id,
                    privilege=grant.privilege.value,
                    securable_type=grant.securable_type.value,
                    securable_id=grant.securable_id,
                    deny=grant.deny,
                    aliases=None if grant.aliases is None else json.dumps(list(grant.aliases)),
                    created_time=int(time.time() * 1000),
                    created_by=grant.created_by,
                )
            )
            bump_epoch(conn)
            return int(done.inserted_primary_key[0])  # type: ignore[index]

        grant_id = self._db.write(add)
        with self._db.read() as conn:
            return grant_of(conn.execute(_SELECT.where(_G.grant_id == grant_id)).one())

    def remove_grants(
        self,
        principal_id: int,
        securable_type: SecurableType,
        securable_id: str,
        privilege: Privilege | None = None,
    ) -> int:
        stmt = _same(principal_id, securable_type, securable_id)
        if privilege is not None:
            stmt = stmt.where(_G.privilege == privilege.value)

        def remove(conn: Connection) -> int:
            count = conn.execute(stmt).rowcount
            if count:
                bump_epoch(conn)
            return int(count)

        return self._db.write(remove)

    def list_grants(
        self,
        *,
        principal_ids: Sequence[int] | None = None,
        securable: tuple[SecurableType, str] | None = None,
    ) -> list[Grant]:
        stmt = _SELECT.order_by(_G.grant_id)
        if principal_ids is not None:
            stmt = stmt.where(_G.principal_id.in_(list(principal_ids)))
        if securable is not None:
            stmt = stmt.where(
                (_G.securable_type == securable[0].value) & (_G.securable_id == securable[1])
            )
        with self._db.read() as conn:
            return [grant_of(row) for row in conn.execute(stmt)]

    def grants_on(
        self, principal_ids: Sequence[int], securables: Sequence[tuple[SecurableType, str]]
    ) -> list[Grant]:
        if not principal_ids or not securables:
            return []
        on_any = or_(
            *(and_(_G.securable_type == t.value, _G.securable_id == i) for t, i in securables)
        )
        stmt = _SELECT.where(_G.principal_id.in_(list(principal_ids)) & on_any)
        with self._db.read() as conn:
            return [grant_of(row) for row in conn.execute(stmt)]

    def grants_of(
        self, principal_ids: Sequence[int], securable_types: Sequence[SecurableType]
    ) -> list[Grant]:
        if not principal_ids or not securable_types:
            return []
        stmt = _SELECT.where(
            _G.principal_id.in_(list(principal_ids))
            & _G.securable_type.in_([t.value for t in securable_types])
        )
        with self._db.read() as conn:
            return [grant_of(row) for row in conn.execute(stmt)]

    def move_grants(
        self, securable_types: Sequence[SecurableType], securable_id: str, new_id: str
    ) -> None:
        # What was granted on the new name before it named anything gives way to the grants
        # of the object that now bears it.
        self._change(
            delete(grants).where(_on(securable_types, new_id)),
            update(grants).where(_on(securable_types, securable_id)).values(securable_id=new_id),
        )

    def drop_grants(self, securable_types: Sequence[SecurableType], securable_id: str) -> None:
        self._change(delete(grants).where(_on(securable_types, securable_id)))

    def move_prefixed_grants(
        self, securable_types: Sequence[SecurableType], prefix: str, new_prefix: str
    ) -> None:
        kinds = [t.value for t in securable_types]
        under = _G.securable_type.in_(kinds) & _G.securable_id.startswith(prefix, autoescape=True)

        def move(conn: Connection) -> None:
            ids = sorted({row[0] for row in conn.execute(select(_G.securable_id).where(under))})
            moved = {old: new_prefix + old[len(prefix) :] for old in ids}
            if not moved:
                return
            for chunk in _chunks(sorted(moved.values())):
                conn.execute(delete(grants).where(_G.securable_type.in_(kinds)
                                                  & _G.securable_id.in_(chunk)))  # fmt: skip
            for old, new in moved.items():
                conn.execute(update(grants).where(_on(securable_types, old))
                             .values(securable_id=new))  # fmt: skip
            bump_epoch(conn)

        self._db.write(move)

    def drop_prefixed_grants(self, securable_types: Sequence[SecurableType], prefix: str) -> None:
        if not prefix:
            raise ValueError("drop_prefixed_grants needs a prefix")
        self._change(
            delete(grants).where(
                _G.securable_type.in_([t.value for t in securable_types])
                & _G.securable_id.startswith(prefix, autoescape=True)
            )
        )

    def _change(self, *statements: Any) -> None:
        def change(conn: Connection) -> None:
            if sum(conn.execute(stmt).rowcount for stmt in statements):
                bump_epoch(conn)

        self._db.write(change)


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _on(securable_types: Sequence[SecurableType], securable_id: str) -> Any:
    return _G.securable_type.in_([t.value for t in securable_types]) & (
        _G.securable_id == securable_id
    )


def _same(principal_id: int, securable_type: SecurableType, securable_id: str) -> Any:
    return delete(grants).where(
        (_G.principal_id == principal_id)
        & (_G.securable_type == securable_type.value)
        & (_G.securable_id == securable_id)
    )

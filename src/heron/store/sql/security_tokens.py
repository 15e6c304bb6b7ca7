"""SqlTokenStore and SqlSessionStore: hashed access tokens and browser sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from heron.entities.security import AccessToken, Session
from heron.errors import NotFound
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import Database, fetch
from heron.store.sql.security_state import bump_epoch
from heron.store.sql.security_tables import access_tokens, sessions

_T = access_tokens.c
_BY_ID = select(
    _T.token_id, _T.principal_id, _T.name, _T.scopes, _T.created_time, _T.expires_time,
    _T.revoked_time, _T.last_used_time, _T.secret_hash,
)  # fmt: skip


def token_of(row: Any, sealer: Sealer) -> AccessToken:
    return AccessToken(
        token_id=row[0],
        principal_id=int(row[1]),
        name=sealer.open(row[2], f"The name of token {row[0]!r}"),
        scopes=tuple(row[3].split()),
        created_time=int(row[4]),
        expires_time=row[5],
        revoked_time=row[6],
        last_used_time=row[7],
        secret_hash=row[8],
    )


class SqlTokenStore:
    """Access tokens (their secrets hashed); with field encryption on, their names sealed."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def create_token(self, token: AccessToken) -> None:
        name = self._sealer.seal(token.name)
        values = {
            "token_id": token.token_id, "principal_id": token.principal_id, "name": name,
            "secret_hash": token.secret_hash, "scopes": " ".join(token.scopes),
            "created_time": token.created_time, "expires_time": token.expires_time,
            "revoked_time": None, "last_used_time": None,
        }  # fmt: skip
        self._db.write(lambda conn: conn.execute(insert(access_tokens).values(**values)))

    def get_token(self, token_id: str) -> AccessToken | None:
        with self._db.read() as conn:
            row = conn.execute(_BY_ID.where(_T.token_id == token_id)).first()
        return None if row is None else token_of(row, self._sealer)

    def list_tokens(self, principal_id: int) -> list[AccessToken]:
        stmt = _BY_ID.where(_T.principal_id == principal_id).order_by(_T.created_time, _T.token_id)
        with self._db.read() as conn:
            return [token_of(row, self._sealer) for row in conn.execute(stmt)]

    def _change(self, token_id: str, **values: Any) -> None:
        def change(conn: Connection) -> None:
            done = conn.execute(update(access_tokens).where(_T.token_id == token_id).values(values))
            if done.rowcount == 0:
                raise NotFound(f"Token {token_id!r} does not exist")
            bump_epoch(conn)

        self._db.write(change)

    def revoke_token(self, token_id: str, revoked_time: int) -> None:
        self._change(token_id, revoked_time=revoked_time)

    def expire_token(self, token_id: str, expires_time: int) -> None:
        self._change(token_id, expires_time=expires_time)

    def touch_token(self, token_id: str, last_used_time: int) -> None:
        stmt = update(access_tokens).where(_T.token_id == token_id)
        self._db.write(lambda conn: conn.execute(stmt.values(last_used_time=last_used_time)))


_S = sessions.c
_GET_SESSION = select(_S.principal_id, _S.created_time, _S.expires_time, _S.csrf_token).where(
    _S.session_hash == bindparam("h")
)


class SqlSessionStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_session(self, session_hash: str, session: Session) -> None:
        stmt = insert(sessions).values(
            session_hash=session_hash,
            principal_id=session.principal_id,
            created_time=session.created_time,
            expires_time=session.expires_time,
            csrf_token=session.csrf_token,
        )
        self._db.write(lambda conn: conn.execute(stmt))

    def get_session(self, session_hash: str) -> Session | None:
        with self._db.read() as conn:
            rows = fetch(conn, _GET_SESSION, {"h": session_hash})
        if not rows:
            return None
        principal_id, created, expires, csrf = rows[0]
        return Session(
            principal_id=int(principal_id),
            created_time=int(created),
            expires_time=int(expires),
            csrf_token=csrf,
        )

    def delete_session(self, session_hash: str) -> None:
        stmt = delete(sessions).where(_S.session_hash == session_hash)

        def remove(conn: Connection) -> None:
            if conn.execute(stmt).rowcount:
                bump_epoch(conn)  # every process forgets the session on its next request

        self._db.write(remove)

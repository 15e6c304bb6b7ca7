"""The connection to SQLite or PostgreSQL, and the group-commit write path.

Reads run on pooled connections. Writes are closures handed to `Database.write`: concurrent
writers are committed together in one transaction (each in its own savepoint, so one failing
write does not undo the others), and `write` returns only after that commit. With SQLite in
WAL mode and `synchronous=NORMAL` a committed write is in the WAL file before it is
acknowledged, so it survives `kill -9` of the server; `synchronous=FULL` also survives a power
cut, at the cost of an fsync per group."""

from __future__ import annotations

import operator
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ClauseElement

from heron.errors import HeronError

T = TypeVar("T")

_MAX_GROUP = 256
_AFTER_COMMIT = "heron_after_commit"


def after_commit(conn: Connection, fn: Callable[[], None]) -> None:
    """Runs `fn` once the write on `conn` has committed (never after a rollback of the whole
    transaction; a write rolled back alone inside a group still runs it, so `fn` must do no
    harm when nothing changed)."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(fn)


def _run_after_commit(conn: Connection, committed: bool) -> None:
    for fn in conn.info.pop(_AFTER_COMMIT, ()):
        if committed:
            fn()


def engine_url(uri: str) -> str:
    """`postgresql://` means psycopg 3; anything SQLAlchemy knows passes through."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


class Database:
    def __init__(self, uri: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.uri = uri
        url = engine_url(uri)
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        # A statement here never waits on a network or an fsync (SQLite, WAL, no FULL sync).
        self.answers_at_once = self.dialect == "sqlite" and sqlite_synchronous.upper() in (
            "OFF",
            "NORMAL",
        )
        if self.dialect == "sqlite":
            self.engine: Engine = create_engine(
                url,
                poolclass=NullPool if ":memory:" in url else None,
                connect_args={"check_same_thread": False, "isolation_level": None},
            )
            _configure_sqlite(self.engine, sqlite_synchronous)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=False)
        self._queue: queue.SimpleQueue[tuple[Callable[[Connection], Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._leader = threading.Lock()
        self._write_conn: Connection | None = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            if conn.in_transaction():
                conn.rollback()

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Runs `fn` in a transaction and returns its result once that is committed.

        The first writer to take the leader lock commits every write queued by then in one
        transaction; the others find their result ready when they get the lock. Without
        contention a write costs no thread hand-off at all."""
        future: Future[T] = Future()
        self._queue.put((fn, future))
        with self._leader:
            if not future.done():
                self._commit_pending()
        return future.result()

    def _commit_pending(self) -> None:
        group: list[tuple[Callable[[Connection], Any], Future[Any]]] = []
        while len(group) < _MAX_GROUP:
            try:
                group.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if self._write_conn is None:
            self._write_conn = self.engine.connect().execution_options(heron_write=True)
        conn = self._write_conn
        committed = False
        try:
            if len(group) == 1:
                committed = self._commit_one(conn, *group[0])
            else:
                committed = self._commit_group(conn, group)
        except Exception as exc:  # the connection itself failed: fail the rest, reconnect
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            conn.invalidate()
            self._write_conn = None
        finally:
            _run_after_commit(conn, committed)

    @staticmethod
    def _commit_one(conn: Connection, fn: Callable[[Connection], Any], future: Future[Any]) -> bool:
        try:
            with conn.begin():
                value = fn(conn)
        except HeronError as exc:
            future.set_exception(exc)
            return False
        future.set_result(value)
        return True

    @staticmethod
    def _commit_group(
        conn: Connection, group: list[tuple[Callable[[Connection], Any], Future[Any]]]
    ) -> bool:
        results: list[tuple[Future[Any], Any, Exception | None]] = []
        with conn.begin():
            for fn, future in group:
                savepoint = conn.begin_nested()
                try:
                    value = fn(conn)
                except Exception as exc:  # a rule's error or the database's: this write's only
                    savepoint.rollback()  # (if the connection itself is gone, this raises)
                    results.append((future, None, exc))
                else:
                    savepoint.commit()
                    results.append((future, value, None))
        for future, value, error in results:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
        return True

    def dispose(self) -> None:
        with self._leader:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
        self.engine.dispose()


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"sqlite synchronous must be NORMAL or FULL, got {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages per connection
        # the first 2 GiB of the file read through the OS page cache without a copy (SQLite's
        # own limit; address space only): a tag filter over 1M traces took 36 % less CPU
        cur.execute("PRAGMA mmap_size=2147418112")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # pysqlite's own transaction handling is off (isolation_level=None): begin here,
        # on the driver itself (SQLAlchemy's execute path would cost more than the BEGIN).
        # A write takes the write lock at once (IMMEDIATE): a deferred one that read first
        # could not upgrade when another process had written meanwhile, and SQLite answers
        # that with "database is locked" at once instead of waiting out busy_timeout.
        write = conn.get_execution_options().get("heron_write", False)
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, in the connection's dialect (SQLite or PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# -- the hot path: Core statements compiled once, run on the DB-API cursor ---------------------
#
# SQLAlchemy's execution machinery costs about 100 us a statement, more than SQLite needs to
# run one. The statements that every request runs are still written in Core (so SQL stays in
# one dialect-aware form), but compiled once per dialect and executed on the raw cursor.


@dataclass(frozen=True, slots=True)
class _Compiled:
    compiler: SQLCompiler
    expanding: bool
    positional: bool
    defaults: Mapping[str, Any]  # parameters the dialect added itself (SQLite's OFFSET 0)
    row_values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's values, in order

    def sql_and_params(self, params: Mapping[str, Any]) -> tuple[str, Any]:
        if self.defaults:
            params = {**self.defaults, **params}
        if self.expanding:
            state = self.compiler.construct_expanded_state(params)
            if self.positional:
                return state.statement, tuple(state.parameters[n] for n in state.positiontup or ())
            return state.statement, state.parameters
        if self.positional:
            return self.compiler.string, tuple(params[n] for n in self.compiler.positiontup or ())
        return self.compiler.string, params


_compiled_cache: dict[tuple[int, int], tuple[ClauseElement, _Compiled]] = {}


def _compiled(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (id(statement), id(dialect))
    hit = _compiled_cache.get(key)
    if hit is not None and hit[0] is statement:
        return hit[1]
    compiler = statement.compile(dialect=dialect)
    assert isinstance(compiler, SQLCompiler)  # noqa: S101 - Core statements compile to SQL
    compiled = _Compiled(
        compiler=compiler,
        expanding=any(b.expanding for b in compiler.binds.values()),
        positional=dialect.paramstyle in ("qmark", "numeric", "format"),
        defaults={
            name: bind.value
            for name, bind in compiler.binds.items()
            if bind.value is not None and not bind.expanding
        },
        row_values=_values_getter(tuple(compiler.positiontup or ())),
    )
    _compiled_cache[key] = (statement, compiled)
    return compiled


def _values_getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if not names:  # a dialect with named parameters (psycopg) takes the mapping itself
        return lambda row: ()
    if len(names) == 1:
        (name,) = names
        return lambda row: (row[name],)
    return operator.itemgetter(*names)  # C speed, a tuple out


def plain_rows(conn: Connection, statement: Executable) -> list[Any]:
    """Every row of a statement built for one search, as the driver's plain tuples (read by
    position; Row objects for a page of thousands cost more than the query)."""
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def fetch(conn: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> list[Any]:
    """All rows of `statement`, as plain tuples, straight from the DB-API cursor."""
    sql, bound = _compiled(statement, conn.dialect).sql_and_params(params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def run(conn: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> int:
    """Runs `statement` once; returns the number of rows it changed."""
    sql, bound = _compiled(statement, conn.dialect).sql_and_params(params)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, bound)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def insert_rows(conn: Connection, statement: Insert, rows: Sequence[tuple[Any, ...]]) -> None:
    """Runs an INSERT of whole rows once per row (executemany), each row a tuple in its
    table's column order: the batched metric path, with no mapping built per row."""
    if not rows:
        return
    compiled = _compiled(statement, conn.dialect)
    names = tuple(statement.table.c.keys())
    if compiled.positional:
        if tuple(compiled.compiler.positiontup or ()) != names:
            raise ValueError(f"insert_rows needs an INSERT of every column of {names}")
        bound: Sequence[Any] = rows
    else:
        bound = [dict(zip(names, row, strict=True)) for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(compiled.compiler.string, bound)
    finally:
        cursor.close()


def run_many(conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Runs `statement` once per row (executemany): the batched insert path."""
    if not rows:
        return
    compiled = _compiled(statement, conn.dialect)
    sql = compiled.compiler.string
    if compiled.positional:
        bound: list[Any] = list(map(compiled.row_values, rows))
    else:
        bound = list(rows)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, bound)
    finally:
        cursor.close()

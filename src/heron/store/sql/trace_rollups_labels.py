"""The labels the overview's rollups are kept by: a trace's tags (but the two naming where its
data lives) and its user, each spelled as the search grammar spells the field (`tag.team`,
`metadata.mlflow.trace.user`). A rollup build puts the labels of the traces it reads in a
temporary table; a label with more than LABEL_VALUES values among an hour's traces, or one
longer than LABEL_LENGTH, is left out of that hour (a cut: the overview reads the hour raw
for it), which keeps an id-like tag from making a row of each trace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    union_all,
)

from heron.entities import reserved
from heron.store.sql.tables import trace_metadata, trace_tags

LABEL_VALUES = 50  # an hour's rows keep a label of at most this many values
LABEL_LENGTH = 250  # each at most this long (an index holds it)
EVERY_TRACE = ""  # the label_key of the rows that count every trace
_UNLABELED = (reserved.TRACE_ARTIFACT_LOCATION, reserved.TRACE_SPANS_LOCATION)
_METADATA = (reserved.TRACE_USER,)
# The label of each trace a build reads, with the hour it started in.
_LABELS = Table(
    "heron_rollup_labels",
    MetaData(),
    Column("trace_id", String(50), primary_key=True),
    Column("label_key", Text, primary_key=True),
    Column("hour_ms", BigInteger),
    Column("label_value", Text),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)


def label_of(field: str, key: str) -> str | None:
    """The label_key of a filter clause on `field` and `key`, None if the rollups keep none."""
    if field == "tag" and key not in _UNLABELED:
        return f"tag.{key}"
    if field == "metadata" and key in _METADATA:
        return f"metadata.{key}"
    return None


@contextmanager
def trace_labels(
    conn: Connection, hours: Sequence[int], keys: Table
) -> Iterator[tuple[Table, set[tuple[int, str]]]]:
    """The labels of the traces in `keys` (the build's) in a temporary table, and the (hour,
    label_key) cuts of the hours built, whose rows the table no longer holds. Dropped after
    use (on an error, the write's rollback drops it)."""
    g, m, k = trace_tags.c, trace_metadata.c, keys.c
    tags = (
        select(k.trace_id, literal_column("'tag.'").concat(g.key), k.hour_ms, g.value)
        .join_from(keys, trace_tags, g.trace_id == k.trace_id)
        .where(g.key.not_in(_UNLABELED))
    )
    users = (
        select(k.trace_id, literal_column("'metadata.'").concat(m.key), k.hour_ms, m.value)
        .join_from(keys, trace_metadata, m.trace_id == k.trace_id)
        .where(m.key.in_(_METADATA))
    )
    _LABELS.create(conn)
    names = ["trace_id", "label_key", "hour_ms", "label_value"]
    conn.execute(insert(_LABELS).from_select(names, union_all(tags, users)))
    c = _LABELS.c
    many = (
        select(c.hour_ms, c.label_key)
        .where(c.hour_ms.in_(hours))
        .group_by(c.hour_ms, c.label_key)
        .having(
            or_(
                func.count(c.label_value.distinct()) > LABEL_VALUES,
                func.max(func.length(c.label_value)) > LABEL_LENGTH,
            )
        )
    )
    cuts = {(int(hour), key) for hour, key in conn.execute(many)}
    by_key: dict[str, list[int]] = {}
    for hour, key in cuts:
        by_key.setdefault(key, []).append(hour)
    for key, cut in by_key.items():
        conn.execute(delete(_LABELS).where(c.label_key == key, c.hour_ms.in_(cut)))
    if conn.dialect.name == "postgresql":  # a temporary table has no statistics until then
        conn.execute(text(f"ANALYZE {_LABELS.name}"))
    yield _LABELS, cuts
    _LABELS.drop(conn)

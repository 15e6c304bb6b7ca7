"""An experiment's sessions (traces sharing `mlflow.trace.session`), the latest activity first,
read from ix_traces_session and paged by keyset tokens (the last activity and the session id)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select

from heron.entities import Page, reserved
from heron.entities.trace_analytics import SessionSummary
from heron.errors import InvalidParameter
from heron.store.crypto.fields import Sealer
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.search_sql import bindable
from heron.store.sql.tables import trace_metadata, traces
from heron.store.sql.trace_analytics_sql import errors_of
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import SessionQuery

_MAX_TOKEN_CHARS = 2000


def sessions(conn: Connection, query: SessionQuery, sealer: Sealer) -> Page[SessionSummary]:
    window = query.window
    t = traces.c
    last = func.max(t.request_time)
    statement = (
        select(
            t.session_id,
            func.count(),
            func.min(t.request_time),
            last,
            errors_of(t.state),
            func.coalesce(func.sum(t.total_tokens), 0),
            func.coalesce(func.sum(t.execution_duration), 0),
        )
        .where(
            t.experiment_id == int(window.experiment_id),
            t.session_id.is_not(None),
            t.request_time >= window.start_ms,
            t.request_time < window.end_ms,
            *(condition(c) for c in window.filter),
        )
        .group_by(t.session_id)
        .order_by(last.desc(), t.session_id)
        .limit(query.max_results + 1)
    )
    fingerprint = _fingerprint(query)
    if query.page_token:
        after_last, after_id = _decode(query.page_token, fingerprint)
        statement = statement.having(
            or_(last < after_last, and_(last == after_last, t.session_id > after_id))
        )
    rows = conn.execute(statement).all()
    page = rows[: query.max_results]
    firsts = _first_turns(conn, int(window.experiment_id), [row[0] for row in page], sealer)
    found = [
        SessionSummary(
            session_id=sid, turns=turns, first_ms=first, last_ms=latest, errors=int(errors),
            total_tokens=int(tokens), duration_ms=int(duration), **firsts.get(sid, {}),
        )
        for sid, turns, first, latest, errors, tokens, duration in page
    ]  # fmt: skip
    token = None
    if len(rows) > query.max_results:
        token = _encode(fingerprint, page[-1][3], page[-1][0])
    return Page(found, token)


def _first_turns(
    conn: Connection, experiment_id: int, session_ids: Sequence[str], sealer: Sealer
) -> dict[str, dict[str, Any]]:
    """Each session's first request preview and user (its first trace's)."""
    if not session_ids:
        return {}
    t = traces.c
    rows = conn.execute(
        select(t.session_id, t.trace_id, t.request_preview)
        .where(t.experiment_id == experiment_id, in_bound_list(t.session_id))
        .order_by(t.session_id, t.request_time.desc(), t.trace_id.desc()),
        {"ids": bound_list(session_ids)},
    ).all()
    firsts = {sid: (trace_id, preview) for sid, trace_id, preview in rows}  # the last one wins
    m = trace_metadata.c
    users = dict(
        conn.execute(
            select(m.trace_id, m.value).where(
                in_bound_list(m.trace_id), m.key == reserved.TRACE_USER
            ),
            {"ids": bound_list(trace_id for trace_id, _ in firsts.values())},
        ).all()
    )
    return {
        sid: {
            "first_request": sealer.open_optional(
                preview, f"The request preview of trace {trace_id!r}"
            ),
            "user": users.get(trace_id),
        }
        for sid, (trace_id, preview) in firsts.items()
    }


def _fingerprint(query: SessionQuery) -> str:
    w = query.window
    text = repr((w.experiment_id, w.start_ms, w.end_ms, tuple(w.filter)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(fingerprint: str, last_ms: int, session_id: str) -> str:
    payload = orjson.dumps({"q": fingerprint, "last": last_ms, "id": session_id})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode(token: str, fingerprint: str) -> tuple[int, str]:
    bad = InvalidParameter(
        "Invalid page_token: it is corrupted or was not issued for these sessions; list them "
        "again without page_token and page with the tokens it returns"
    )
    if len(token) > _MAX_TOKEN_CHARS:
        raise bad
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise bad from None
    if not isinstance(payload, dict) or payload.get("q") != fingerprint:
        raise bad
    last, session_id = payload.get("last"), payload.get("id")
    if type(last) is not int or type(session_id) is not str or not bindable(session_id):
        raise bad
    if not bindable(last):
        raise bad
    return last, session_id

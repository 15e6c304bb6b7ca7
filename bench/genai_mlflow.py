"""The same synthetic agent traffic (bench/genai_data.py) written into MLflow 3.17's own SQLite
tables, for its UI's overview beside Heron's. MLflow's REST API would take days for a million
traces, so the rows go in with bulk inserts after its server has created the schema (and the
experiment, through its API): trace_info with the analytics columns MLflow 3.17 reads (session,
tokens, cost), its metadata and tags, spans (with MLflow's JSON content), assessments (with
their experiment, trace time and value as a number). Column lists are read from the schema
MLflow created. Nothing here imports mlflow."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from artifacts import start_mlflow, stop_group
from genai_data import Turn, traffic

DAY = 86_400_000
# MLflow 3.17's overview: three tabs, each drawn from POSTs to /ajax-api/3.0/mlflow/traces/metrics
# (its default window is the last 7 days, by day). A view is done when those requests have all
# been answered and no new one started for two seconds; its time is the last answer's end.
VIEWS = {"usage": "usage", "quality": "quality", "tool calls": "tool-calls"}
DONE = """() => {
  const metrics = performance.getEntriesByType("resource").filter(
    (e) => e.name.includes("/traces/metrics"));
  const last = Math.max(0, ...metrics.map((e) => e.responseEnd));
  const w = window.__bench = window.__bench || {count: -1, since: performance.now()};
  if (metrics.length !== w.count) { w.count = metrics.length; w.since = performance.now(); }
  const quiet = performance.now() - w.since > 2000;
  return metrics.length > 0 && quiet ? {last, requests: w.count} : null;
}"""


def fill_and_measure_mlflow(
    directory: Path, facts: dict[str, Any], browser: Any, repeats: int, timeout_s: float
) -> dict[str, Any]:
    """MLflow's server on the same traffic as Heron's (`facts` say which), its overview's
    three tabs timed in Chromium; a tab not done within `timeout_s` is reported as such.
    Fills DIR/mlflow/mlflow.db the first time (noting it in `facts`)."""
    home = directory / "mlflow"
    if "mlflow_experiment_id" not in facts:
        shutil.rmtree(home, ignore_errors=True)  # what an interrupted fill left
    os.environ.setdefault("START_TIMEOUT", "900")  # its start takes minutes on a busy machine
    url, pgid = start_mlflow(home)
    try:
        if "mlflow_experiment_id" not in facts:
            _fill(home, url, facts)
        experiment_id = facts["mlflow_experiment_id"]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VIEWS}
        for _ in range(repeats):
            for name, tab in VIEWS.items():
                runs[name].append(
                    _view(browser, f"{url}/#/experiments/{experiment_id}/overview/{tab}", timeout_s)
                )
        return {name: _median(found) for name, found in runs.items()}
    finally:
        stop_group(pgid)


def _fill(home: Path, url: str, facts: dict[str, Any]) -> None:
    import httpx

    answer = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create", json={"name": "genai-bench"}, timeout=60
    )
    answer.raise_for_status()
    experiment_id = answer.json()["experiment_id"]
    db = sqlite3.connect(home / "mlflow.db", timeout=60)
    try:
        began = time.perf_counter()
        now, days = facts["filled_at_ms"], facts["days"]
        turns = traffic(facts["traces"], now - days * DAY, now, versions=tuple(facts["versions"]))
        fill_mlflow(db, int(experiment_id), turns)
        facts["mlflow_fill_s"] = time.perf_counter() - began
        facts["mlflow_experiment_id"] = experiment_id
    finally:
        db.close()


def _view(browser: Any, url: str, timeout_s: float) -> dict[str, Any]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        try:
            page.goto(url, timeout=timeout_s * 1000, wait_until="commit")
            done = page.wait_for_function(DONE, timeout=timeout_s * 1000, polling=100)
        except PlaywrightTimeout:
            return {"data_answered": None, "timed_out_s": timeout_s}
        found = dict(done.json_value())
        paint = page.evaluate(
            "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
        )
        return {"first_paint": paint, "data_answered": found["last"], "requests": found["requests"]}
    finally:
        context.close()


def _median(found: list[dict[str, Any]]) -> dict[str, Any]:
    keys = {k for r in found for k in r}
    return {
        k: statistics.median(v) if (v := [r[k] for r in found if r.get(k) is not None]) else None
        for k in sorted(keys)
    }


_TOOL = "TOOL"


def fill_mlflow(db: sqlite3.Connection, experiment_id: int, turns: Iterator[Turn]) -> int:
    """Inserts the turns as MLflow stores traces; returns how many."""
    done = 0
    batch: list[Turn] = []
    for turn in turns:
        batch.append(turn)
        if len(batch) == 10_000:
            done += _write(db, experiment_id, batch)
            batch = []
    if batch:
        done += _write(db, experiment_id, batch)
    return done


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    known = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    missing = [c for c in columns if c not in known]
    if missing:
        raise SystemExit(f"MLflow's {table} has no column {missing}: its schema changed")
    marks = ", ".join("?" for _ in columns)
    db.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - ours
        [tuple(row[c] for c in columns) for row in rows],
    )


def _write(db: sqlite3.Connection, experiment_id: int, turns: list[Turn]) -> int:
    _insert(db, "trace_info", [_info(t, experiment_id) for t in turns])
    _insert(db, "trace_request_metadata", [
        {"request_id": t.trace_id, "key": key, "value": value}
        for t in turns
        for key, value in (("mlflow.trace.session", t.session), ("mlflow.trace.user", t.user),
                           ("mlflow.modelId", t.version), ("mlflow.source.type", t.environment))
    ])  # fmt: skip
    _insert(db, "trace_tags", [
        {"request_id": t.trace_id, "key": key, "value": value}
        for t in turns
        for key, value in (("mlflow.traceName", "agent"),
                           ("mlflow.trace.spansLocation", "TRACKING_STORE"), ("team", "search"))
    ])  # fmt: skip
    _insert(db, "spans", [row for t in turns for row in _spans(t, experiment_id)])
    _insert(db, "assessments", [row for t in turns for row in _assessments(t, experiment_id)])
    db.commit()
    return len(turns)


def _info(t: Turn, experiment_id: int) -> dict[str, Any]:
    return {
        "request_id": t.trace_id, "experiment_id": experiment_id, "timestamp_ms": t.start_ms,
        "execution_time_ms": t.duration_ms, "status": "ERROR" if t.error else "OK",
        "request_preview": json.dumps({"question": f"question of {t.session}"}),
        "response_preview": '"an answer"', "trace_name": "agent", "session_id": t.session,
        "input_tokens": t.input_tokens, "output_tokens": t.output_tokens,
        "total_tokens": t.input_tokens + t.output_tokens, "input_cost": 0.0,
        "output_cost": t.cost, "total_cost": t.cost,
    }  # fmt: skip


def _span(t: Turn, experiment_id: int, **fields: Any) -> dict[str, Any]:
    fields = {"input_cost": None, "output_cost": None, "total_cost": None, "model_name": None,
              "model_provider": None, **fields}  # fmt: skip
    content = {
        "trace_id": t.trace_id, "span_id": fields["span_id"],
        "parent_span_id": fields["parent_span_id"], "name": fields["name"],
        "start_time_unix_nano": fields["start_time_unix_nano"],
        "end_time_unix_nano": fields["end_time_unix_nano"],
        "status": {"code": "STATUS_CODE_" + fields["status"], "message": ""},
        "attributes": {"mlflow.spanType": json.dumps(fields["type"])}, "events": [],
    }  # fmt: skip
    return {"trace_id": t.trace_id, "experiment_id": experiment_id, **fields,
            "content": json.dumps(content)}  # fmt: skip


def _spans(t: Turn, experiment_id: int) -> list[dict[str, Any]]:
    start = t.start_ms * 1_000_000
    base = int(t.trace_id[3:19], 16)
    ids = [f"{(base + j) % 2**64:016x}" for j in range(2 + len(t.tools))]
    rows = [
        _span(t, experiment_id, span_id=ids[0], parent_span_id=None, name="agent", type="AGENT",
              status="ERROR" if t.error else "OK", start_time_unix_nano=start,
              end_time_unix_nano=start + t.duration_ms * 1_000_000),
        _span(t, experiment_id, span_id=ids[1], parent_span_id=ids[0], name="chat",
              type="CHAT_MODEL", status="OK", start_time_unix_nano=start + 1_000_000,
              end_time_unix_nano=start + (t.duration_ms - 1) * 1_000_000, input_cost=0.0,
              output_cost=t.cost, total_cost=t.cost, model_name="gpt-4o-mini",
              model_provider="openai"),
    ]  # fmt: skip
    for tool, span_id in zip(t.tools, ids[2:], strict=True):
        tool_start = start + tool.offset_ms * 1_000_000
        rows.append(
            _span(t, experiment_id, span_id=span_id, parent_span_id=ids[0], name=tool.name,
                  type=_TOOL, status="ERROR" if tool.error else "OK",
                  start_time_unix_nano=tool_start,
                  end_time_unix_nano=tool_start + tool.duration_us * 1000)
        )  # fmt: skip
    return rows


def _assessments(t: Turn, experiment_id: int) -> list[dict[str, Any]]:
    found: list[tuple[str, Any, str, float | None, bool]] = []
    if t.feedback is not None:
        found.append(("user_feedback", t.feedback, "HUMAN", float(t.feedback), False))
    if t.relevance is not None:
        found.append(("relevance", t.relevance, "LLM_JUDGE", float(t.relevance), True))
    if t.safe is not None:
        found.append(("safety", t.safe, "LLM_JUDGE", float(t.safe == "yes"), False))
    at = t.start_ms + t.duration_ms
    return [
        {"assessment_id": f"a-{t.trace_id[3:]}{name[:2]}", "trace_id": t.trace_id, "name": name,
         "assessment_type": "feedback", "value": json.dumps(value), "error": None,
         "created_timestamp": at, "last_updated_timestamp": at, "experiment_id": experiment_id,
         "trace_timestamp_ms": t.start_ms, "aggregate_value": score,
         "is_numeric_value": numeric, "source_type": source, "source_id": "bench",
         "run_id": None, "span_id": None, "rationale": None, "overrides": None, "valid": True}
        for name, value, source, score, numeric in found
    ]  # fmt: skip

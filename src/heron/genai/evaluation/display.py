"""What an evaluation shows on the terminal: a progress bar while rows run (rich), and a
summary table of the scores at the end."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from heron.genai.evaluation.results import EvaluationResult


class Advance(Protocol):
    def __call__(self) -> None: ...


@contextlib.contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Advance]:
    """Yields a function to call once per finished row; draws nothing when disabled or when
    stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda: None
        return
    bar = Progress(
        TextColumn("Evaluating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task("rows", total=total)
        yield lambda: bar.advance(task)


def summary_table(result: EvaluationResult) -> Table:
    errors = result.errors()
    table = Table(title=f"Evaluation run {result.run_id}: {len(result.rows)} rows in "
                  f"{result.duration_s:.1f} s")  # fmt: skip
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("scorer errors", justify="right")
    for name in sorted(result.metrics):
        table.add_row(name, f"{result.metrics[name]:.4g}", str(errors.get(name.split("/")[0], 0)))
    for name in sorted(set(errors) - {m.split("/")[0] for m in result.metrics}):
        table.add_row(name, "-", str(errors[name]))
    cache = result.cache
    if cache.hits or cache.misses:
        table.caption = (
            f"judge cache: {cache.hits} hit(s) of {cache.hits + cache.misses}, "
            f"${cache.saved_usd:.4f} and {cache.saved_tokens} tokens saved"
        )
    return table


def show_summary(result: EvaluationResult, enabled: bool) -> None:
    if not enabled:
        return
    console = Console(stderr=True)
    console.print(summary_table(result))
    if result.written.failures:
        console.print(
            f"[yellow]{result.written.failures} write(s) failed[/yellow]: "
            + "; ".join(result.written.errors[:3])
        )

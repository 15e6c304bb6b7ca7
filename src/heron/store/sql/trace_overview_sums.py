"""The overview's figures added up bucket by bucket from whatever rows were read (raw index
ranges, hourly rollups, a few traces, a slice of the window), merged across the reads that
ran at once, and turned into the charts' series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from heron.entities.trace_analytics import Score, ScorePoint, Tool, ToolPoint, TraceBucket
from heron.store.sql.trace_analytics_sql import Frequencies


def _merge_frequencies(into: Frequencies, other: Frequencies) -> None:
    into.add(list(other.counts), list(other.counts.values()))


class TraceSums:
    """Each bucket's trace count, errors, tokens and cost, and its durations' frequencies."""

    def __init__(self, count: int) -> None:
        self.sums: list[list[Any]] = [[0, 0, 0, 0, 0, 0.0] for _ in range(count)]
        self.tables = [Frequencies() for _ in range(count)]

    def add(
        self, i: int, figures: Sequence[Any], values: Sequence[Any], counts: Sequence[Any]
    ) -> None:
        """figures: traces, errors, input, output and total tokens, cost."""
        total = self.sums[i]
        for k, value in enumerate(figures):
            total[k] += value or 0
        self.tables[i].add(values, counts)

    def merge(self, other: TraceSums) -> None:
        for i, figures in enumerate(other.sums):
            self.add(i, figures, (), ())
            _merge_frequencies(self.tables[i], other.tables[i])

    def result(self, buckets: Sequence[tuple[int, int]]) -> tuple[list[TraceBucket], TraceBucket]:
        """Each bucket's figures, and the window's: its counts added up, its percentiles read
        from the buckets' frequency tables added up."""
        filled = [
            _bucket(bounds, figures, table)
            for bounds, figures, table in zip(buckets, self.sums, self.tables, strict=True)
        ]
        durations = Frequencies()
        for table in self.tables:
            _merge_frequencies(durations, table)
        totals = TraceBucket(
            start_ms=0,
            end_ms=0,
            traces=sum(b.traces for b in filled),
            errors=sum(b.errors for b in filled),
            latency=durations.latency(),
            input_tokens=sum(b.input_tokens for b in filled),
            output_tokens=sum(b.output_tokens for b in filled),
            total_tokens=sum(b.total_tokens for b in filled),
            cost=sum(b.cost for b in filled),
        )
        return filled, totals


def _bucket(bounds: tuple[int, int], figures: Sequence[Any], table: Frequencies) -> TraceBucket:
    count, errors, input_tokens, output_tokens, total_tokens, cost = figures
    return TraceBucket(
        start_ms=bounds[0],
        end_ms=bounds[1],
        traces=int(count),
        errors=int(errors),
        latency=table.latency(),
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        total_tokens=int(total_tokens),
        cost=float(cost),
    )


class ScoreSums:
    """Each feedback name's valid values by bucket: how many read as numbers, and their sum."""

    def __init__(self) -> None:
        self.sums: dict[str, dict[int, list[float]]] = defaultdict(dict)

    def add(self, name: str, i: int, count: float, total: float | None) -> None:
        point = self.sums[name].setdefault(i, [0, 0.0])
        point[0] += count
        point[1] += total or 0.0

    def merge(self, other: ScoreSums) -> None:
        for name, by_bucket in other.sums.items():
            for i, (count, total) in by_bucket.items():
                self.add(name, i, count, total)

    def result(self, buckets: Sequence[tuple[int, int]]) -> list[Score]:
        found = []
        for name in sorted(self.sums):
            by_bucket = self.sums[name]
            series = [
                ScorePoint(start_ms=buckets[i][0], end_ms=buckets[i][1], count=int(n),
                           mean=None if not n else float(total) / n)
                for i, (n, total) in sorted(by_bucket.items())
            ]  # fmt: skip
            count = sum(p.count for p in series)
            total = sum(t for n, t in by_bucket.values() if n)
            found.append(
                Score(name=name, count=count, mean=total / count if count else None,
                      points=series)
            )  # fmt: skip
        return found


class ToolSums:
    """Each tool's calls and errors by bucket, and the frequencies of its latency (whole ms)."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self.latency: dict[str, Frequencies] = defaultdict(Frequencies)

    def add(
        self,
        name: str,
        i: int,
        count: int,
        failed: int,
        values: Sequence[Any] = (),
        counts: Sequence[Any] = (),
    ) -> None:
        point = self.calls[name].setdefault(i, [0, 0])
        point[0] += count
        point[1] += failed
        if values:
            self.latency[name].add(values, counts)

    def merge(self, other: ToolSums) -> None:
        for name, by_bucket in other.calls.items():
            for i, (count, failed) in by_bucket.items():
                self.add(name, i, count, failed)
        for name, table in other.latency.items():
            _merge_frequencies(self.latency[name], table)

    def result(self, buckets: Sequence[tuple[int, int]]) -> list[Tool]:
        """The tools, the most called first."""
        tools = []
        for name, by_bucket in self.calls.items():
            points = [
                ToolPoint(start_ms=buckets[i][0], end_ms=buckets[i][1], calls=n, errors=e)
                for i, (n, e) in sorted(by_bucket.items())
            ]
            tools.append(
                Tool(name=name, calls=sum(p.calls for p in points),
                     errors=sum(p.errors for p in points), latency=self.latency[name].latency(),
                     points=points)
            )  # fmt: skip
        return sorted(tools, key=lambda t: (-t.calls, t.name))

"""Scorer: what turns one row (inputs, outputs, expectations, trace) into feedback, and
`@scorer`, which makes one of a plain function."""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from heron.entities.assessment import AssessmentSource
from heron.entities.trace import Trace
from heron.errors import InvalidParameter
from heron.genai.feedback import Feedback, code_source, error_feedback, feedbacks_of

ROW_FIELDS = ("inputs", "outputs", "expectations", "trace")
AGGREGATIONS = ("min", "max", "mean", "median", "variance", "p90")

Aggregation = str | Callable[[list[float]], float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """What a scorer sees of one evaluated row. `session` holds the traces of a conversation
    (oldest first) for the scorers that judge whole sessions."""

    inputs: Any = None
    outputs: Any = None
    expectations: Mapping[str, Any] = field(default_factory=dict)
    trace: Trace | None = None
    session: Sequence[Trace] = ()


class Scorer:
    """Base of every scorer. A subclass sets `name` and implements `score`; calling a scorer
    (`Correctness()(inputs=..., outputs=...)`) scores one row directly.

    `aggregations` name what the run's metrics hold for it (`<name>/mean` by default):
    any of min, max, mean, median, variance, p90, or a function of the list of values."""

    kind: ClassVar[str] = "code"  # "code", "builtin" or "judge": how it is stored and run
    session_level: ClassVar[bool] = False  # judges a whole conversation, not one turn

    def __init__(self, name: str, aggregations: Sequence[Aggregation] | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("A scorer needs a non-empty name")
        self.name = name
        self.aggregations: tuple[Aggregation, ...] = _aggregations(aggregations)

    def score(self, row: Row) -> Any:
        """The scorer's verdict on the row: a value, a Feedback, or a list of them."""
        raise NotImplementedError

    def source(self) -> AssessmentSource:
        return code_source(self.name)

    def digest(self) -> str:
        """A digest of the scorer's definition: equal digests judge alike (the judge cache
        and the assessments' `mlflow.assessment.scorerDigest` use it)."""
        settings = sorted(
            (k, v if isinstance(v, str | int | float | bool | tuple | None) else repr(v))
            for k, v in vars(self).items()
            if not callable(v) and not k.startswith("_")
        )
        return hashlib.sha256(repr((type(self).__qualname__, settings)).encode()).hexdigest()

    def fingerprint(self) -> str:
        """`digest()`, computed once (a scorer is not changed once it has scored)."""
        memo: str | None = self.__dict__.get("_fingerprint")
        if memo is None:
            memo = self.__dict__["_fingerprint"] = self.digest()
        return memo

    def run(self, row: Row) -> list[Feedback]:
        """Scores the row; a failure becomes an error feedback, never an exception."""
        try:
            return feedbacks_of(self.score(row), self.name, self.source())
        except Exception as exc:
            return [error_feedback(self.name, self.source(), exc)]

    def __call__(
        self,
        *,
        inputs: Any = None,
        outputs: Any = None,
        expectations: Mapping[str, Any] | None = None,
        trace: Trace | None = None,
        session: Sequence[Trace] = (),
    ) -> Any:
        row = Row(
            inputs=inputs, outputs=outputs, expectations=dict(expectations or {}), trace=trace,
            session=tuple(session),
        )  # fmt: skip
        return self.score(row)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class FunctionScorer(Scorer):
    """A scorer made of a function that takes any of `inputs`, `outputs`, `expectations`,
    `trace` by name (the others are not passed)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        aggregations: Sequence[Aggregation] | None = None,
    ) -> None:
        super().__init__(name or str(getattr(fn, "__name__", "scorer")), aggregations)
        self.fn = fn
        self._wants = _wanted_fields(fn)

    def score(self, row: Row) -> Any:
        return self.fn(**{f: getattr(row, f) for f in self._wants})

    def digest(self) -> str:
        return hashlib.sha256(f"code\n{self.name}\n{function_source(self.fn)}".encode()).hexdigest()


def function_source(fn: Callable[..., Any]) -> str:
    """The function's source, dedented (or its qualified name when Python has no source)."""
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def _wanted_fields(fn: Callable[..., Any]) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ROW_FIELDS
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return ROW_FIELDS
    names = [p.name for p in parameters]
    unknown = [
        p.name
        for p in parameters
        if p.name not in ROW_FIELDS
        and p.default is inspect.Parameter.empty
        and p.kind is not inspect.Parameter.VAR_POSITIONAL
    ]
    if unknown:
        raise InvalidParameter(
            f"Scorer {getattr(fn, '__name__', fn)!r} takes {', '.join(unknown)}: a scorer's "
            f"parameters are named from {', '.join(ROW_FIELDS)}"
        )
    return tuple(n for n in names if n in ROW_FIELDS)


def _aggregations(given: Sequence[Aggregation] | None) -> tuple[Aggregation, ...]:
    if given is None:
        return ("mean",)
    for aggregation in given:
        if isinstance(aggregation, str) and aggregation not in AGGREGATIONS:
            raise InvalidParameter(
                f"Unknown aggregation {aggregation!r}: use one of {', '.join(AGGREGATIONS)} "
                "or a function of the list of values"
            )
        if not isinstance(aggregation, str) and not callable(aggregation):
            raise InvalidParameter(f"An aggregation is a name or a function, not {aggregation!r}")
    return tuple(given)


@overload
def scorer(func: Callable[..., Any]) -> FunctionScorer: ...


@overload
def scorer(
    func: None = None,
    *,
    name: str | None = None,
    aggregations: Sequence[Aggregation] | None = None,
) -> Callable[[Callable[..., Any]], FunctionScorer]: ...


def scorer(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    aggregations: Sequence[Aggregation] | None = None,
) -> Any:
    """Makes a scorer of a function that takes any of `inputs`, `outputs`, `expectations`
    and `trace` by name, and returns a bool, number, string, Feedback or list of Feedback.

    Example:
        >>> @heron.genai.scorer
        ... def exact(outputs, expectations) -> bool:
        ...     return outputs == expectations["expected_response"]
        >>> @heron.genai.scorer(name="short", aggregations=["mean", "min"])
        ... def short(outputs) -> bool:
        ...     return len(outputs) < 100
    """

    def make(fn: Callable[..., Any]) -> FunctionScorer:
        return FunctionScorer(fn, name=name, aggregations=aggregations)

    return make(func) if func is not None else make

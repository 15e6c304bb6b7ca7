"""`make_judge`: a judge of your own instructions, with `{{ inputs }}`, `{{ outputs }}`,
`{{ expectations }}`, `{{ trace }}` (or `{{ conversation }}`, for a judge of whole sessions)
filled in from each row."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal, get_args, get_origin

from heron.errors import InvalidParameter
from heron.genai.judges.base import Judge
from heron.genai.judges.material import conversation, render_trace
from heron.genai.judges.verdict import ValueType
from heron.genai.scoring import Row
from heron.genai.text import inputs_of, outputs_of, to_json

VARIABLES = ("inputs", "outputs", "expectations", "trace", "conversation")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class InstructionsJudge(Judge):
    """A judge made by `make_judge`."""

    session_level: ClassVar[bool] = False

    def __init__(
        self, name: str, instructions: str, *, description: str | None = None, **kw: Any
    ) -> None:
        super().__init__(name, **kw)
        self.instructions = instructions
        self.description = description
        self.variables = sorted(_variables(instructions))
        self.session_level = "conversation" in self.variables  # type: ignore[misc]

    def prompt(self, row: Row) -> str:
        def fill(match: re.Match[str]) -> str:
            return self._value(match.group(1), row)

        return _VARIABLE.sub(fill, self.instructions)

    def _value(self, variable: str, row: Row) -> str:
        if variable == "inputs":
            return to_json(inputs_of(row.inputs, row.trace))
        if variable == "outputs":
            outputs = outputs_of(row.outputs, row.trace)
            return outputs if isinstance(outputs, str) else to_json(outputs)
        if variable == "expectations":
            return to_json(dict(row.expectations))
        if variable == "trace":
            return render_trace(row.trace)
        if not row.session:
            raise InvalidParameter(
                f"Judge {self.name!r} reads {{{{ conversation }}}}: its rows need traces with a "
                "session id"
            )
        return conversation(row.session)


def _variables(instructions: str) -> set[str]:
    if not isinstance(instructions, str) or not instructions.strip():
        raise InvalidParameter("make_judge needs instructions")
    found = set(_VARIABLE.findall(instructions))
    unknown = sorted(found - set(VARIABLES))
    if unknown:
        raise InvalidParameter(
            f"Unknown template variable(s) {', '.join(unknown)}: use "
            + ", ".join(f"{{{{ {v} }}}}" for v in VARIABLES)
        )
    if not found:
        raise InvalidParameter(
            "The instructions use no template variable: include at least one of "
            + ", ".join(f"{{{{ {v} }}}}" for v in VARIABLES)
        )
    if "conversation" in found and found & {"inputs", "outputs", "trace"}:
        raise InvalidParameter(
            "{{ conversation }} judges a whole session: it goes with {{ expectations }} only"
        )
    return found


def value_type_of(feedback_value_type: Any) -> ValueType:
    """MLflow's feedback_value_type (bool, int, float, str, Literal[...]) as a ValueType;
    None asks for "yes" or "no"."""
    if feedback_value_type is None:
        return ValueType()
    if feedback_value_type is bool:
        return ValueType("bool")
    if feedback_value_type in (int, float):
        return ValueType("number")
    if feedback_value_type is str:
        return ValueType("text")
    if get_origin(feedback_value_type) is Literal:
        options = get_args(feedback_value_type)
        if options and all(isinstance(o, str) for o in options):
            if {o.lower() for o in options} == {"yes", "no"}:
                return ValueType()
            return ValueType("options", tuple(options))
        if options and all(isinstance(o, int | float) for o in options):
            return ValueType("number", low=min(options), high=max(options))
    raise InvalidParameter(
        f"Unsupported feedback_value_type {feedback_value_type!r}: use bool, int, float, str or "
        'a Literal of strings such as Literal["good", "bad"]'
    )


def make_judge(
    name: str,
    instructions: str,
    model: str | None = None,
    description: str | None = None,
    feedback_value_type: Any = None,
    inference_params: dict[str, Any] | None = None,
) -> InstructionsJudge:
    """A judge that asks the model your `instructions`, with each row's data in place of
    `{{ inputs }}`, `{{ outputs }}`, `{{ expectations }}`, `{{ trace }}`, or of
    `{{ conversation }}` for a judge of whole sessions.

    Args:
        name: the judge's name (its assessments' name, its metric `<name>/mean`).
        instructions: what to decide, with at least one template variable.
        model: the model to ask (`gpt-4o-mini` or `openai:/gpt-4o-mini`) at the configured
            endpoint; by default `$HERON_JUDGE_MODEL`.
        description: what the judge is for (kept with it when registered).
        feedback_value_type: what the verdict is: bool, int, float, str or a Literal of
            strings; by default "yes" or "no".
        inference_params: more request fields (temperature, max_tokens, ...).

    Raises:
        InvalidParameter: instructions without a known template variable.

    Example:
        >>> polite = heron.genai.make_judge(
        ...     "polite", "Is this answer polite? {{ outputs }}",
        ...     feedback_value_type=Literal["polite", "rude"])
    """
    return InstructionsJudge(
        name, instructions, model=model, description=description,
        value_type=value_type_of(feedback_value_type), inference_params=inference_params,
    )  # fmt: skip

"""What field encryption seals of a span's attributes and events: the values of sensitive keys
(the --sensitive-keys patterns) and of the keys that hold copies of a trace's inputs and
outputs, each stored as its JSON text sealed in place of the value; opened on read."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from heron.entities import reserved
from heron.entities.trace import Span
from heron.store.crypto.fields import PREFIX, Sealer
from heron.store.sql.sealed_values import opened_text

# Attribute keys sealed whatever the patterns: MLflow's span inputs and outputs (Heron lifts
# them out of the attributes, but a span may still carry them there) and the OpenTelemetry
# GenAI and OpenInference keys that hold an LLM call's messages (copies of the inputs and
# outputs). Matched whole, case and all.
ALWAYS_SEALED_ATTRIBUTES = (
    reserved.SPAN_INPUTS,
    reserved.SPAN_OUTPUTS,
    "mlflow.chat.messages",
    "gen_ai.prompt*",
    "gen_ai.completion*",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "input.value",
    "output.value",
    "llm.input_messages*",
    "llm.output_messages*",
)
_ALWAYS = re.compile("|".join(fnmatch.translate(p) for p in ALWAYS_SEALED_ATTRIBUTES))
# Positions in the rows of traces_rows.SPAN_COLUMNS.
_ATTRIBUTES, _EVENTS = 9, 10
# A sealed value in JSON text, after its key: `"key":"heron-enc:1:..."` (SQLite's and
# orjson's spelling) or `"key": "heron-enc:1:..."` (PostgreSQL's json text). Base64, key ids
# and colons hold no quote or backslash, so the match cannot run past the value.
_SEALED = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"(' + re.escape(PREFIX) + r'[^"\\]*)"')


def sealed_attribute_key(is_sensitive: Callable[[str], bool], key: str) -> bool:
    """Whether a span attribute (or span event attribute) of this key is stored sealed."""
    return _ALWAYS.match(key) is not None or is_sensitive(key)


def _seal_values(sealer: Sealer, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The attributes with the values of sealed keys sealed (their JSON text), or None when
    no key is sealed."""
    keys = [k for k in attributes if sealed_attribute_key(sealer.is_sensitive, k)]
    if not keys:
        return None
    sealed = dict(attributes)
    for key in keys:
        sealed[key] = sealer.seal(orjson.dumps(attributes[key]).decode())
    return sealed


def seal_span_content(sealer: Sealer, span: Span, row: dict[str, Any]) -> dict[str, Any]:
    """A span row (traces_rows.span_row) with its inputs and outputs sealed, and the values of
    its attributes and events' attributes whose keys are sealed."""
    if not sealer.on:
        return row
    row["inputs"] = sealer.seal_optional(row["inputs"])
    row["outputs"] = sealer.seal_optional(row["outputs"])
    attributes = _seal_values(sealer, span.attributes)
    if attributes is not None:
        row["attributes"] = orjson.dumps(attributes, option=orjson.OPT_NON_STR_KEYS).decode()
    events = [_seal_values(sealer, e.attributes) for e in span.events]
    if any(e is not None for e in events):
        row["events"] = orjson.dumps(
            [
                {
                    "name": e.name,
                    "time_unix_nano": e.time_unix_nano,
                    "attributes": e.attributes if sealed is None else sealed,
                }
                for e, sealed in zip(span.events, events, strict=True)
            ],
            option=orjson.OPT_NON_STR_KEYS,
        ).decode()
    return row


def opened_json_values(sealer: Sealer, text: str, what: str) -> str:
    """JSON text with every sealed value replaced by the JSON text it seals (the text itself
    when none is: one substring search); `what` names the owner in errors."""

    def opened(m: re.Match[str]) -> str:
        return f'"{m.group(1)}"{m.group(2)}' + sealer.open(
            m.group(3), f"The attribute {m.group(1)!r} of {what}"
        )

    return opened_text(sealer, text, lambda text: _SEALED.sub(opened, text))


def _opened_dict(sealer: Sealer, attributes: dict[str, Any], what: str) -> dict[str, Any]:
    """Decoded attributes (psycopg decodes a json column) with sealed values opened."""
    for key, value in attributes.items():
        if isinstance(value, str) and value.startswith(PREFIX):
            attributes[key] = orjson.loads(sealer.open(value, f"The attribute {key!r} of {what}"))
    return attributes


def opened_span_content(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of SPAN_COLUMNS with sealed values of its attributes and events opened (its inputs
    and outputs are opened by traces_sealed)."""
    attributes, events = row[_ATTRIBUTES], row[_EVENTS]
    what = f"a span of trace {row[0]!r}"
    if type(attributes) is dict:
        attributes = _opened_dict(sealer, attributes, what)
    elif attributes is not None and PREFIX in attributes:
        attributes = opened_json_values(sealer, attributes, what)
    if events is not None and PREFIX in events:
        events = opened_json_values(sealer, events, f"an event of {what}")
    if attributes is row[_ATTRIBUTES] and events is row[_EVENTS]:
        return row
    opened = list(row)
    opened[_ATTRIBUTES], opened[_EVENTS] = attributes, events
    return opened

"""MLflow's proto-JSON on the wire: reading request fields strictly, writing responses."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.errors import InvalidParameter
from heron.services.access import Policy
from heron.services.validation import holds_nul
from heron.web.routes import PolicyRoute

Json = dict[str, Any]
Handler = Callable[["Fields"], Json]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
# The largest integer every float above holds exactly. The JSON reader gives a float for an
# integer literal outside 64 bits (-9223372036854775809 reads as -9.223372036854776e18, which
# int() would take as -2**63): a float at or past this size may not be the number that was
# sent, so it is refused rather than rounded.
EXACT_FLOAT_INT = 2**53
MAX_JSON_DEPTH = 64

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_EMPTY = b"{}"


@functools.cache
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def missing(name: str) -> InvalidParameter:
    """MLflow's error for an absent required field."""
    return InvalidParameter(f"Missing value for required parameter '{name}'")


class Fields:
    """The fields of one request message, read by name with proto3 JSON's types.

    Absent and JSON null fields read as None. Nothing is coerced: a field of the wrong type
    is INVALID_PARAMETER_VALUE naming the field."""

    __slots__ = ("_data", "_query")

    def __init__(self, data: Mapping[str, Any], query: QueryParams | None = None) -> None:
        self._data = data
        self._query = query

    @property
    def data(self) -> Mapping[str, Any]:
        """The message as parsed, for readers with a fast path for exactly typed input."""
        return self._data

    def _raw(self, name: str) -> Any:
        camel = _camel(name)
        value = self._data.get(name)
        if camel != name and camel in self._data:
            if name in self._data:
                raise InvalidParameter(
                    f"Field {name!r} is given twice, as {name!r} and as {camel!r}"
                )
            value = self._data[camel]
        return value

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if not isinstance(value, str):
            raise InvalidParameter(f"Field {name!r} must be a string, got {_show(value)}")
        return value

    def required_string(self, name: str) -> str:
        value = self.string(name, required=True)
        assert value is not None  # noqa: S101 (narrowing: required raised otherwise)
        return value

    def int64(self, name: str, *, required: bool = False) -> int | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        return int64_value(name, value)

    def int32(self, name: str, *, required: bool = False) -> int | None:
        """An int32 field (max_results, steps of a sampled history, ...): read as an int64,
        then refused outside 32 bits, as protobuf refuses it."""
        number = self.int64(name, required=required)
        if number is not None and not INT32_MIN <= number <= INT32_MAX:
            raise InvalidParameter(
                f"Field {name!r} must fit in a signed 32-bit integer "
                f"({INT32_MIN} to {INT32_MAX}), got {number}"
            )
        return number

    def double(self, name: str, *, required: bool = False) -> float | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        return _double(name, value)

    def boolean(self, name: str) -> bool | None:
        value = self._raw(name)
        if value is None or isinstance(value, bool):
            return value
        # MLflow compat: GET booleans are `true`/`false` in any case (the client sends True).
        if isinstance(value, str) and self._query is not None:
            lowered = value.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
        raise InvalidParameter(f"Field {name!r} must be true or false, got {_show(value)}")

    def enum(self, name: str, names: Mapping[str, int]) -> int | None:
        """An enum field, given by its name (proto JSON) or its number."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, str) and value in names:
            return names[value]
        if isinstance(value, int) and not isinstance(value, bool) and value in names.values():
            return value
        if isinstance(value, str) and len(value) < 20 and _INTEGER.fullmatch(value):
            number = int(value)
            if number in names.values():
                return number
        allowed = ", ".join(names)
        raise InvalidParameter(f"Field {name!r} must be one of {allowed}, got {_show(value)}")

    def strings(self, name: str) -> list[str]:
        """A repeated string field (repeated keys in a query string)."""
        if self._query is not None:
            values: Any = self._query.getlist(name) or self._query.getlist(_camel(name))
        else:
            values = self._raw(name)
        if values is None:
            return []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidParameter(f"Field {name!r} must be a list of strings")
        return values

    def messages(self, name: str) -> list[Fields]:
        """A repeated message field."""
        values = self._raw(name)
        if values is None:
            return []
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise InvalidParameter(f"Field {name!r} must be a list of objects")
        return [Fields(v) for v in values]

    def message(self, name: str, *, required: bool = False) -> Fields | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if not isinstance(value, dict):
            raise InvalidParameter(f"Field {name!r} must be an object, got {_show(value)}")
        return Fields(value)

    def key_values(self, name: str) -> dict[str, str]:
        """A repeated {key, value} field (tags) as a dict; both parts required."""
        result: dict[str, str] = {}
        for item in self.messages(name):
            result[item.required_string("key")] = item.required_string("value")
        return result


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def int64_value(name: str, value: object) -> int:
    """A JSON value as an int64, exactly: an integer, a decimal string (proto3 JSON's form) or
    an integral float small enough to be exact; anything else is INVALID_PARAMETER_VALUE.

    Raises:
        InvalidParameter: not an integer, or one outside the signed 64-bit range.
    """
    number: int
    if isinstance(value, bool):
        raise InvalidParameter(f"Field {name!r} must be an integer, got {_show(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = _decimal(name, value)  # proto3 JSON writes int64 as a decimal string
    elif isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT_INT:
        # MLflow compat: protobuf's JSON parser takes an integral float (5.0) for an int64.
        number = int(value)
    elif isinstance(value, float) and value.is_integer():
        raise InvalidParameter(
            f"Field {name!r} must be an integer from {INT64_MIN} to {INT64_MAX}, written "
            f"without a fraction or exponent; got {_show(value)}, a number too large to read "
            "exactly"
        )
    else:
        raise InvalidParameter(f"Field {name!r} must be an integer, got {_show(value)}")
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidParameter(
            f"Field {name!r} must fit in a signed 64-bit integer "
            f"({INT64_MIN} to {INT64_MAX}), got {number}"
        )
    return number


def _decimal(name: str, text: str) -> int:
    """A string of decimal digits as an int. One too long for any int64 is refused before
    int() reads it (Python refuses over 4,300 digits, and reading is quadratic)."""
    if len(text.lstrip("-").lstrip("0")) > 19:
        raise InvalidParameter(
            f"Field {name!r} must fit in a signed 64-bit integer, got {_show(text)}"
        )
    return int(text)


def _double(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise InvalidParameter(f"Field {name!r} must be a number, got {_show(value)}")
    if isinstance(value, int | float):
        result = float(value)
        if not math.isfinite(result):
            raise InvalidParameter(f"Field {name!r} does not fit in a double")
        return result
    if isinstance(value, str):
        if value in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[value]
        if _NUMBER.fullmatch(value):
            return _double(name, float(value))
    raise InvalidParameter(
        f'Field {name!r} must be a number or one of "NaN", "Infinity", "-Infinity",'
        f" got {_show(value)}"
    )


# ---------------------------------------------------------------------------------------------
# Reading requests


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body, refused as soon as it grows past `limit` bytes."""
    declared = header(scope, b"content-length") or ""
    decimal = declared.isascii() and declared.isdigit()
    if decimal and (len(declared) > 18 or int(declared) > limit):
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    """One request header (`name` in lower case), decoded as latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _too_large(limit: int) -> InvalidParameter:
    return InvalidParameter(f"Request body is larger than the server's limit of {limit} bytes")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A JSON object body; MLflow compat: a JSON string holding JSON is decoded once more."""
    if not body.strip():
        return {}
    data = _loads(body)
    if isinstance(data, str):
        # MLflow compat: old clients double-encode the body as a JSON string.
        data = _loads(data.encode()) if data.strip() else {}
    if not isinstance(data, dict):
        raise InvalidParameter("Request body must be a JSON object")
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        _check_depth(data)
    if b"\\u0000" in body and _holds_nul(data):  # the escape first: a cheap search
        raise holds_nul("A string in the request body")
    return data


def _holds_nul(data: object) -> bool:
    """Whether any key or string in the parsed JSON holds a NUL character."""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_holds_nul(v) for v in data)
    return False


class RefuseNul:
    """Refuses a request whose path or query holds a NUL character before any route reads it
    (a JSON body is checked by parse_json_object); errors.UnexpectedErrors answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                raise holds_nul("The request's path")
            if b"%00" in scope["query_string"]:
                pairs = QueryParams(scope["query_string"]).multi_items()
                if _holds_nul([text for pair in pairs for text in pair]):
                    raise holds_nul("A query parameter")
        await self.app(scope, receive, send)


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter(f"Request body is not valid JSON: {exc}") from None


def _check_depth(data: object) -> None:
    """Walks the containers level by level (cheap even for 1,000-metric batches)."""
    level: list[Any] = [data]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise InvalidParameter(f"Request body nests deeper than {MAX_JSON_DEPTH} levels")
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]


def _check_content_type(scope: Scope) -> None:
    content_type = header(scope, b"content-type")
    if content_type is None:
        raise InvalidParameter("Content-Type header is missing; send application/json")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise InvalidParameter(f"Content-Type must be application/json, got {content_type[:100]!r}")


async def read_fields(scope: Scope, receive: Receive, limit: int) -> Fields:
    """GET reads the query string; every other method a JSON object body."""
    if scope["method"] in ("GET", "HEAD"):
        query = QueryParams(scope["query_string"])
        return Fields(query, query)
    _check_content_type(scope)
    return Fields(parse_json_object(await read_body(scope, receive, limit)))


# ---------------------------------------------------------------------------------------------
# Writing responses


def json_response(content: Json, status_code: int = 200) -> Response:
    if status_code == 204:  # No Content: no body at all
        return Response(status_code=204)
    body = orjson.dumps(content) if content else _EMPTY
    return Response(body, status_code=status_code, media_type="application/json")


class JsonEndpoint:
    """An ASGI endpoint: reads the request's Fields, runs `handler` and writes its dict as JSON.
    The body is read on the event loop first, so its size limit holds while it arrives. Errors
    propagate to the app's exception handlers.

    `inline` runs the handler on the event loop itself. That is right when the store answers in
    well under a millisecond without waiting on a network or an fsync (SQLite in WAL mode with
    synchronous=NORMAL): the hop to the threadpool would cost more (about 270 us of CPU a
    request) than the work. Otherwise (PostgreSQL, synchronous=FULL) handlers run in the
    threadpool, where concurrent writes also meet in one group commit."""

    def __init__(self, handler: Handler, max_request_bytes: int, *, inline: bool) -> None:
        self.handler = handler
        self.max_request_bytes = max_request_bytes
        self.inline = inline
        self.__name__ = handler.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            fields = await read_fields(scope, receive, self.max_request_bytes)
        except ClientDisconnect:
            return  # nobody is left to answer
        if self.inline:
            result = self.handler(fields)
        else:
            result = await run_in_threadpool(self.handler, fields)
        body = orjson.dumps(result) if result else _EMPTY
        await send({"type": "http.response.start", "status": 200, "headers": _json_headers(body)})
        await send({"type": "http.response.body", "body": body})


class PathEndpoint:
    """Like JsonEndpoint, with the path parameters read as fields too (they win over the body
    and the query).

    MLflow compat: PATCH and DELETE may come without a body or a Content-Type (the client sends
    none to delete a tag); an empty body is the empty message. Other methods' bodies are
    checked as everywhere else, unless `strict_content_type` is False (the webhook routes:
    every body is read as JSON, whatever its Content-Type)."""

    def __init__(
        self,
        handler: Handler,
        limit: int,
        *,
        inline: bool,
        strict_content_type: bool = True,
        status: int = 200,
    ) -> None:
        self.handler = handler
        self.limit = limit
        self.inline = inline
        self.strict_content_type = strict_content_type
        self.status = status
        self.__name__ = handler.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            fields = await self._fields(scope, receive)
        except ClientDisconnect:
            return
        if self.inline:
            result = self.handler(fields)
        else:
            result = await run_in_threadpool(self.handler, fields)
        await json_response(result, self.status)(scope, receive, send)

    async def _fields(self, scope: Scope, receive: Receive) -> Fields:
        path_params: dict[str, Any] = scope.get("path_params", {})
        if scope["method"] == "GET":
            query = QueryParams(scope["query_string"])
            return Fields({**query, **path_params}, query)
        if scope["method"] in ("PATCH", "DELETE") or not self.strict_content_type:
            data = parse_json_object(await read_body(scope, receive, self.limit))
            if scope["method"] == "DELETE":  # MLflow's client puts options in the query
                data = {**QueryParams(scope["query_string"]), **data}
        else:
            data = dict((await read_fields(scope, receive, self.limit)).data)
        return Fields({**data, **path_params})


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]


class Endpoints:
    """Builds routes whose handlers take the request's Fields and return a response dict;
    each is registered with the policy of its caller."""

    def __init__(self, max_request_bytes: int, *, inline: bool = False) -> None:
        self.max_request_bytes = max_request_bytes
        self.inline = inline

    def route(self, method: str, path: str, handler: Handler, policy: Policy) -> PolicyRoute:
        """A route whose path has no parameters (see `with_path` for one that has)."""
        endpoint = JsonEndpoint(handler, self.max_request_bytes, inline=self.inline)
        return PolicyRoute(path, endpoint, methods=[method], name=handler.__name__, policy=policy)

    def with_path(
        self,
        method: str,
        path: str,
        handler: Handler,
        policy: Policy,
        *,
        strict_content_type: bool = True,
        status: int = 200,
    ) -> PolicyRoute:
        """A route whose path parameters (`/logged-models/{model_id}`) are read as fields;
        `status`: what a success answers (201 Created, 204 No Content)."""
        endpoint = PathEndpoint(
            handler,
            self.max_request_bytes,
            inline=self.inline,
            strict_content_type=strict_content_type,
            status=status,
        )
        return PolicyRoute(path, endpoint, methods=[method], name=handler.__name__, policy=policy)

    def get(self, path: str, handler: Handler, policy: Policy) -> PolicyRoute:
        return self.route("GET", path, handler, policy)

    def post(self, path: str, handler: Handler, policy: Policy) -> PolicyRoute:
        return self.route("POST", path, handler, policy)

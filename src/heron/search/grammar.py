"""MLflow's search filter and order_by grammar, parsed into a small AST. Pure; no SQL here.

Filters are clauses joined by AND (MLflow has no OR):

    metrics.acc > 0.8 AND params.lr = '0.1' AND tags.`my tag` LIKE 'x%'
    attributes.status IN ('FINISHED', 'FAILED') AND datasets.name = 'train'

Keys may be back-quoted or double-quoted (tags.`my key`, tags."my key") and may contain dots
(tags.mlflow.parentRunId has the key "mlflow.parentRunId"). Strings take single or double quotes;
a quote inside one is doubled or backslash-escaped, and `\\\\` is one backslash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from heron.errors import InvalidParameter

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Op = Literal[
    "=",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "LIKE",
    "ILIKE",
    "RLIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
]
Value = str | float | int | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause: `<entity>.<key> <op> <value>`.

    `value` is a float for metrics, an int for time attributes (ms since epoch), a tuple of
    strings for IN / NOT IN, None for IS NULL / IS NOT NULL, otherwise a string."""

    entity: Entity
    key: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class OrderKey:
    entity: Entity
    key: str
    ascending: bool = True


PREFIXES: dict[str, Entity] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "datasets": "dataset",
    "dataset": "dataset",
}
NUMERIC_OPS: tuple[Op, ...] = ("=", "!=", "<", ">", "<=", ">=")
STRING_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
# Limits under the databases' own, so that a filter past them is an error that says so: SQLite
# refuses an expression nested deeper than 1,000 (some 500-1,000 conditions, depending on
# what they compare) and a LIKE pattern over 50,000 bytes.
MAX_CONDITIONS = 100
MAX_LIKE_PATTERN = 10_000  # characters: at most 40,000 bytes in UTF-8
KEY_OPS: tuple[Op, ...] = (*STRING_OPS, "IS NULL", "IS NOT NULL")
_WORD_OPS: dict[str, Op] = {"LIKE": "LIKE", "ILIKE": "ILIKE", "RLIKE": "RLIKE", "IN": "IN"}
# RLIKE patterns: Python's re checks them, then the database runs them (SQLite through Python's
# re, PostgreSQL's own engine), so only what both read alike is taken: no (?...) groups but
# (?:...), and a length that keeps a hostile pattern's cost in bounds.
MAX_REGEX_PATTERN = 1_000
INT64 = (-(2**63), 2**63 - 1)

_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789.-/")
_DIGITS = frozenset("0123456789")
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "(", ")", ",")

TokenKind = Literal["word", "ident", "string", "number", "symbol", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: TokenKind
    text: str  # the word, the unquoted content, the number's lexeme or the symbol
    start: int
    end: int
    quote: str = ""  # the quote character of a `string` or `ident` token


def _tokenize(text: str, what: str) -> list[_Token]:
    if "\x00" in text or _has_surrogate(text):
        raise _error(what, text, "it contains a NUL character or an unpaired surrogate")
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "'\"`":
            content, end = _read_quoted(text, i, what)
            kind: TokenKind = "ident" if c == "`" else "string"
            tokens.append(_Token(kind, content, i, end, quote=c))
            i = end
        elif c in _DIGITS or (c in "+-." and _starts_number(text, i + 1 if c != "." else i)):
            end = _read_number(text, i, what)
            tokens.append(_Token("number", text[i:end], i, end))
            i = end
        elif c in _WORD_START:
            end = i
            while end < n and text[end] in _WORD_CHARS:
                end += 1
            tokens.append(_Token("word", text[i:end], i, end))
            i = end
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
            if symbol is None:
                raise _error(what, text, f"unexpected character {c!r} at position {i}")
            tokens.append(_Token("symbol", symbol, i, i + len(symbol)))
            i += len(symbol)
    tokens.append(_Token("end", "", n, n))
    return tokens


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _starts_number(text: str, i: int) -> bool:
    if i < len(text) and text[i] in _DIGITS:
        return True
    return text.startswith(".", i) and i + 1 < len(text) and text[i + 1] in _DIGITS


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    quote, out, i, n = text[start], [], start + 1, len(text)
    while i < n:
        c = text[i]
        if c == quote:
            if i + 1 < n and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\\" and quote != "`" and i + 1 < n and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    raise _error(what, text, f"the quote {quote} opened at position {start} is never closed")


def _read_number(text: str, start: int, what: str) -> int:
    i, n = start, len(text)
    if text[i] in "+-":
        i += 1
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            i = j
            while i < n and text[i] in _DIGITS:
                i += 1
    if i < n and (text[i] in _WORD_CHARS or text[i] in "'\"`"):
        raise _error(what, text, f"malformed number {text[start : i + 1]!r} at position {start}")
    return i


def _error(what: str, text: str, problem: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid {what} {text!r}: {problem}.")


class Parser:
    """A cursor over the tokens of one filter or order_by clause."""

    def __init__(self, text: str, what: str) -> None:
        self.text, self.what = text, what
        self.tokens = _tokenize(text, what)
        self.pos = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def keyword(self, *words: str) -> bool:
        """Consumes the next token when it is one of the (upper-case) keywords."""
        token = self.peek
        if token.kind == "word" and token.text.upper() in words:
            self.pos += 1
            return True
        return False

    def fail(self, problem: str) -> InvalidParameter:
        return _error(self.what, self.text, problem)

    def describe(self, token: _Token) -> str:
        if token.kind == "end":
            return "the end of the text"
        return f"{self.text[token.start : token.end]!r} at position {token.start}"

    def identifier(self) -> tuple[str | None, str]:
        """`prefix.key`, `prefix.\\`quoted key\\``, or a bare name; returns (prefix, key)."""
        token = self.take()
        if token.kind == "ident":
            return None, token.text
        if token.kind != "word":
            raise self.fail(
                f"expected an identifier such as metrics.acc, got {self.describe(token)}"
            )
        prefix, dot, key = token.text.partition(".")
        if not dot:
            return None, token.text
        if not key:
            quoted = self.peek
            if quoted.quote not in ("`", '"') or quoted.start != token.end:
                raise self.fail(
                    f"{token.text!r} must be followed by a key, e.g. {token.text}`my key`"
                )
            self.pos += 1
            key = quoted.text
        if not key:
            raise self.fail(f"the key after {prefix!r} is empty")
        return prefix, key

    def operator(self) -> Op:
        token = self.take()
        if token.kind == "symbol" and token.text in NUMERIC_OPS:
            return token.text
        if token.kind == "word":
            word = token.text.upper()
            if word in _WORD_OPS:
                return _WORD_OPS[word]
            if word == "NOT" and self.keyword("IN"):
                return "NOT IN"
            if word == "IS":
                negated = self.keyword("NOT")
                if self.keyword("NULL"):
                    return "IS NOT NULL" if negated else "IS NULL"
                raise self.fail("IS must be followed by NULL or NOT NULL")
        raise self.fail(
            "expected a comparator (= != < > <= >= LIKE ILIKE RLIKE IN NOT IN IS NULL "
            f"IS NOT NULL), "
            f"got {self.describe(token)}"
        )

    def value(self, op: Op) -> Value:
        if op in ("IS NULL", "IS NOT NULL"):
            return None
        if op in ("IN", "NOT IN"):
            return self.string_list(op)
        token = self.take()
        if (
            token.kind == "string"
            and op in ("LIKE", "ILIKE")
            and len(token.text) > MAX_LIKE_PATTERN
        ):
            raise self.fail(f"a {op} pattern may have at most {MAX_LIKE_PATTERN:,} characters")
        if token.kind == "string" and op == "RLIKE":
            return self.regex(token.text)
        if token.kind in ("string", "number"):
            return token.text if token.kind == "string" else Number(token.text)
        raise self.fail(f"expected a value after {op}, got {self.describe(token)}")

    def regex(self, pattern: str) -> str:
        """An RLIKE pattern, checked to be one both databases read as Python's re does."""
        if len(pattern) > MAX_REGEX_PATTERN:
            raise self.fail(f"an RLIKE pattern may have at most {MAX_REGEX_PATTERN:,} characters")
        if re.search(r"\(\?(?!:)", pattern):
            raise self.fail(
                "an RLIKE pattern may not use (?...) groups other than (?:...); "
                "use plain groups, classes and anchors"
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.fail(f"the RLIKE pattern is not a regular expression: {exc}") from None
        return pattern

    def string_list(self, op: Op) -> tuple[str, ...]:
        opening = self.take()
        if opening.kind != "symbol" or opening.text != "(":
            raise self.fail(f"{op} takes a parenthesised list of strings, e.g. {op} ('a', 'b')")
        items: list[str] = []
        while True:
            token = self.take()
            if token.kind != "string":
                raise self.fail(
                    f"expected a quoted string in the {op} list, got {self.describe(token)}"
                )
            items.append(token.text)
            separator = self.take()
            if separator.kind == "symbol" and separator.text == ")":
                return tuple(items)
            if separator.kind != "symbol" or separator.text != ",":
                raise self.fail(
                    f"expected ',' or ')' in the {op} list, got {self.describe(separator)}"
                )

    def expect_end_or_and(self) -> bool:
        """True when another clause follows an AND, False at the end of the text."""
        if self.keyword("AND"):
            return True
        token = self.peek
        if token.kind == "end":
            return False
        if token.kind == "word" and token.text.upper() == "OR":
            raise self.fail(
                "OR is not supported; join clauses with AND, or run one search per alternative"
            )
        raise self.fail(f"expected AND or the end of the filter, got {self.describe(token)}")


class Number(str):
    """A numeric literal's lexeme, kept apart from quoted strings until its type is known."""

    __slots__ = ()


def clauses(text: str | None, what: str) -> list[tuple[Parser, str | None, str, Op, Value]]:
    if text is None or not text.strip():
        return []
    parser = Parser(text, what)
    out: list[tuple[Parser, str | None, str, Op, Value]] = []
    while True:
        prefix, key = parser.identifier()
        op = parser.operator()
        out.append((parser, prefix, key, op, parser.value(op)))
        if not parser.expect_end_or_and():
            return out
        if len(out) == MAX_CONDITIONS:
            raise parser.fail(f"a filter may join at most {MAX_CONDITIONS} conditions with AND")


def typed(
    parser: Parser, entity: Entity, key: str, op: Op, value: Value, ops: tuple[Op, ...]
) -> Comparison:
    """Checks the comparator and gives the value its AST type."""
    shown = f"{entity} {key!r}"
    if op not in ops:
        raise parser.fail(f"{op} cannot be used with {shown}; use one of {', '.join(ops)}")
    numeric = ops == NUMERIC_OPS
    if numeric and not isinstance(value, Number):
        raise parser.fail(f"{shown} must be compared with an unquoted number, e.g. > 0.5")
    if not numeric and isinstance(value, Number):
        raise parser.fail(f"{shown} must be compared with a quoted string, e.g. = '{value}'")
    if isinstance(value, Number):
        if entity == "metric":
            return Comparison(entity, key, op, float(value))
        if any(c in value for c in ".eE"):
            raise parser.fail(f"{shown} must be compared with an integer (ms since epoch)")
        if len(value.lstrip("+-").lstrip("0")) > 19:  # more digits than any int64; int() refuses
            raise parser.fail(f"a number of {len(value)} characters is out of range for {shown}")
        number = int(value)
        if not INT64[0] <= number <= INT64[1]:
            raise parser.fail(f"{number} is out of range for {shown}")
        return Comparison(entity, key, op, number)
    return Comparison(entity, key, op, value)


def order_clauses(
    clauses: list[str] | tuple[str, ...] | None,
) -> list[tuple[Parser, str | None, str]]:
    if isinstance(clauses, str):
        raise InvalidParameter(f"order_by must be a list of clauses, got the string {clauses!r}")
    out: list[tuple[Parser, str | None, str]] = []
    for clause in clauses or ():
        if not isinstance(clause, str) or not clause.strip():
            raise InvalidParameter(f"Invalid order_by clause {clause!r}: it is empty.")
        parser = Parser(clause, "order_by clause")
        prefix, key = parser.identifier()
        out.append((parser, prefix, key))
    return out


def direction(parser: Parser) -> bool:
    ascending = True
    if parser.keyword("DESC"):
        ascending = False
    else:
        parser.keyword("ASC")
    if parser.peek.kind != "end":
        raise parser.fail(
            f"expected ASC, DESC or the end of the clause, got {parser.describe(parser.peek)}"
        )
    return ascending

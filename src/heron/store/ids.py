"""The ids the wire names rows by, read once against the integer columns that hold them.

MLflow's wire carries an experiment id and a model version number as decimal strings (an
experiment id is an int64 in its protos), but `store/sql/tables.py` keys both by 32-bit
`Integer` columns, which PostgreSQL refuses to compare with a wider number (SQLite just finds
no row). Every service and store reads these ids here, so an id that no row can have gets the
answer of one that does not exist, on every database, never a database error.
`tests/store/sql/test_columns.py` checks these limits against the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeGuard

from heron.errors import InvalidParameter, NotFound

INT32_MAX = 2**31 - 1  # sqlalchemy Integer: PostgreSQL's integer
INT64_MAX = 2**63 - 1  # sqlalchemy BigInteger
MAX_EXPERIMENT_ID = INT32_MAX  # experiments.experiment_id
MAX_MODEL_VERSION = INT32_MAX  # model_versions.version


def _is_decimal(value: object) -> TypeGuard[str]:
    """ASCII digits only: digits int() reads differently ('٣' is 3) or not at all ('²') are
    not an id."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _decimal(value: str, limit: int) -> int | None:
    """The number the digits `value` write if it is at most `limit`, else None (checked before
    int() reads it: thousands of digits are slow to read, or refused)."""
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(limit)) or int(digits) > limit:
        return None
    return int(digits)


def experiment_id(value: object) -> str:
    """The experiment id `value` names, as the store reads it.

    Raises:
        NotFound: no experiment can have that id (not a decimal, or past the column).
    """
    number = _decimal(value, MAX_EXPERIMENT_ID) if _is_decimal(value) else None
    if number is None:
        shown = value[:100] if _is_decimal(value) else repr(value)[:100]
        raise NotFound(f"No Experiment with id={shown} exists")
    return str(number)


def experiment_key(value: str) -> int:
    """The experiment id as the integer the tables key it by (NotFound as `experiment_id`)."""
    return int(experiment_id(value))


def experiment_key_or_none(value: str) -> int | None:
    """The experiment key `value` names, or None when no experiment can have it (an id a
    grant names, say)."""
    number = _decimal(value, MAX_EXPERIMENT_ID) if _is_decimal(value) else None
    return number


def searched_experiment_ids(values: Iterable[object]) -> list[str]:
    """The experiment ids of a search. A number no experiment can have matches nothing, as an
    id that does not exist; a value that is no id at all is NotFound, as for one id."""
    found = []
    for value in values:
        if _is_decimal(value) and _decimal(value, MAX_EXPERIMENT_ID) is None:
            continue
        found.append(experiment_id(value))
    return found


def row_key(what: str, value: int) -> int:
    """A surrogate key Heron numbers in a 32-bit column (a role's, a permission's): one past
    the column names no row.

    Raises:
        NotFound: a number no row of that kind can have.
    """
    if not 0 <= value <= INT32_MAX:
        raise NotFound(f"No {what} with id {value} exists")
    return value


def model_version(value: object) -> str:
    """A model version number, sent as a decimal string (or an integer).

    Raises:
        InvalidParameter: not an integer (MLflow's answer).
        NotFound: an integer no version can have (past the column).
    """
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _is_decimal(text):
        raise InvalidParameter(f"Parameter 'version' must be an integer, got {value!r}")
    number = _decimal(text, MAX_MODEL_VERSION)
    if number is None:
        raise NotFound(f"Model version {text[:30]} does not exist: versions go up to {INT32_MAX}")
    return str(number)

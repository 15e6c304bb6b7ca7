"""Byte ranges of a file (HTTP Range requests, RFC 9110 §14): one range, as a client asks for
it, applied to the file's size once it is known."""

from __future__ import annotations

import re
from dataclasses import dataclass

from heron.errors import HeronError

_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(HeronError):
    """The range starts at or past the end of the file (HTTP 416); `size` is the file's."""

    code = "REQUESTED_RANGE_NOT_SATISFIABLE"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"The requested range is outside the file, which has {size} bytes: ask for "
            f"bytes=0-{max(size - 1, 0)} or less"
        )
        self.size = size


@dataclass(frozen=True, slots=True)
class ByteRange:
    """`bytes=first-last` (both inclusive), `bytes=first-` (`last` None) or `bytes=-n` (the
    last n bytes: `first` None, `last` n)."""

    first: int | None
    last: int | None

    def within(self, size: int) -> tuple[int, int]:
        """(start, stop) of the bytes it takes from a file of `size` bytes, stop exclusive.

        Raises:
            RangeNotSatisfiable: it takes no byte of the file.
        """
        if self.first is None:
            suffix = self.last or 0
            if suffix == 0 or size == 0:
                raise RangeNotSatisfiable(size)
            return max(size - suffix, 0), size
        if self.first >= size:
            raise RangeNotSatisfiable(size)
        stop = size if self.last is None else min(self.last + 1, size)
        return self.first, stop

    def header(self) -> str:
        """As a Range header's value."""
        first = "" if self.first is None else str(self.first)
        last = "" if self.last is None else str(self.last)
        return f"bytes={first}-{last}"


@dataclass(frozen=True, slots=True)
class ContentRange:
    """The bytes [start, stop) of a file of `total` bytes that a stream yields."""

    start: int
    stop: int
    total: int

    def header(self) -> str:
        """As a Content-Range header's value."""
        return f"bytes {self.start}-{self.stop - 1}/{self.total}"


def parse_range(value: str | None) -> ByteRange | None:
    """The one range a Range header asks for; None for no header, for several ranges and for
    one that is not of the `bytes=` forms (RFC 9110 lets a server ignore those and send the
    whole file)."""
    if not value:
        return None
    match = _ONE_RANGE.fullmatch(value.replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        return ByteRange(None, int(last))
    if last and int(last) < int(first):
        return None  # invalid: ignored, as the RFC says
    return ByteRange(int(first), int(last) if last else None)

"""Keyset pages with a way back: the tokens of the pages before this one ride in the URL.

The store pages by opaque "next" tokens only. To offer "previous page" without server state,
each next link carries the current page's token on a short stack (`?back=`), so a page's URL
says how to go back, can be shared, and works with the browser's own back button too."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from heron.ui.rendering import url_with

MAX_BACK = 10  # pages remembered; past that, "first page" still gets the reader home
FIRST = "-"  # the first page's place on the stack (it has no token)


@dataclass(frozen=True, slots=True)
class Pager:
    first: str | None  # None on the first page
    previous: str | None  # None on the first page, or when the stack ran out
    next: str | None  # None on the last page


def pager(request: Request, next_token: str | None, **keep: str | list[str] | None) -> Pager:
    """Links to the first, previous and next pages of this view; `keep` adds changes that
    every link carries (the table's chosen columns, for instance)."""
    current = request.query_params.get("page") or None
    back = [t for t in request.query_params.getlist("back") if t][-MAX_BACK:]
    here = current or FIRST
    following = None
    if next_token:
        following = _link(request, next_token, [*back, here][-MAX_BACK:], keep)
    if current is None:
        return Pager(None, None, following)
    previous = None
    if back:
        token = back[-1]
        previous = _link(request, None if token == FIRST else token, back[:-1], keep)
    return Pager(_link(request, None, [], keep), previous, following)


def _link(
    request: Request, token: str | None, back: list[str], keep: dict[str, str | list[str] | None]
) -> str:
    return url_with(request, **keep, page=token, back=back or None)

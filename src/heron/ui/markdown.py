"""A small, safe Markdown renderer for descriptions and notes.

Safe by construction: the text is HTML-escaped before any Markdown is applied, so no tag or
attribute a user wrote survives; the renderer only adds the few tags it knows (headings,
paragraphs, lists, quotes, code, emphasis, links). Links keep only http(s), mailto and
same-site targets and open with rel="noopener noreferrer nofollow"."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_SAFE_URL = re.compile(r"^(https?://|mailto:|/(?!/)|#)", re.IGNORECASE)


def render(text: str) -> Markup:
    """`text` (Markdown) as HTML that is safe to put in a page."""
    out: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            out.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            if pattern.match(line):
                items = []
                while i < len(lines) and (match := pattern.match(lines[i])):
                    items.append(f"<li>{_inline(match.group(1))}</li>")
                    i += 1
                out.append(f"<{tag}>{''.join(items)}</{tag}>")
                break
        else:
            if line.lstrip().startswith(">"):
                quoted = []
                while i < len(lines) and lines[i].lstrip().startswith(">"):
                    quoted.append(lines[i].lstrip()[1:].strip())
                    i += 1
                out.append(f"<blockquote>{_inline(' '.join(quoted))}</blockquote>")
                continue
            paragraph = []
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                paragraph.append(lines[i].strip())
                i += 1
            out.append(f"<p>{'<br>'.join(_inline(p) for p in paragraph)}</p>")
    return Markup("\n".join(out))  # noqa: S704 - built only from escaped text and known tags


def _starts_block(line: str) -> bool:
    return bool(
        _HEADING.match(line)
        or _BULLET.match(line)
        or _NUMBERED.match(line)
        or _FENCE.match(line)
        or line.lstrip().startswith(">")
    )


def _inline(text: str) -> str:
    """Escapes `text`, then applies code spans, links, bold and italics."""
    parts = text.split("`")
    html = []
    for index, part in enumerate(parts):
        if index % 2 == 1 and index < len(parts) - 1:
            html.append(f"<code>{escape(part)}</code>")
        else:
            piece = str(escape(part if index % 2 == 0 else "`" + part))
            piece = _LINK.sub(_link, piece)
            piece = _BOLD.sub(r"<strong>\2</strong>", piece)
            piece = _ITALIC.sub(r"<em>\2</em>", piece)
            html.append(piece)
    return "".join(html)


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if not _SAFE_URL.match(url):
        return match.group(0)  # shown as the text the user wrote, not as a link
    return f'<a href="{url}" rel="noopener noreferrer nofollow">{label}</a>'

"""The Markdown renderer: the Markdown people write, and nothing a browser would run."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from heron.ui.markdown import render

ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "ol", "li", "blockquote",
                "pre", "code", "strong", "em", "a"}  # fmt: skip


class _Tags(HTMLParser):
    """Every tag, attribute and link target a browser would see in the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "href":
                self.hrefs.append(value or "")


def test_common_markdown() -> None:
    html = render("# Title\n\nSome **bold**, *italic* and `code`.\n\n- one\n- two\n\n1. first")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<code>code</code>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li></ol>" in html


def test_fenced_code_keeps_text_verbatim() -> None:
    html = render("```\n**not bold** <b>\n```")
    assert html == "<pre><code>**not bold** &lt;b&gt;</code></pre>"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '[x](javascript:alert(1))',
        '[x](JaVaScRiPt:alert(1))',
        '[x](data:text/html,<script>alert(1)</script>)',
        '[x](" onmouseover="alert(1))',
        "# <svg onload=alert(1)>",
        "- <iframe src=//evil>",
        "> <a href='javascript:x'>q</a>",
        "`</code><script>x</script>`",
        "[x](//evil.example/path)",
    ],
    ids=["script", "img-onerror", "js-link", "js-link-case", "data-link", "attr-breakout",
         "svg-heading", "iframe-list", "raw-anchor", "code-breakout", "protocol-relative"],
)  # fmt: skip
def test_nothing_executable_survives(text: str) -> None:
    found = _Tags()
    found.feed(str(render(text)))
    assert found.tags <= ALLOWED_TAGS, found.tags
    assert found.attributes <= {"href", "rel"}, found.attributes
    for href in found.hrefs:
        assert href.startswith(("https://", "http://", "mailto:", "#")) or (
            href.startswith("/") and not href.startswith("//")
        ), href


def test_safe_links_open_without_referrer() -> None:
    html = render("[docs](https://example.com/a?b=1&c=2) and [run](/runs/abc)")
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">docs</a>'
        in html
    )
    assert '<a href="/runs/abc"' in html

"""Check a message the way Telegram's HTML parse mode reads it: known tags, well nested, entities escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_TAGS = {"b", "i", "code", "a"}
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.bold: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> would reach Telegram"
        if tag == "a":  # a link to a web page, and nothing else
            assert len(attrs) == 1 and attrs[0][0] == "href", f"<a> has attributes {attrs}"
            assert (attrs[0][1] or "").startswith(("http://", "https://")), f"<a> links to {attrs[0][1]!r}"
        else:
            assert not attrs, f"tag <{tag}> has attributes {attrs}"
        assert tag not in self.open, f"<{tag}> nested in itself"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "b" in self.open:
            self.bold.append(data)


def read_html(message: str) -> tuple[str, str]:
    """``(text, bold text)`` of a Telegram HTML message; AssertionError when Telegram would reject it."""
    assert not _BARE_AMPERSAND.search(message), f"unescaped & in {message!r}"
    reader = _Reader()
    reader.feed(message)
    reader.close()
    assert not reader.open, f"unclosed tags {reader.open}"
    bare = re.sub(r'</?(?:b|i|code)>|<a href="[^"<>]*">|</a>', "", message)
    assert "<" not in bare and ">" not in bare, f"unescaped < or > in {message!r}"
    return "".join(reader.text), "".join(reader.bold)

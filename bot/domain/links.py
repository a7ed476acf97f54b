"""Where catalogue pages live: a tool's slug, its page's path and public URL. No I/O.

A slug is the tool's name in lower case with every run of punctuation and spaces made one
`-` ("Claude Code" -> `claude-code`, "通义灵码" stays as written). Slack messages build
links with it without asking the catalogue, so it depends on the name alone; the rare two
names with one slug share a page.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import quote

PREFIX = "/catalogue/"

_NOT_WORD = re.compile(r"[\W_]+")


def slug(name: str) -> str:
    """`Claude Code` -> `claude-code`; a name of punctuation alone -> `tool`."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return _NOT_WORD.sub("-", text).strip("-") or "tool"


@functools.lru_cache(maxsize=1 << 15)
def name_slug(name: str) -> str:
    """`slug` of a tool's name, kept: every page links dozens of tools and every snapshot
    indexes all of them. Names only (at most 80 characters), never text from a request."""
    return slug(name)


@functools.lru_cache(maxsize=1 << 15)
def tool_path(name: str) -> str:
    """The path of a tool's page, percent-encoded: `/catalogue/tools/claude-code`."""
    return f"{PREFIX}tools/{quote(name_slug(name), safe='')}"


class ToolPages:
    """Absolute links to tool pages under the public URL (POLICYBOT_PUBLIC_URL)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def url(self, name: str) -> str:
        """`https://policybot.example.com/catalogue/tools/claude-code`."""
        return self.base + tool_path(name)

    def catalogue(self) -> str:
        return self.base + PREFIX


def tool_pages(public_url: str | None) -> ToolPages | None:
    """ToolPages for `public_url`, or None when the catalogue has no public address."""
    return ToolPages(public_url) if public_url else None

"""What counts as "the same name", and the index from every name and alias to its tool.

One rule for the whole bot: the store's unique keys, the policy files' duplicate check, the
answering registry, the edit form and the admin commands all compare names with `name_key`.
Two names are the same when they differ only in case, spacing, hyphens/underscores/dashes
or full-width forms: "Claude Code", "claude-code", "claude_code" and the same letters typed
full-width are one name. The matcher in `matching.py` is more lenient on purpose (typos,
joined words); this module decides identity, not relevance.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# Separators that do not make a name different: whitespace, hyphens, underscores, dashes.
_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")
# Slack markup (<!channel>, <@U1>, <#C1>, <http://…>) and control characters never match a
# question and would ping or link when shown; names and aliases cannot hold them.
_MARKUP = re.compile(r"[<>]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The longest name or alias accepted (characters); longer is refused with this limit named.
NAME_MAX = 80


def name_key(name: str) -> str:
    """The form in which two names are compared: NFKC, casefolded, separators as one space."""
    # An import asks for each of 30,000 names and aliases about ten times; the cache holds
    # only name-sized texts, so what it can hold stays bounded (~16 MB) whatever is asked.
    return _cached_key(name) if len(name) <= NAME_MAX else _key(name)


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(_SEPARATORS.sub(" ", text).split())


_cached_key = functools.lru_cache(maxsize=1 << 16)(_key)


def clean_name(name: str) -> str:
    """A name as stored: surrounding space removed, inner runs of space made single."""
    return " ".join(name.split())


def name_problem(name: str, kind: str = "name") -> str | None:
    """Why `name` cannot be a tool's name or alias (a sentence), or None when it can."""
    text = clean_name(name)
    if not name_key(text):
        return f"empty {kind}"
    if _MARKUP.search(text) or _CONTROL.search(text):
        return (
            f"the {kind} '{text[:NAME_MAX]}' contains Slack markup or control characters: "
            "names and aliases cannot contain < or >"
        )
    if len(text) > NAME_MAX:
        return f"the {kind} '{text[:30]}…' is {len(text)} characters long: at most {NAME_MAX}"
    return None


class NameIndex:
    """Every name and alias -> the canonical name of the tool it names."""

    def __init__(self, tools: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self._owner: dict[str, str] = {}
        for name, aliases in tools:
            self.add(name, aliases)

    def add(self, name: str, aliases: Iterable[str] = ()) -> None:
        """Index a tool; a name or alias already indexed keeps its first owner."""
        for text in (name, *aliases):
            self._owner.setdefault(name_key(text), name)

    def tool_for(self, text: str) -> str | None:
        """The canonical name of the tool `text` names (by name or alias), or None."""
        return self._owner.get(name_key(text))

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and name_key(text) in self._owner

    def owners(self) -> dict[str, str]:
        """A copy of key -> canonical name (for close-name suggestions)."""
        return dict(self._owner)

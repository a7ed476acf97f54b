"""Text a database can store: no NUL characters, no lone surrogates.

PostgreSQL refuses NUL in text columns and every driver refuses to encode a lone surrogate
(half of a UTF-16 pair, which JSON's \\ud800 escapes and undecodable command-line bytes
produce). Text from outside is cleaned with `storable` where it enters the bot, so a question
or a policy never fails to be written because of how it was typed.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` without NUL characters, each lone surrogate replaced by U+FFFD; linear time."""
    if _UNSTORABLE.search(text) is None:
        return text
    text = text.replace("\x00", "")
    # A surrogate pair kept as two code points becomes its character; a lone half, U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_strings(tree: Any) -> None:
    """Apply `storable` to every string in a JSON-like tree of dicts and lists, in place."""
    stack = [tree]
    while stack:  # a loop, not recursion: a deeply nested body cannot exhaust the stack
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    node[key] = storable(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    node[index] = storable(value)
                elif isinstance(value, dict | list):
                    stack.append(value)

"""Reading a policy file before YAML sees it: bounded size, UTF-8 only, bounded nesting.

A policy file is data anyone may propose in a pull request, so reading it must stay cheap
and its failures must be one line naming the file: a file of 10 MB, one saved as UTF-16 or
Latin-1, or one nested 100,000 deep (which the YAML parser would take seconds over and then
fail on with a RecursionError thousands of lines long) is refused before parsing.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.adapters.files.yamlscan import nesting_depth

# ~100 times the largest shipped file; a registry of thousands of tools still fits.
MAX_POLICY_FILE_BYTES = 1024 * 1024
# A policy file needs 3 levels (tools -> entry -> list); the rest is room for comfort.
MAX_NESTING = 32
_BRACKET = re.compile(r"[\[\]{}]")


class PolicyTextError(ValueError):
    """A policy file that is not read at all; the message says why in one line (no path)."""


def read_policy_text(path: Path) -> str:
    """The text of the policy file at `path`; PolicyTextError when it is too big, not UTF-8
    or nested too deep."""
    try:
        size = path.stat().st_size
        if size > MAX_POLICY_FILE_BYTES:
            raise PolicyTextError(
                f"{size:,} bytes is too large for a policy file "
                f"(at most {MAX_POLICY_FILE_BYTES:,}); split it into several files"
            )
        with path.open("rb") as stream:
            raw = stream.read(MAX_POLICY_FILE_BYTES + 1)  # the file may grow after stat()
    except OSError as error:
        raise PolicyTextError(f"cannot read it ({error.strerror or error})") from None
    if len(raw) > MAX_POLICY_FILE_BYTES:
        raise PolicyTextError("too large for a policy file; split it into several")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyTextError(
            f"not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8"
        ) from None
    if "\x00" in text:  # UTF-16 without a byte-order mark decodes as UTF-8 full of NULs
        raise PolicyTextError("contains NUL characters (UTF-16?); save it as UTF-8")
    text = text.removeprefix("\ufeff")
    if _bracket_depth(text) > MAX_NESTING or _block_depth(text) > MAX_NESTING:
        raise PolicyTextError(
            f"nested more than {MAX_NESTING} levels deep; "
            "a policy file needs three (tools, a tool, a list)"
        )
    return text


def _bracket_depth(text: str) -> int:
    """How deep `[` and `{` nest in `text`, counted in one pass (quotes are not skipped).

    The YAML scanner's cost grows with the square of flow nesting, so it is measured before
    the scanner runs. Block nesting (indentation, `- - -`) is bounded by the YAML loader's
    depth check in policyfile.py; an unbalanced bracket inside a quoted string can only make
    this count higher, and 32 of them in one text do not happen by accident.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _block_depth(text: str) -> int:
    """How deep collections nest, from the parser's events, stopping past MAX_NESTING.

    The events come from a loop, not recursion (unlike composing the document), so a file
    nested 100,000 deep is measured without a RecursionError. Text that is not YAML counts
    as 0 here: the loader then reports it with its line.
    """
    return nesting_depth(text, MAX_NESTING)

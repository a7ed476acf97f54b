"""The vocabulary files: the words policybot ships with, and the words admins add.

The shipped words are `bot/domain/vocabulary.yaml` (package data, read once). Admins add words
in `vocabulary.yaml` in the policies folder: same sections, every one optional, lists added to
the shipped ones. `check_vocabulary` validates that file (one line per problem, with its line
number); `VocabularyFile.current` rereads it when it changed on disk, so a running bot picks up
a new phrasing like a policy change, and keeps the last good words when a change is broken.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node

from bot.adapters.files.policyfile import PolicyFileError, Problem
from bot.adapters.files.policytext import PolicyTextError, read_policy_text
from bot.adapters.files.yamlscan import compose
from bot.domain.vocabulary import Vocabulary, vocabulary_problems

__all__ = [
    "VOCABULARY_FILE",
    "VocabularyFile",
    "check_vocabulary",
    "read_vocabulary",
    "shipped_vocabulary",
]

log = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.yaml"  # its name in the policies folder
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def shipped_words() -> Mapping[str, Any]:
    """The words policybot ships with, as plain data."""
    text = resources.files("bot.domain").joinpath(VOCABULARY_FILE).read_text(encoding="utf-8")
    words = yaml.load(text, Loader=_LOADER)
    problems = vocabulary_problems(words)
    if problems:  # a mistake in policybot itself, not the admin's
        raise ValueError(f"bot/domain/{VOCABULARY_FILE}: {problems[0][1]}")
    return words  # type: ignore[no-any-return]


@cache
def shipped_vocabulary() -> Vocabulary:
    """The shipped words, compiled once."""
    return Vocabulary.build(shipped_words())


def read_vocabulary(path: Path) -> Mapping[str, Any]:
    """The admins' words in `path`, checked; PolicyFileError lists every problem, each with
    its line."""
    where = str(path)
    try:
        text = read_policy_text(path)
        root = compose(text)
    except PolicyTextError as error:  # too large, not UTF-8 or nested too deep
        raise PolicyFileError([Problem(where, 0, str(error))]) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise PolicyFileError([Problem(where, line, f"not valid YAML ({error.problem})")]) from None
    except YAMLError as error:
        raise PolicyFileError([Problem(where, 1, f"not valid YAML ({error})")]) from None
    if root is None:
        return {}
    words = yaml.load(text, Loader=_LOADER)
    problems = vocabulary_problems(words)
    if problems:
        raise PolicyFileError(
            Problem(where, _line_of(root, keys), sentence) for keys, sentence in problems
        )
    return words  # type: ignore[no-any-return]


def _line_of(root: Node, keys: tuple[str, ...]) -> int:
    """The line of the entry `keys` lead to (the deepest one found)."""
    line, node = int(root.start_mark.line) + 1, root
    for key in keys:
        if not isinstance(node, MappingNode):
            break
        found = next((kv for kv in node.value if str(kv[0].value) == key), None)
        if found is None:
            break
        line, node = int(found[0].start_mark.line) + 1, found[1]
    return line


def check_vocabulary(path: Path) -> int:
    """Check an admins' vocabulary file: the number of phrases it adds (PolicyFileError when
    it has problems)."""
    words = read_vocabulary(path)
    Vocabulary.build(shipped_words(), words)
    return _count_words(words)


def _count_words(value: Any) -> int:
    if isinstance(value, Mapping):
        return sum(
            _count_words(v) for k, v in value.items() if k not in ("days", "category", "stems")
        )
    if isinstance(value, list):
        return len(value)
    return 1 if isinstance(value, str) else 0


class VocabularyFile:
    """The shipped words plus the admins' `vocabulary.yaml` in a policies folder, rebuilt
    when the file changes on disk (its size and modification time)."""

    def __init__(self, folder: Path) -> None:
        self.path = (folder.parent if folder.is_file() else folder) / VOCABULARY_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._vocabulary = shipped_vocabulary()

    def _stamp_now(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Vocabulary:
        """The vocabulary as the file says now; the last good one while the file is broken."""
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return self._vocabulary
        with self._lock:
            if stamp != self._stamp:
                self._vocabulary = self._load(stamp)
                self._stamp = stamp
            return self._vocabulary

    def _load(self, stamp: tuple[int, int] | None) -> Vocabulary:
        if stamp is None:
            return shipped_vocabulary()
        try:
            words = read_vocabulary(self.path)
        except PolicyFileError as error:
            log.error(
                "%s was not loaded (%s); keeping the words in use: run `policybot check %s`",
                self.path,
                error.problems[0],
                self.path,
            )
            return self._vocabulary
        log.info("loaded %d phrases from %s", _count_words(words), self.path)
        return Vocabulary.build(shipped_words(), words)

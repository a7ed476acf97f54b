"""Policies as code: YAML files <-> ToolPolicy.

Reading checks everything and reports every problem at once, each with the file and the line
of the field at fault, sorted by file and line, so a bad file never half-applies. A file read
on its own inside a folder is checked against the whole folder (`check_path`).

Writing is a round trip (ruamel.yaml): each tool goes back into the file it came from, only the
values that changed are rewritten, and comments, key order, quoting and layout stay as they
were. New tools go into the file for their category, named as the folder names its files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process, utils
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from bot.adapters.files.policytext import PolicyTextError, read_policy_text
from bot.adapters.files.yamlscan import compose
from bot.domain.audiences import (
    disagreeing_rules,
    missing_languages,
    overlaps,
    rules_plain,
    translations_plain,
)
from bot.domain.names import name_key
from bot.domain.policy import (
    RULE_FIELDS,
    TRANSLATED,
    Audience,
    AudienceRule,
    DataClass,
    Status,
    ToolPolicy,
    Translation,
    audience_problem,
    given_problems,
    language_problem,
    parse_day,
)
from bot.domain.text import storable

KNOWN_KEYS = frozenset((*ToolPolicy.FIELDS, *ToolPolicy.SCOPED))
_RULE_KEYS = ("audience", *RULE_FIELDS, "translations")
# The file beside the policy files that names the audiences (not a file of tools).
AUDIENCES_FILE = "audiences.yaml"
_LIST_KEYS = ("aliases", "alternatives")
# Files of a policies folder that are not policy files: the admins' words (vocabularyfile.py).
NOT_POLICY_FILES = frozenset({"vocabulary.yaml", "vocabulary.yml"})
_NULLS = ("", "~", "null", "Null", "NULL")
# Where a folded (`>-`) text is wrapped when the bot rewrites it, as people wrap them.
_FOLD_WIDTH = 88


# -- problems -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a policy file: where it is and what is wrong (`field: sentence`)."""

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}" if self.line else f"{self.file}: {self.text}"


_PROBLEM = re.compile(r"^(.*?):(\d+): (.*)$", re.DOTALL)


def _as_problem(problem: Problem | str) -> Problem:
    if isinstance(problem, Problem):
        return problem
    found = _PROBLEM.match(problem)
    if found:
        return Problem(found.group(1), int(found.group(2)), found.group(3))
    return Problem(problem, 0, "")


class PolicyFileError(ValueError):
    """One or more problems in policy files, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        ordered = sorted(_as_problem(p) for p in problems)
        self.problems = [str(p) if p.text else p.file for p in ordered]
        super().__init__("\n".join(self.problems))


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """A policy and where it was written, so later checks can point at the field's line."""

    policy: ToolPolicy
    path: Path
    line: int
    lines: Mapping[str, int] = field(default_factory=dict)
    # The line of each alias and alternative, in the order of the policy's tuples.
    item_lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def line_of(self, key: str, index: int | None = None) -> int:
        if index is not None and index < len(self.item_lines.get(key, ())):
            return self.item_lines[key][index]
        return self.lines.get(key, self.line)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def policy_files(path: Path) -> list[Path]:
    """The files of tools in a folder (not its audiences.yaml), or the one file given."""
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.suffix in (".yaml", ".yml")
            and p.is_file()
            and p.name not in NOT_POLICY_FILES
            and not _is_audiences(p)
        )
    if path.is_file():
        return [path]
    raise PolicyFileError([f"{path}: no such file or folder"])


def _is_audiences(path: Path) -> bool:
    return path.stem == Path(AUDIENCES_FILE).stem


def audiences_file(path: Path) -> Path | None:
    """The audiences file of a policies folder (or beside a policy file), if there is one."""
    folder = path if path.is_dir() else path.parent
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{Path(AUDIENCES_FILE).stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_audiences(path: Path) -> list[Audience]:
    """The audiences of a policies folder's audiences.yaml (none without one), checked;
    PolicyFileError lists every problem."""
    file = path if path.is_file() and _is_audiences(path) else audiences_file(path)
    if file is None:
        return []
    where = str(file)
    problems: list[Problem] = []
    try:
        root = _compose(read_policy_text(file))
    except (PolicyTextError, YAMLError) as error:
        raise PolicyFileError([f"{where}: {error}"]) from None
    entries = None
    if isinstance(root, MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "audiences":
                entries = value_node
            else:
                line = key_node.start_mark.line + 1
                problems.append(
                    Problem(where, line, f"{key_node.value}: unknown key; use `audiences:`")
                )
    if root is not None and not isinstance(entries, SequenceNode):
        problems.append(Problem(where, 1, "audiences: expected a list under `audiences:`"))
        raise PolicyFileError(problems)
    found: list[Audience] = []
    seen: dict[str, int] = {}
    for item in entries.value if isinstance(entries, SequenceNode) else ():
        audience = _audience(item, where, problems)
        if audience is None:
            continue
        line = item.start_mark.line + 1
        if audience.name in seen:
            problems.append(
                Problem(where, line, f"name: '{audience.name}' also at line {seen[audience.name]}")
            )
            continue
        seen[audience.name] = line
        found.append(audience)
    if problems:
        raise PolicyFileError(problems)
    return found


def load_audiences(path: Path) -> tuple[Audience, ...] | None:
    """The audiences for importing `path`: None when there is no audiences file (the
    registry keeps its own), else the file's, checked."""
    return None if audiences_file(path) is None else tuple(read_audiences(path))


_AUDIENCE_KEYS = ("name", "title", "slack_usergroup", "members", "translations")


def _audience(node: Node, where: str, problems: list[Problem]) -> Audience | None:
    line = node.start_mark.line + 1
    if not isinstance(node, MappingNode):
        problems.append(Problem(where, line, "expected an audience (name: …, title: …)"))
        return None
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        try:
            if key == "members":
                values[key] = tuple(text.strip() for text, _ in _list(value_node))
            elif key == "translations":
                titles = []
                if not isinstance(value_node, MappingNode):
                    raise ValueError("expected languages, each with its title (zh: {title: …})")
                for language_node, texts in value_node.value:
                    title = None
                    if isinstance(texts, MappingNode):
                        title = next(
                            (_scalar(v) for k, v in texts.value if k.value == "title"), None
                        )
                    if not title:
                        raise ValueError(f"{language_node.value}: expected {{title: …}}")
                    titles.append((str(language_node.value), title.strip()))
                values["titles"] = tuple(sorted(titles))
            elif key in _AUDIENCE_KEYS:
                text = _scalar(value_node)
                values[key] = text.strip() if text else None
            else:
                choices = ", ".join(_AUDIENCE_KEYS)
                problems.append(Problem(where, key_line, f"{key}: unknown key; use {choices}"))
        except ValueError as error:
            problems.append(Problem(where, key_line, f"{key}: {error}"))
    name = values.get("name")
    if not name:
        problems.append(Problem(where, line, "name: missing"))
        return None
    problem = audience_problem(name)
    if problem:
        problems.append(Problem(where, line, f"name: {problem}"))
        return None
    if not values.get("slack_usergroup") and not values.get("members"):
        problems.append(
            Problem(where, line, f"{name}: give its slack_usergroup, its members, or both")
        )
    return Audience(
        name,
        values.get("title") or name,
        (values.get("slack_usergroup") or "").lstrip("@") or None,
        values.get("members") or (),
        values.get("titles") or (),
    )


def _scalar(node: Node) -> str | None:
    """The raw text of a scalar, None for null; dates stay text so we parse them ourselves."""
    if not isinstance(node, ScalarNode):
        raise ValueError("expected a single value")
    if node.style is None and node.value in _NULLS:
        return None
    # ruamel marks where a folded (`>`) text was folded with \a; the text has no such mark.
    text = str(node.value).replace("\a", "") if node.style == ">" else str(node.value)
    return storable(text)  # a "\0" or "\ud800" escape would fail in the database


def _list(node: Node) -> list[tuple[str, int]]:
    """The items of a list (or of a single value), each with its line."""
    if isinstance(node, ScalarNode):
        value = _scalar(node)
        return [] if value is None else [(value, node.start_mark.line + 1)]
    if isinstance(node, SequenceNode):
        items = [(_scalar(item), item.start_mark.line + 1) for item in node.value]
        return [(text, line) for text, line in items if text]
    raise ValueError("expected a list such as [a, b]")


def _date(text: str) -> dt.date:
    return parse_day(text)


def _convert(key: str, text: str | None) -> Any:
    if text is None:
        return None
    if key == "status":
        return Status.parse(text)
    if key == "max_data":
        return DataClass.parse(text)
    if key == "effective":
        return _date(text)
    return text


def _entry(node: MappingNode, file: str, problems: list[Problem]) -> Located | None:
    raw: dict[str, tuple[Node, int]] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key not in KNOWN_KEYS:
            choices = ", ".join((*ToolPolicy.FIELDS, *ToolPolicy.SCOPED))
            problems.append(Problem(file, line, f"{key}: unknown key; use {choices}"))
            continue
        if key in raw:
            first = raw[key][1]
            problems.append(Problem(file, line, f"{key}: given twice (also at line {first})"))
            continue
        raw[key] = (value_node, line)
    entry_line = node.start_mark.line + 1
    values: dict[str, Any] = {}
    item_lines: dict[str, tuple[int, ...]] = {}
    failed: set[str] = set()
    for key, (value_node, line) in raw.items():
        try:
            if key == "rules":
                values[key] = _rules(value_node, file, problems)
            elif key == "translations":
                values[key] = _translations(value_node, file, problems)
            elif key in _LIST_KEYS:
                items = _list(value_node)
                values[key] = tuple(text for text, _ in items)
                item_lines[key] = tuple(item_line for _, item_line in items)
            else:
                text = _scalar(value_node)
                values[key] = _convert(key, text.strip() if text is not None else None)
        except ValueError as error:
            failed.add(key)
            problems.append(Problem(file, line, f"{key}: {error}"))
    for required in ("name", "status"):
        if values.get(required) is None and required not in failed:
            where = raw[required][1] if required in raw else entry_line
            problems.append(Problem(file, where, f"{required}: missing"))
    if values.get("name") is None:
        return None
    lines = {key: line for key, (_node, line) in raw.items()}
    if values.get("status") is None:
        # Reported above; the entry is still read so that its alternatives and names are
        # checked in the same run (every problem at once, not in passes).
        values["status"] = Status.UNDER_REVIEW
    policy = ToolPolicy(**values)
    for key, sentence in given_problems(policy):
        problems.append(Problem(file, lines.get(key, entry_line), f"{key}: {sentence}"))
    return Located(policy, Path(file), entry_line, lines, item_lines)


def _translations(node: Node, file: str, problems: list[Problem]) -> tuple[Translation, ...]:
    """`translations: {zh: {reason: …, conditions: …}}`: each language's texts."""
    if isinstance(node, ScalarNode) and _scalar(node) is None:
        return ()
    if not isinstance(node, MappingNode):
        raise ValueError("expected languages, each with its texts (zh: {reason: …})")
    found: list[Translation] = []
    for language_node, texts_node in node.value:
        language = str(language_node.value)
        line = language_node.start_mark.line + 1
        problem = language_problem(language)
        if problem:
            problems.append(Problem(file, line, f"translations: {problem}"))
            continue
        if not isinstance(texts_node, MappingNode):
            problems.append(Problem(file, line, f"translations: {language}: expected texts"))
            continue
        texts: dict[str, str | None] = {}
        for key_node, value_node in texts_node.value:
            key = str(key_node.value)
            if key not in TRANSLATED:
                where = key_node.start_mark.line + 1
                choices = ", ".join(TRANSLATED)
                problems.append(
                    Problem(file, where, f"translations: {language}: {key}: unknown; use {choices}")
                )
                continue
            text = _scalar(value_node)
            texts[key] = text.strip() if text is not None else None
        found.append(Translation(language, **texts))
    return tuple(found)


def _rules(node: Node, file: str, problems: list[Problem]) -> tuple[AudienceRule, ...]:
    """`rules:` a list of {audience: name, field: value…}: the policy for each audience."""
    if isinstance(node, ScalarNode) and _scalar(node) is None:
        return ()
    if not isinstance(node, SequenceNode):
        raise ValueError("expected a list of rules, each with its audience")
    found: list[AudienceRule] = []
    for item in node.value:
        item_line = item.start_mark.line + 1
        if not isinstance(item, MappingNode):
            problems.append(Problem(file, item_line, "rules: expected a rule (audience: …)"))
            continue
        values: dict[str, Any] = {}
        for key_node, value_node in item.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key not in _RULE_KEYS:
                choices = ", ".join(_RULE_KEYS)
                problems.append(Problem(file, line, f"rules: {key}: unknown key; use {choices}"))
                continue
            try:
                if key == "translations":
                    values[key] = _translations(value_node, file, problems)
                elif key == "alternatives":
                    values[key] = tuple(text for text, _ in _list(value_node))
                else:
                    text = _scalar(value_node)
                    values[key] = _convert(key, text.strip() if text is not None else None)
            except ValueError as error:
                problems.append(Problem(file, line, f"rules: {key}: {error}"))
        audience = values.get("audience")
        if not audience:
            problems.append(Problem(file, item_line, "rules: audience: missing"))
            continue
        problem = audience_problem(audience)
        if problem:
            problems.append(Problem(file, item_line, f"rules: {problem}"))
            continue
        found.append(AudienceRule(**values))
    return tuple(found)


def _compose(text: str) -> Node | None:
    return compose(text)


def _read_file(file: Path, problems: list[Problem]) -> list[Located]:
    where = str(file)
    try:
        root = _compose(read_policy_text(file))
    except PolicyTextError as error:  # too large, not UTF-8 or nested too deep
        problems.append(Problem(where, 0, str(error)))
        return []
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(where, line, f"not valid YAML ({error.problem or error})"))
        return []
    except YAMLError as error:
        problems.append(Problem(where, 1, f"not valid YAML ({error})"))
        return []
    if root is None:
        return []
    tools = None
    if isinstance(root, MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "tools":
                tools = value_node
            else:
                problems.append(
                    Problem(
                        where,
                        key_node.start_mark.line + 1,
                        f"{key_node.value}: unknown key; a policy file holds only `tools:`",
                    )
                )
    if not isinstance(tools, SequenceNode):
        problems.append(Problem(where, 1, "tools: expected a list of tools under `tools:`"))
        return []
    located: list[Located] = []
    for item in tools.value:
        if not isinstance(item, MappingNode):
            problems.append(Problem(where, item.start_mark.line + 1, "expected a tool entry"))
            continue
        entry = _entry(item, where, problems)
        if entry is not None:
            located.append(entry)
    return located


def _duplicates(located: Sequence[Located], targets: set[Path]) -> list[Problem]:
    """Names and aliases unique across all files; each problem names both places.

    The problem is reported at the place in `targets` (the files being checked), so that
    checking a copied file blames the copy, naming the original.
    """
    problems: list[Problem] = []
    # key -> (tool, field, line, spelling) of the first place that uses it
    owners: dict[str, tuple[Located, str, int, str]] = {}
    for item in located:
        seen_here: set[str] = set()
        places = [("name", item.line_of("name"), item.policy.name)] + [
            ("aliases", item.line_of("aliases", index), alias)
            for index, alias in enumerate(item.policy.aliases)
        ]
        for key_field, line, text in places:
            key = name_key(text)
            if key in seen_here and key_field == "aliases" and key == name_key(item.policy.name):
                continue  # "claude-code" spells Claude Code's own name: harmless
            if key in seen_here:
                continue  # an alias spelling the tool's own name (or another alias): harmless
            seen_here.add(key)
            first = owners.get(key)
            if first is None:
                owners[key] = (item, key_field, line, text)
                continue
            here = (item, key_field, line, text)
            if item.path not in targets:
                if first[0].path not in targets:
                    continue
                here, first = first, here
            at, at_field, at_line, spelled = here
            other, _field, other_line, _text = first
            problems.append(
                Problem(
                    str(at.path),
                    at_line,
                    f"{at_field}: '{spelled}' already names '{other.policy.name}' "
                    f"at {other.path}:{other_line}",
                )
            )
    return problems


def _references(located: Iterable[Located], known: Iterable[Located]) -> list[Problem]:
    """Alternatives that name no tool among `known` (by name or alias), with the closest name."""
    names = [n for item in known for n in (item.policy.name, *item.policy.aliases)]
    return unknown_alternatives(located, names, "the policy files")


def unknown_alternatives(
    located: Iterable[Located], names: Iterable[str], where: str = "the registry"
) -> list[Problem]:
    """Alternatives that are none of `names` (names and aliases), each at its own line."""
    known = {name_key(n): n for n in names}
    problems: list[Problem] = []
    for item in located:
        for index, alternative in enumerate(item.policy.alternatives):
            if name_key(alternative) in known:
                continue
            close = process.extractOne(
                alternative,
                list(known.values()),
                scorer=fuzz.ratio,
                processor=utils.default_process,
                score_cutoff=75,
            )
            hint = f": did you mean '{close[0]}'?" if close else ""
            problems.append(
                Problem(
                    str(item.path),
                    item.line_of("alternatives", index),
                    f"alternatives: '{alternative}' is not a tool in {where}{hint}",
                )
            )
    return problems


def read_located(path: Path, problems: list[Problem] | None = None) -> list[Located]:
    """Every tool in a file or folder, checked; PolicyFileError lists every problem found,
    or, given a `problems` list, they are added to it for the caller to report with its own."""
    found: list[Problem] = []
    files = policy_files(path)
    located = [item for file in files for item in _read_file(file, found)]
    found.extend(_duplicates(located, set(files)))
    if problems is not None:
        problems.extend(found)
    elif found:
        raise PolicyFileError(found)
    return located


@dataclass(frozen=True)
class CheckResult:
    """What `check` read: the tools of the files asked for and the folder they were read in."""

    located: list[Located]
    context: list[Path]
    # Worth a look, not wrong: rules that disagree for audiences known to overlap, tools
    # whose texts lack a language other tools have.
    notes: list[str] = field(default_factory=list)
    audiences: list[Audience] = field(default_factory=list)


def _audience_problems(located: Iterable[Located], audiences: Sequence[Audience]) -> list[Problem]:
    """Rules naming an audience that audiences.yaml does not define."""
    known = {a.name for a in audiences}
    problems = []
    for item in located:
        for rule in item.policy.rules:
            if rule.audience not in known:
                problems.append(
                    Problem(
                        str(item.path),
                        item.line_of("rules"),
                        f"rules: '{rule.audience}' is not an audience in audiences.yaml",
                    )
                )
    return problems


def audience_notes(policies: Sequence[ToolPolicy], audiences: Sequence[Audience]) -> list[str]:
    """What `check` reports beside problems: overlapping disagreeing rules, missing texts."""
    notes = []
    shared = overlaps(audiences)
    for policy in policies:
        for first, second in disagreeing_rules(policy, shared):
            notes.append(
                f"{policy.name}: a person in both '{first.audience}' and '{second.audience}' "
                f"gets the rule for '{first.audience}' (the first); the two rules disagree"
            )
    lacking: dict[str, list[str]] = {}
    for tool, languages in missing_languages(policies).items():
        for language in languages:
            lacking.setdefault(language, []).append(tool)
    for language, tools in sorted(lacking.items()):
        notes.append(
            f"{len(tools)} tool(s) have no {language} text for their reason or conditions "
            f"(other tools have one): {', '.join(tools)}"
        )
    return notes


def check_path(path: Path) -> CheckResult:
    """Check a file or folder; a file inside a folder of policy files is checked against that
    folder: its alternatives may name tools in the other files, and a name or alias another
    file already uses is a duplicate. Problems are reported only in the files asked for."""
    targets = policy_files(path)
    context: list[Path] = []
    if path.is_file():
        context = [f for f in policy_files(path.parent) if f.resolve() != path.resolve()]
    problems: list[Problem] = []
    located = [item for file in targets for item in _read_file(file, problems)]
    ignored: list[Problem] = []
    around = [item for file in context for item in _read_file(file, ignored)]
    # One order for "first": the files as the folder sorts them, whichever was asked for.
    everything = sorted([*located, *around], key=lambda item: (str(item.path.resolve()), item.line))
    problems.extend(_duplicates(everything, set(targets)))
    problems.extend(_references(located, everything))
    try:
        audiences = read_audiences(path)
    except PolicyFileError as error:
        problems.extend(_as_problem(p) for p in error.problems)
        audiences = []
    problems.extend(_audience_problems(located, audiences))
    if problems:
        raise PolicyFileError(problems)
    notes = audience_notes([item.policy for item in located], audiences)
    return CheckResult(located, context, notes, audiences)


def load_policies(path: Path | str, *, standalone: bool = True) -> list[ToolPolicy]:
    """The tools in `path`; with `standalone`, alternatives must be tools in the same files."""
    located = read_located(Path(path))
    if standalone:
        problems = _references(located, located)
        if problems:
            raise PolicyFileError(problems)
    return [item.policy for item in located]


# -- writing --------------------------------------------------------------------------------


# Words a YAML 1.1 reader (PyYAML, many tools) loads as a boolean or null: `name: yes` is
# True there, though YAML 1.2 (and policybot) reads the text "yes". Written quoted.
_YAML11_WORDS = re.compile(
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL"
)


class _Emitter(Emitter):
    """Quotes a value that needs quoting with double quotes, as people write `"#channel"`;
    a value the file already quotes keeps its own quotes; a word YAML 1.1 reads as a boolean
    or null is quoted."""

    def choose_scalar_style(self) -> Any:
        style = super().choose_scalar_style()
        if style == "'" and self.event.style != "'":
            return '"'
        value = getattr(self.event, "value", None)
        tag = getattr(self.event, "tag", None)
        if (
            not style
            and isinstance(value, str)
            and _YAML11_WORDS.fullmatch(value)
            and str(getattr(tag, "value", tag)) == _STR_TAG
        ):
            return '"'
        return style


class _Representer(RoundTripRepresenter):
    """Writes null the way the file already does (`null`, `~` or nothing)."""

    null_text = "null"

    def represent_none(self, data: Any) -> Any:
        return self.represent_scalar("tag:yaml.org,2002:null", self.null_text)


_Representer.add_representer(type(None), _Representer.represent_none)


class _Constructor(RoundTripConstructor):
    """Keeps a date that does not exist as text, so a file with one can still be rewritten."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _yaml(null_text: str = "null") -> YAML:
    yaml = YAML(typ="rt")
    yaml.Emitter = _Emitter
    yaml.Representer = _Representer
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = True
    yaml.width = 4096  # never rewrap a line the file already has
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.null_text = null_text
    return yaml


@dataclass
class _Document:
    """One policy file as ruamel holds it, with what we need to write it back the same way."""

    path: Path
    text: str
    data: Any
    tools: CommentedSeq
    null_text: str = "null"
    blank_between: bool = True
    full_entries: bool = True

    def dump(self) -> str:
        out = io.StringIO()
        _yaml(self.null_text).dump(self.data, out)
        return out.getvalue()


def _load_document(path: Path) -> _Document:
    try:
        text = read_policy_text(path) if path.exists() else ""
    except PolicyTextError as error:
        raise PolicyFileError([f"{path}: {error}"]) from None
    try:
        data = _yaml().load(text) if text.strip() else None
        root = _compose(text) if text.strip() else None
    except YAMLError as error:
        raise PolicyFileError(
            [f"{path}: not valid YAML, so it cannot be written back into ({error})"]
        ) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise PolicyFileError([f"{path}: not a policy file (no `tools:`), so not written"])
    tools = data.get("tools")
    if tools is None:
        tools = CommentedSeq()
        data["tools"] = tools
    if not isinstance(tools, CommentedSeq):
        raise PolicyFileError([f"{path}: `tools:` is not a list, so the file is not written"])
    document = _Document(path, text, data, tools)
    _learn_layout(document, root)
    return document


def _learn_layout(document: _Document, root: Node | None) -> None:
    """How this file writes null, whether it keeps empty fields, and blank lines between tools."""
    nulls: Counter[str] = Counter()
    if isinstance(root, MappingNode):
        for key_node, value_node in root.value:
            if key_node.value != "tools" or not isinstance(value_node, SequenceNode):
                continue
            for entry in value_node.value:
                if not isinstance(entry, MappingNode):
                    continue
                for _key, value in entry.value:
                    plain = isinstance(value, ScalarNode) and value.style is None
                    if plain and value.value in _NULLS:
                        nulls[value.value] += 1
    if nulls:
        document.null_text = nulls.most_common(1)[0][0]
    document.full_entries = not document.tools or bool(nulls)
    lines = document.text.splitlines()
    if len(document.tools) >= 2:
        second = document.tools[1].lc.line if hasattr(document.tools[1], "lc") else 0
        document.blank_between = second > 0 and not lines[second - 1].strip()


def _plain(value: Any) -> str | None:
    """A file's value as text, as the reader would see it."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _same(key: str, old: Any, new: Any) -> bool:
    """Whether the file's value `old` already says `new` (a ToolPolicy field value)."""
    if key in _LIST_KEYS:
        if old is None:
            items: list[str] = []
        elif isinstance(old, list):
            items = [text for text in (_plain(item) for item in old) if text]
        else:
            items = [text for text in [_plain(old)] if text]
        return tuple(items) == tuple(new)
    if isinstance(old, list | dict):
        return False
    try:
        return bool(_convert(key, _plain(old)) == new)
    except ValueError:
        return False


def _folded(text: str) -> FoldedScalarString:
    """A folded (`>-`) text wrapped at about _FOLD_WIDTH characters, at spaces."""
    result: FoldedScalarString = FoldedScalarString(text)
    positions: list[int] = []
    start = 0
    while len(text) - start > _FOLD_WIDTH:
        cut = text.rfind(" ", start, start + _FOLD_WIDTH)
        if cut <= start:
            break
        positions.append(cut)
        start = cut + 1
    result.fold_pos = positions  # type: ignore[attr-defined]
    return result


def _styled(key: str, new: Any, old: Any = None) -> Any:
    """`new` as the file should hold it, keeping the style of the value it replaces."""
    if key in _LIST_KEYS:
        if not new:
            return None
        if isinstance(old, CommentedSeq):
            old[:] = list(new)
            return old
        seq = CommentedSeq(list(new))
        seq.fa.set_flow_style()
        return seq
    if new is None:
        return None
    if isinstance(new, Status | DataClass):
        new = new.value
    if isinstance(new, str):
        if isinstance(old, FoldedScalarString):
            return _folded(new)
        for style in (LiteralScalarString, DoubleQuotedScalarString, SingleQuotedScalarString):
            if isinstance(old, style):
                return style(new)
    return new


def _yaml_value(policy: ToolPolicy, key: str) -> Any:
    return getattr(policy, key)


def _is_empty(value: Any) -> bool:
    return value is None or value == ()


def _scoped_plain(key: str, policy: ToolPolicy) -> Any:
    """A policy's rules or translations as the file would hold them (plain values)."""
    if key == "rules":
        return rules_plain(policy.rules)
    return translations_plain(policy.translations)


def _file_plain(value: Any) -> Any:
    """A file's nested value as plain lists, dicts and text, for comparing."""
    if isinstance(value, dict):
        return {str(k): _file_plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_file_plain(v) for v in value]
    return _plain(value)


def _scoped_yaml(value: Any) -> Any:
    """Plain rules or translations as block-style YAML (a new or rewritten value)."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[key] = _scoped_yaml(item)
        return mapping
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return CommentedSeq([_scoped_yaml(item) for item in value])
    if isinstance(value, list):
        seq = CommentedSeq(value)
        seq.fa.set_flow_style()
        return seq
    return value


def _update_scoped(entry: CommentedMap, policy: ToolPolicy) -> None:
    """Rules and translations: left as written when the same, rewritten when not, dropped
    when none (a file without them gets no empty key)."""
    for key in ToolPolicy.SCOPED:
        new = _scoped_plain(key, policy)
        if key in entry and not new:
            with _trailing_kept(entry):
                del entry[key]
        elif new and (key not in entry or _file_plain(entry[key]) != new):
            with _trailing_kept(entry):
                entry[key] = _scoped_yaml(new)


@contextlib.contextmanager
def _trailing_kept(entry: CommentedMap) -> Iterator[None]:
    """Keep what follows an entry's last value (the blank line before the next tool) at the
    end of the entry when its last keys change."""
    if not entry:
        yield
        return
    last = _deepest_last(entry)
    slot = last.ca.items.get(list(last.keys())[-1])
    trailing = slot[2] if slot else None
    if slot is not None:
        slot[2] = None
    yield
    if trailing is not None and entry:
        last = _deepest_last(entry)
        last.ca.items.setdefault(list(last.keys())[-1], [None, None, None, None])[2] = trailing


def _update_entry(entry: CommentedMap, policy: ToolPolicy, full: bool) -> None:
    """Rewrite only the values of `entry` that differ from `policy`; keys keep their order."""
    _update_scoped(entry, policy)
    for index, key in enumerate(ToolPolicy.FIELDS):
        new = _yaml_value(policy, key)
        if key in entry:
            if not _same(key, entry[key], new):
                entry[key] = _styled(key, new, entry[key])
            continue
        if _is_empty(new) and not full:
            continue
        # After the nearest field that comes before it in the usual order.
        earlier = [k for k in ToolPolicy.FIELDS[:index] if k in entry]
        position = list(entry.keys()).index(earlier[-1]) + 1 if earlier else 0
        entry.insert(position, key, _styled(key, new))


def _new_entry(policy: ToolPolicy, full: bool) -> CommentedMap:
    entry = CommentedMap()
    for key in ToolPolicy.FIELDS:
        value = _yaml_value(policy, key)
        if full or not _is_empty(value):
            entry[key] = _styled(key, value)
    _update_scoped(entry, policy)
    return entry


def _append(document: _Document, entry: CommentedMap) -> None:
    tools = document.tools
    if tools and document.blank_between and isinstance(tools[-1], CommentedMap) and tools[-1]:
        last = _deepest_last(tools[-1])
        last_key = list(last.keys())[-1]
        slot = last.ca.items.setdefault(last_key, [None, None, None, None])
        if slot[2] is None:  # a comment after the last value already ends in its own lines
            slot[2] = CommentToken("\n\n", CommentMark(0), None)
    tools.append(entry)


def _deepest_last(entry: CommentedMap) -> CommentedMap:
    """The mapping whose last value ends `entry` in the file (rules and translations nest)."""
    while True:
        value = entry[list(entry.keys())[-1]]
        if isinstance(value, CommentedSeq) and value and isinstance(value[-1], CommentedMap):
            value = value[-1]
        if not isinstance(value, CommentedMap) or not value:
            return entry
        entry = value


def _remove(document: _Document, entry: Any) -> None:
    tools = document.tools
    index = next(i for i, item in enumerate(tools) if item is entry)
    del tools[index]
    if index == len(tools) and tools and isinstance(tools[-1], CommentedMap) and tools[-1]:
        # The new last tool keeps no blank line after it at the end of the file.
        last = _deepest_last(tools[-1])
        slot = last.ca.items.get(list(last.keys())[-1])
        if slot and slot[2] is not None and not slot[2].value.strip():
            slot[2] = None


def _entry_keys(entry: Any) -> set[str]:
    if not isinstance(entry, CommentedMap):
        return set()
    texts = [entry.get("name")]
    aliases = entry.get("aliases")
    texts.extend(aliases if isinstance(aliases, list) else [aliases])
    return {name_key(str(t)) for t in texts if t is not None and str(t).strip()}


def _file_stem(category: str, plural: bool) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", category.casefold()).strip("-")
    if not slug:
        return "uncategorised"  # a file of tools without a category, never "uncategoriseds"
    return f"{slug}s" if plural and not slug.endswith("s") else slug


def _category_files(documents: Sequence[_Document]) -> tuple[dict[str, Path], bool]:
    """The file for each category (where most of its tools are), and whether the folder
    names its files in the plural (`coding-assistants.yaml` for `coding-assistant`)."""
    counts: dict[str, Counter[Path]] = {}
    plural = False
    for document in documents:
        for entry in document.tools:
            if isinstance(entry, CommentedMap) and entry.get("category"):
                category = str(entry["category"]).strip()
                counts.setdefault(category, Counter())[document.path] += 1
                if document.path.stem == _file_stem(category, True) != _file_stem(category, False):
                    plural = True
    return {c: files.most_common(1)[0][0] for c, files in counts.items()}, plural


@dataclass
class WriteReport:
    """Which files `write_policies` changed and which it left as they were."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def _place(documents: list[_Document], policies: Sequence[ToolPolicy]) -> list[ToolPolicy]:
    """Update each tool where a file already has it, drop entries the registry no longer
    has; returns the tools no file holds yet."""
    by_key = {name_key(p.name): p for p in policies}
    placed: set[str] = set()
    unmatched: list[tuple[_Document, CommentedMap]] = []
    for document in documents:
        for entry in list(document.tools):
            key = name_key(str(entry.get("name") or "")) if isinstance(entry, CommentedMap) else ""
            if key in by_key and key not in placed:
                placed.add(key)
                _update_entry(entry, by_key[key], document.full_entries)
            else:
                unmatched.append((document, entry))
    for document, entry in unmatched:
        # A tool renamed since the file was written: its old name or an alias still matches.
        keys = _entry_keys(entry)
        match = next(
            (
                key
                for key, policy in by_key.items()
                if key not in placed
                and keys & {name_key(n) for n in (policy.name, *policy.aliases)}
            ),
            None,
        )
        if match is not None and isinstance(entry, CommentedMap):
            placed.add(match)
            _update_entry(entry, by_key[match], document.full_entries)
        else:
            _remove(document, entry)
    return [p for key, p in by_key.items() if key not in placed]


def write_policies(
    policies: Iterable[ToolPolicy], path: Path, *, folder: bool | None = None
) -> WriteReport:
    """Write `policies` into a file, or into a folder of files (`folder`, or an existing one).

    Tools already in the files are rewritten in place (only their changed values); tools no
    longer in `policies` are taken out; new ones go into the file for their category.
    """
    items = list(policies)
    as_folder = path.is_dir() if folder is None else folder
    if as_folder:
        path.mkdir(parents=True, exist_ok=True)
        documents = [_load_document(p) for p in policy_files(path)]
    else:
        documents = [_load_document(path)]
    new = _place(documents, items)
    if as_folder:
        files, plural = _category_files(documents)
        by_path = {d.path: d for d in documents}
        for policy in new:
            category = (policy.category or "").strip()
            target = files.get(category) or path / f"{_file_stem(category, plural)}.yaml"
            if target not in by_path:
                by_path[target] = _load_document(target)
                documents.append(by_path[target])
                files[category] = target
            document = by_path[target]
            _append(document, _new_entry(policy, document.full_entries))
    else:
        for policy in new:
            _append(documents[0], _new_entry(policy, documents[0].full_entries))
    report = WriteReport()
    for document in sorted(documents, key=lambda d: d.path):
        text = document.dump()
        if text == document.text:
            report.unchanged.append(document.path)
        else:
            document.path.write_text(text, encoding="utf-8")
            report.written.append(document.path)
    return report


def dump_policies(policies: Iterable[ToolPolicy]) -> str:
    """The YAML text for `policies` as one new file, in the format `read_located` reads.

    The same text a round trip into a new file writes (`write_policies`), made line by line:
    ruamel's emitter is pure Python and took about 2 ms a tool, 20 s or more for 10,000.
    Each value is styled as that emitter styles it (see `_ScalarStyle`).
    """
    style = _ScalarStyle()
    entries = [_entry_text(policy, style) for policy in policies]
    return "tools:\n" + "\n".join(entries) if entries else "tools: []\n"


def _entry_text(policy: ToolPolicy, style: _ScalarStyle) -> str:
    """One tool as a full entry of the tools list (every field, null where empty)."""
    lines = []
    for index, key in enumerate(ToolPolicy.FIELDS):
        value = getattr(policy, key)
        if isinstance(value, tuple | list):
            text = "[" + ", ".join(style.text(str(v), flow=True) for v in value) + "]"
            text = text if value else "null"
        elif isinstance(value, dt.date):
            text = value.isoformat()
        elif value is None:
            text = "null"
        else:
            text = style.text(str(value), flow=False)
        lines.append(f"{'  - ' if index == 0 else '    '}{key}: {text}\n")
    for key in ToolPolicy.SCOPED:
        value = _scoped_plain(key, policy)
        if value:
            lines.append(f"    {key}:\n")
            lines.extend(_block_lines(value, "      ", style))
    return "".join(lines)


def _block_lines(value: Any, indent: str, style: _ScalarStyle) -> list[str]:
    """Plain rules or translations as block YAML lines, as ruamel writes them."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines.extend(_block_item(key, item, indent, style))
        return lines
    for rule in value:
        first = True
        for key, item in rule.items():
            lead = f"{indent}- " if first else f"{indent}  "
            first = False
            block = _block_item(key, item, f"{indent}  ", style)
            lines.append(lead + block[0][len(indent) + 2 :])
            lines.extend(block[1:])
    return lines


def _block_item(key: str, item: Any, indent: str, style: _ScalarStyle) -> list[str]:
    if isinstance(item, dict):
        return [f"{indent}{key}:\n", *_block_lines(item, indent + "  ", style)]
    if isinstance(item, list):
        text = "[" + ", ".join(style.text(str(v), flow=True) for v in item) + "]"
        return [f"{indent}{key}: {text}\n"]
    return [f"{indent}{key}: {style.text(str(item), flow=False)}\n"]


# What YAML's double quotes must escape: quote, backslash, line and paragraph separators,
# the byte-order mark, and anything not printable (as ruamel writes them).
_UNQUOTABLE = re.compile(
    r'["\\\x85\u2028\u2029\ufeff]|[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]'
)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in Emitter.ESCAPE_REPLACEMENTS:
        return "\\" + Emitter.ESCAPE_REPLACEMENTS[char]
    code = ord(char)
    return (
        f"\\x{code:02X}"
        if code <= 0xFF
        else f"\\u{code:04X}"
        if code <= 0xFFFF
        else f"\\U{code:08X}"
    )


class _ScalarStyle:
    """Plain where ruamel's analysis allows it and its resolver reads the text back as that
    text (not a null, a date, a number), double-quoted otherwise: what `_Emitter` chooses.
    Asked once per distinct value and kept; one per dump (ruamel's objects are not shared)."""

    def __init__(self) -> None:
        yaml = _yaml()
        self._analyse = yaml.emitter.analyze_scalar
        self._resolve = yaml.resolver.resolve
        self._known: dict[tuple[str, bool], str] = {}

    def text(self, value: str, *, flow: bool) -> str:
        known = self._known.get((value, flow))
        if known is None:
            analysis = self._analyse(value)
            plain = analysis.allow_flow_plain if flow else analysis.allow_block_plain
            as_text = str(self._resolve(ScalarNode, value, (True, False))) == _STR_TAG
            as_text = as_text and not _YAML11_WORDS.fullmatch(value)
            known = (
                value if plain and as_text and value else f'"{_UNQUOTABLE.sub(_escaped, value)}"'
            )
            self._known[(value, flow)] = known
        return known


_STR_TAG = "tag:yaml.org,2002:str"

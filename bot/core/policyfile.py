"""Policies as code: YAML files <-> ToolPolicy, validated with file, line and field in errors.

The format is a mapping with one key, `tools`, holding a list of tool entries; a folder is
read file by file (`*.yaml`, `*.yml`, sorted). Reading checks everything and reports every
problem at once, so a bad file never half-applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.names import name_key
from bot.core.policy import DataClass, Status, ToolPolicy

KNOWN_KEYS = frozenset(ToolPolicy.FIELDS)
_LIST_KEYS = ("aliases", "alternatives")


class PolicyFileError(ValueError):
    """One or more problems in policy files, each naming the file, the line and the field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Located:
    """A policy and where it was written, so later checks can point at the line."""

    policy: ToolPolicy
    path: Path
    line: int


def policy_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if path.is_file():
        return [path]
    raise PolicyFileError([f"{path}: no such file or folder"])


def _scalar(node: yaml.Node) -> str | None:
    """The raw text of a scalar, None for null; dates stay text so we parse them ourselves."""
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError("expected a single value")
    if node.tag == "tag:yaml.org,2002:null" or (
        node.style is None and node.value in ("", "~", "null", "Null", "NULL")
    ):
        return None
    return str(node.value)


def _list(node: yaml.Node) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        value = _scalar(node)
        return () if value is None else (value,)
    if isinstance(node, yaml.SequenceNode):
        items = [_scalar(item) for item in node.value]
        return tuple(item for item in items if item)
    raise ValueError("expected a list such as [a, b]")


def _entry(node: yaml.MappingNode, where: str, problems: list[str]) -> ToolPolicy | None:
    raw: dict[str, tuple[yaml.Node, int]] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key not in KNOWN_KEYS:
            problems.append(
                f"{where}:{line}: {key}: unknown key; use {', '.join(ToolPolicy.FIELDS)}"
            )
            continue
        if key in raw:
            problems.append(f"{where}:{line}: {key}: given twice")
        raw[key] = (value_node, line)
    entry_line = node.start_mark.line + 1
    values: dict[str, Any] = {}
    for key, (value_node, line) in raw.items():
        try:
            if key in _LIST_KEYS:
                values[key] = _list(value_node)
            else:
                text = _scalar(value_node)
                values[key] = _convert(key, text.strip() if text is not None else None)
        except ValueError as error:
            problems.append(f"{where}:{line}: {key}: {error}")
    for required in ("name", "status"):
        if values.get(required) is None and required not in {k for k in raw if k not in values}:
            problems.append(f"{where}:{entry_line}: {required}: missing")
    if values.get("name") is None or values.get("status") is None:
        return None
    return ToolPolicy(**values)


def _convert(key: str, text: str | None) -> Any:
    if text is None:
        return None
    if key == "status":
        return Status.parse(text)
    if key == "max_data":
        return DataClass.parse(text)
    if key == "effective":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"bad date '{text}': use YYYY-MM-DD") from None
    return text


def read_located(path: Path) -> list[Located]:
    """Every tool in a file or folder, checked; PolicyFileError lists every problem found."""
    problems: list[str] = []
    located: list[Located] = []
    for file in policy_files(path):
        try:
            root = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            problems.append(f"{file}{line}: not valid YAML ({getattr(error, 'problem', error)})")
            continue
        if root is None:
            continue
        tools = None
        if isinstance(root, yaml.MappingNode):
            for key_node, value_node in root.value:
                if key_node.value == "tools":
                    tools = value_node
                else:
                    problems.append(
                        f"{file}:{key_node.start_mark.line + 1}: {key_node.value}: "
                        "unknown key; a policy file holds only `tools:`"
                    )
        if not isinstance(tools, yaml.SequenceNode):
            problems.append(f"{file}:1: tools: expected a list of tools under `tools:`")
            continue
        for item in tools.value:
            where = str(file)
            if not isinstance(item, yaml.MappingNode):
                problems.append(f"{where}:{item.start_mark.line + 1}: expected a tool entry")
                continue
            policy = _entry(item, where, problems)
            if policy is not None:
                located.append(Located(policy, file, item.start_mark.line + 1))
    problems.extend(_cross_check(located))
    if problems:
        raise PolicyFileError(problems)
    return located


def _cross_check(located: list[Located]) -> list[str]:
    """Names and aliases unique across all files; alternatives name a tool in the files."""
    problems: list[str] = []
    owners: dict[str, str] = {}
    for item in located:
        for text in (item.policy.name, *item.policy.aliases):
            key = name_key(text)
            owner = owners.get(key)
            if owner == item.policy.name and text != item.policy.name:
                continue  # "claude-code" spells Claude Code's own name: harmless
            if owner is not None:
                field = "name" if text == item.policy.name else "aliases"
                problems.append(
                    f"{item.path}:{item.line}: {field}: '{text}' already names '{owner}'"
                )
            else:
                owners[key] = item.policy.name
    return problems


def check_alternatives(located: Iterable[Located], known: Iterable[str]) -> list[str]:
    """Problems for alternatives that name no tool among `known` (names and aliases)."""
    keys = {name_key(name) for name in known}
    return [
        f"{item.path}:{item.line}: alternatives: '{alt}' is not in the registry"
        for item in located
        for alt in item.policy.alternatives
        if name_key(alt) not in keys
    ]


def load_policies(path: Path | str, *, standalone: bool = True) -> list[ToolPolicy]:
    """The tools in `path`; with `standalone`, alternatives must be tools in the same files."""
    located = read_located(Path(path))
    if standalone:
        names = [n for item in located for n in (item.policy.name, *item.policy.aliases)]
        problems = check_alternatives(located, names)
        if problems:
            raise PolicyFileError(problems)
    return [item.policy for item in located]


def _entry_dict(policy: ToolPolicy) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key in ToolPolicy.FIELDS:
        value = getattr(policy, key)
        if key in _LIST_KEYS:
            if value:
                entry[key] = list(value)
        elif value is not None:
            entry[key] = value.value if isinstance(value, Status | DataClass) else value
    return entry


class _Dumper(yaml.SafeDumper):
    """Block mappings, one key a line; short lists inline as `[a, b]`, as people write them."""


def _flow_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _flow_list)


def dump_policies(policies: Iterable[ToolPolicy]) -> str:
    """The YAML text for `policies`, in the format `read_located` reads."""
    tools = [_entry_dict(p) for p in policies]
    text = yaml.dump(
        {"tools": tools},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    # A blank line between tools, none after the `tools:` key.
    return text.replace("\n- name:", "\n\n- name:").replace("tools:\n\n", "tools:\n", 1)


def write_policies(policies: Iterable[ToolPolicy], path: Path) -> list[Path]:
    """Write one file, or, for a folder, one file per category; returns the files written."""
    items = list(policies)
    if path.is_dir():
        by_category: dict[str, list[ToolPolicy]] = {}
        for policy in items:
            by_category.setdefault(policy.category or "uncategorised", []).append(policy)
        written = []
        for category, group in sorted(by_category.items()):
            target = path / f"{category}.yaml"
            target.write_text(dump_policies(group), encoding="utf-8")
            written.append(target)
        return written
    path.write_text(dump_policies(items), encoding="utf-8")
    return [path]

"""Reading policy YAML fast: libyaml's C parser, with ruamel's pure-Python one as the reference.

Reading a policy file needs only its nodes and their lines, not a round trip; ruamel's
pure-Python parser takes ~20 times longer than libyaml (through PyYAML) for the same nodes.
Where libyaml is missing, or refuses a text ruamel may accept (it knows YAML 1.1, ruamel
1.2), ruamel reads it as before, so errors and results never depend on which parser ran.
The nodes handed out are always ruamel's, for the code that walks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

_LOADER: Any = getattr(yaml, "CSafeLoader", None)  # None where PyYAML was built without libyaml
_RESOLVER = yaml.resolver.Resolver()  # the implicit tags PyYAML's composer gives


def nesting_depth(text: str, limit: int) -> int:
    """How deep collections nest in `text`, counted from parser events (a loop, never
    recursion), stopping once past `limit`. Text that is not YAML counts as 0: the loader
    then reports it with its line."""
    if _LOADER is not None:
        try:
            return _deepest(yaml.parse(text, Loader=_LOADER), limit)
        except yaml.YAMLError:
            pass  # ruamel decides, as it does for everything libyaml refuses
    try:
        return _deepest(YAML(typ="rt").parse(text), limit)
    except YAMLError:
        return 0


def _deepest(events: Any, limit: int) -> int:
    depth = deepest = 0
    for event in events:
        if isinstance(event, CollectionStartEvent | yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                break
        elif isinstance(event, CollectionEndEvent | yaml.CollectionEndEvent):
            depth -= 1
    return deepest


def compose(text: str) -> Node | None:
    """The node tree of `text` (None when it holds no document), as ruamel's nodes with the
    same values, styles and lines ruamel gives; ruamel's YAMLError when it is not YAML.

    Call it only on text whose nesting was bounded (`nesting_depth`): nodes are copied
    recursively."""
    if _LOADER is not None:
        try:
            return _compose_events(yaml.parse(text, Loader=_LOADER))
        except _Unusual:
            pass  # anchors or several documents: PyYAML's composer, below, decides
        except yaml.YAMLError:
            return _compose_ruamel(text)
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            root = None  # ruamel reads it below, and raises its own error if it must
        else:
            return None if root is None else _as_ruamel(root, {})
    return _compose_ruamel(text)


def _compose_ruamel(text: str) -> Node | None:
    composed: Node | None = YAML(typ="rt").compose(text)
    return composed


class _Unusual(Exception):
    """A text the event composer leaves to PyYAML's: an anchor, an alias, several documents."""


def _compose_events(events: Iterable[Any]) -> Node | None:
    """The nodes PyYAML's composer and `_as_ruamel` make of a single document without
    anchors, built straight from libyaml's events: PyYAML's node objects, and a tag object a
    node, cost four times the parse (10,000 tools: 3 s of an import's 4 s reading)."""
    resolve: Any = _RESOLVER.resolve  # untyped in PyYAML
    tags: dict[str, Tag] = {}
    # The collections being filled: each node and its items (a mapping's keys and values
    # alternate, paired when it ends).
    open_: list[tuple[CollectionNode, list[Node]]] = []
    root: Node | None = None
    documents = 0
    for event in events:
        kind = type(event)
        node: Node
        if kind is yaml.ScalarEvent:
            if event.anchor is not None:
                raise _Unusual
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(yaml.ScalarNode, event.value, event.implicit)
            ctag = tags.get(tag) or tags.setdefault(tag, Tag(suffix=tag))
            # libyaml says '' for a plain scalar where ruamel says None.
            node = ScalarNode(
                ctag, event.value, event.start_mark, event.end_mark, event.style or None
            )
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            if event.anchor is not None:
                raise _Unusual
            node_kind = yaml.SequenceNode if kind is yaml.SequenceStartEvent else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(node_kind, None, event.implicit)
            ctag = tags.get(tag) or tags.setdefault(tag, Tag(suffix=tag))
            made = SequenceNode if kind is yaml.SequenceStartEvent else MappingNode
            open_.append((made(ctag, [], event.start_mark, None, event.flow_style), []))
            continue
        elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            collection, items = open_.pop()
            collection.end_mark = event.end_mark
            if isinstance(collection, MappingNode):
                collection.value = list(zip(items[::2], items[1::2], strict=True))
            else:
                collection.value = items
            node = collection
        elif kind is yaml.AliasEvent:
            raise _Unusual
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual
            continue
        else:
            continue
        if open_:
            open_[-1][1].append(node)
        else:
            root = node
    return root


def _as_ruamel(node: yaml.Node, done: dict[int, Node]) -> Node:
    """A libyaml node as ruamel's; an alias stays one shared node (so `*a` repeated a
    million times is not copied a million times)."""
    if id(node) in done:
        return done[id(node)]
    copy: Node
    if isinstance(node, yaml.ScalarNode):
        # libyaml says '' for a plain scalar where ruamel says None.
        copy = ScalarNode(node.tag, node.value, node.start_mark, node.end_mark, node.style or None)
    elif isinstance(node, yaml.SequenceNode):
        copy = SequenceNode(node.tag, [], node.start_mark, node.end_mark, node.flow_style)
        done[id(node)] = copy
        copy.value = [_as_ruamel(item, done) for item in node.value]
    elif isinstance(node, yaml.MappingNode):
        copy = MappingNode(node.tag, [], node.start_mark, node.end_mark, node.flow_style)
        done[id(node)] = copy
        copy.value = [(_as_ruamel(k, done), _as_ruamel(v, done)) for k, v in node.value]
    else:
        raise TypeError(f"not a YAML node: {node!r}")
    done[id(node)] = copy
    return copy

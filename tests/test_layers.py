"""The folder tells the layer, and an import never goes up.

Ranks, lowest first: the domain (pure rules, no I/O); the driven adapters it is stored and
read through (database, policy files); the application (use cases); the driving adapters
(Slack, web, the sender), which call the application; the composition root; the entry
points. `config`, `logs` and `metrics` are shared by every layer and import none of them.
Every `import` in bot/ is checked, also those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

SHARED = {"bot.config", "bot.logs", "bot.metrics"}
RANKS = {
    "bot.domain": 0,
    "bot.adapters.db": 1,
    "bot.adapters.files": 1,
    "bot.app": 2,
    "bot.adapters.slack": 3,
    "bot.adapters.web": 3,
    "bot.adapters.sender": 3,
    "bot.compose": 4,
    "bot.entrypoints": 5,
}
# Driving adapters beside each other: what each may take from a sibling. The sender is
# handed its renderer and imports no Slack front end.
SIDEWAYS = {
    ("bot.adapters.web", "bot.adapters.slack"): {"bot.adapters.slack.guard"},
}


def layer_of(module: str) -> str | None:
    best = None
    for layer in RANKS:
        if (module == layer or module.startswith(layer + ".")) and (
            best is None or len(layer) > len(best)
        ):
            best = layer
    return best


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from bot.adapters.db import engines` names a module too.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "bot" or name.startswith("bot.")]


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(BOT.rglob("*.py")):
        importer = module_name(path)
        own = layer_of(importer)
        for line, imported in imports_of(path):
            if imported in SHARED or imported.rsplit(".", 1)[0] in SHARED:
                continue
            target = layer_of(imported)
            if importer in SHARED and target is not None:
                problems.append(f"{path}:{line}: shared {importer} imports {imported}")
                continue
            if own is None or target is None or target == own:
                continue
            allowed = SIDEWAYS.get((own, target), set())
            if any(imported == a or imported.startswith(a + ".") for a in allowed):
                continue
            if RANKS[target] >= RANKS[own]:
                problems.append(f"{path.relative_to(BOT.parent)}:{line}: {own} imports {imported}")
    return problems


def test_every_module_of_bot_is_in_a_layer() -> None:
    loose = [
        module_name(path)
        for path in BOT.rglob("*.py")
        if layer_of(module_name(path)) is None
        and module_name(path) not in SHARED
        and module_name(path) not in ("bot", "bot.adapters")
    ]

    assert loose == []


def test_no_import_goes_up_or_sideways() -> None:
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("importer", "imported", "upward"),
    [
        ("bot.domain.answers", "bot.app.service", True),
        ("bot.app.service", "bot.domain.answers", False),
        ("bot.adapters.sender.dispatcher", "bot.adapters.slack.blocks", True),
        ("bot.adapters.web.wsgi", "bot.adapters.slack.guard", False),
        ("bot.adapters.slack.listeners", "bot.compose", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, upward: bool) -> None:
    own, target = layer_of(importer), layer_of(imported)
    assert own is not None and target is not None
    sideways = any(imported.startswith(a) for a in SIDEWAYS.get((own, target), set()))
    assert (own != target and RANKS[target] >= RANKS[own] and not sideways) == upward

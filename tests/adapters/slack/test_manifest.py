"""manifest.yml declares every event, scope, shortcut and custom step the code listens for.

The Slack adapter's source is read for what it registers on the Bolt App (`app.event`,
`app.function`, shortcuts, the Assistant) and which Web API methods it calls; each must be in
the manifest, with the scope it needs. A new method or event fails here until the table
below says which scope it needs and the manifest declares it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.adapters.slack.steps import policy_outputs
from bot.config import Settings
from bot.domain.answers import Registry, answer_question
from tests.factories import seed_registry

REPO = Path(__file__).resolve().parents[3]
SLACK = REPO / "bot" / "adapters" / "slack"
SENDER = REPO / "bot" / "adapters" / "sender"

# Events API event -> the manifest's name for the subscription, and the scope it needs.
EVENTS: dict[str, tuple[str, str | None]] = {
    "app_home_opened": ("app_home_opened", None),
    "subteam_members_changed": ("subteam_members_changed", "usergroups:read"),
    "app_mention": ("app_mention", "app_mentions:read"),
    "message": ("message.im", "im:history"),  # the bot listens to its DMs only
    "link_shared": ("link_shared", "links:read"),
    "assistant_thread_started": ("assistant_thread_started", "assistant:write"),
    "assistant_thread_context_changed": ("assistant_thread_context_changed", "assistant:write"),
    "function_executed": ("function_executed", None),
}
# Web API method -> the bot scope it needs (None: the trigger or workflow token suffices).
METHODS: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.unfurl": "links:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "usergroups.list": "usergroups:read",
    "views.open": None,
    "views.publish": None,
    "conversations.history": "channels:history",
    "conversations.open": "im:write",
    "conversations.members": "channels:read",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "functions.completeSuccess": None,
    "functions.completeError": None,
}
# What Bolt's Assistant listens to and calls on the app's behalf.
ASSISTANT_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed", "message")
ASSISTANT_METHODS = (
    "assistant.threads.setStatus",
    "assistant.threads.setTitle",
    "assistant.threads.setSuggestedPrompts",
    "chat.postMessage",
    "chat.update",
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    return loaded


def calls_in(folder: Path) -> list[tuple[str, str, ast.Call]]:
    """(module, `receiver.method`, call) for every method call in the folder's modules."""
    found = []
    for path in sorted(folder.glob("*.py")):
        module = f"bot.adapters.{folder.name}.{path.stem}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = node.func.value
                name = receiver.id if isinstance(receiver, ast.Name) else ""
                if isinstance(receiver, ast.Attribute):
                    name = receiver.attr
                found.append((module, f"{name}.{node.func.attr}", node))
    return found


def argument(module: str, call: ast.Call) -> str:
    """The first argument of a registration: a literal, or a module constant's value."""
    first = call.args[0]
    if isinstance(first, ast.Constant):
        return str(first.value)
    if isinstance(first, ast.Name):
        return str(getattr(importlib.import_module(module), first.id))
    if isinstance(first, ast.Attribute) and first.attr == "command":
        return str(
            Settings.model_fields["command"].default
        )  # `self.command`: POLICYBOT_COMMAND, /aipolicy by default
    if isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name):
        imported = importlib.import_module(module)
        return str(getattr(getattr(imported, first.value.id), first.attr))
    raise AssertionError(f"cannot read what {module} registers: {ast.dump(first)}")


def registered(kind: str) -> set[str]:
    return {
        argument(module, call)
        for module, method, call in calls_in(SLACK)
        if method == f"app.{kind}"
    }


def web_api_methods() -> set[str]:
    """The Web API methods the adapters call through a WebClient, in Slack's spelling."""
    names = set()
    for _, method, call in calls_in(SLACK) + calls_in(SENDER):
        receiver, _, name = method.partition(".")
        if receiver == "client" and "_" in name:
            names.add(name.replace("_", "."))  # usergroups_users_list -> usergroups.users.list
        elif name == "_read" and call.args and isinstance(call.args[0], ast.Constant):
            names.add(str(call.args[0].value))
    return names


def uses_assistant() -> bool:
    return any(method == "app.assistant" for _, method, _ in calls_in(SLACK))


def test_every_event_listened_to_is_subscribed(manifest: dict[str, Any]) -> None:
    events = registered("event") | (set(ASSISTANT_EVENTS) if uses_assistant() else set())
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])

    missing = {EVENTS[event][0] for event in events} - subscribed
    assert events <= set(EVENTS), f"add {events - set(EVENTS)} to EVENTS"
    assert not missing, f"manifest.yml lacks bot_events {sorted(missing)}"
    assert "function_executed" in subscribed or not registered("function")


def test_every_scope_needed_is_requested(manifest: dict[str, Any]) -> None:
    methods = web_api_methods() | (set(ASSISTANT_METHODS) if uses_assistant() else set())
    events = registered("event") | (set(ASSISTANT_EVENTS) if uses_assistant() else set())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])

    assert methods <= set(METHODS), f"add {methods - set(METHODS)} to METHODS"
    needed = {METHODS[m] for m in methods} | {EVENTS[e][1] for e in events}
    if registered("command"):
        needed.add("commands")
    missing = {scope for scope in needed if scope} - scopes
    assert not missing, f"manifest.yml lacks bot scopes {sorted(missing)}"


def test_every_shortcut_and_command_is_declared(manifest: dict[str, Any]) -> None:
    shortcuts = {(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]}
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}

    assert {("message", c) for c in registered("message_shortcut")} <= shortcuts
    assert {("global", c) for c in registered("global_shortcut")} <= shortcuts
    assert registered("command") <= commands


def test_the_ai_app_pane_is_a_feature(manifest: dict[str, Any]) -> None:
    assert uses_assistant() and "assistant_view" in manifest["features"]


def test_every_custom_step_is_declared_with_the_outputs_it_gives(
    manifest: dict[str, Any],
) -> None:
    declared = manifest["functions"]
    answer = answer_question("Claude Code", Registry(seed_registry(), shipped_vocabulary()))
    check_outputs = set(policy_outputs(answer, None))

    assert registered("function") == set(declared)
    assert set(declared["check_tool_policy"]["output_parameters"]["properties"]) == check_outputs
    assert set(declared["request_tool_review"]["output_parameters"]["properties"]) == {
        "request_id",
        "outcome",
        "message",
    }
    assert manifest["settings"]["function_runtime"] == "remote"
    assert manifest["settings"]["org_deploy_enabled"] is True  # custom steps need it


def test_the_table_knows_the_methods_the_code_calls() -> None:
    # The scan itself: it finds the calls this feature added (so a broken scan cannot pass).
    assert {"chat.unfurl", "users.info", "conversations.members"} <= web_api_methods()
    assert {"link_shared", "app_mention", "message"} <= registered("event")

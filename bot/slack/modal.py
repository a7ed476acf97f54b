"""The edit/add modal: a form with every policy field, read back and checked field by field.

`private_metadata` carries the tool and the version the admin saw, so that saving refuses to
overwrite a change someone else made meanwhile (optimistic locking in `Store.save`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.core.admin import STATUS_LABEL
from bot.core.policy import DataClass, Status, ToolPolicy
from bot.core.store import Store, name_key
from bot.slack.blocks import Block, plain

CALLBACK_ID = "policy_edit"
VALUE = "value"  # the action_id of every input; the block_id is the field's name
NO_DATA_LIMIT = "none"

# Column sizes in bot/core/models.py; longer input is refused on the field.
_MAX_LENGTH = {"name": 200, "vendor": 200, "category": 100, "owner": 200, "link": 500}
_TEXT_LENGTH = 2000
_URL = re.compile(r"^https?://\S+$")

# The order of the inputs in the form: the policy's fields, with the status up front.
FIELDS = ("name", "status", *(f for f in ToolPolicy.FIELDS if f not in ("name", "status")))


@dataclass(frozen=True)
class EditTarget:
    """What the form edits: an existing tool at a version, or a new tool."""

    tool: str
    version: int | None
    create: bool

    def dump(self) -> str:
        return json.dumps({"tool": self.tool, "version": self.version, "create": self.create})

    @classmethod
    def load(cls, text: str) -> EditTarget:
        data = json.loads(text or "{}")
        version = data.get("version")
        return cls(
            tool=str(data.get("tool") or ""),
            version=int(version) if version is not None else None,
            create=bool(data.get("create")),
        )


def _input(
    field: str, label: str, element: dict[str, Any], *, optional: bool, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": plain(label, 2000),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text_input(
    value: str | None, *, multiline: bool = False, max_length: int = _TEXT_LENGTH
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value[:max_length]
    return element


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, 75), "value": value}


def _select(options: list[dict[str, Any]], selected: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "options": options}
    chosen = next((o for o in options if o["value"] == selected), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def edit_view(policy: ToolPolicy, target: EditTarget) -> dict[str, Any]:
    """The modal for views.open: every field of `policy`, prefilled."""
    status_options = [_option(s.value, STATUS_LABEL[s]) for s in Status]
    data_options = [_option(NO_DATA_LIMIT, "no limit recorded")] + [
        _option(d.value, d.value) for d in DataClass
    ]
    date_element: dict[str, Any] = {"type": "datepicker"}
    if policy.effective:
        date_element["initial_date"] = policy.effective.isoformat()
    blocks: list[Block] = []
    if target.create:
        blocks.append(
            _input("name", "Tool name", _text_input(policy.name, max_length=200), optional=False)
        )
    else:
        blocks.append(
            {
                "type": "section",
                "block_id": "heading",
                "text": plain(f"Editing {policy.name} (version {target.version})"),
            }
        )
    blocks += [
        _input("status", "Status", _select(status_options, policy.status.value), optional=False),
        _input("vendor", "Vendor", _text_input(policy.vendor, max_length=200), optional=True),
        _input(
            "aliases",
            "Other names",
            _text_input(", ".join(policy.aliases)),
            optional=True,
            hint="Comma-separated, e.g. claude-code, claude cli",
        ),
        _input("category", "Category", _text_input(policy.category, max_length=100), optional=True),
        _input("reason", "Why", _text_input(policy.reason, multiline=True), optional=True),
        _input(
            "conditions",
            "Conditions",
            _text_input(policy.conditions, multiline=True),
            optional=True,
        ),
        _input(
            "max_data",
            "Most sensitive data allowed",
            _select(data_options, policy.max_data.value if policy.max_data else NO_DATA_LIMIT),
            optional=True,
        ),
        _input(
            "alternatives",
            "Alternatives",
            _text_input(", ".join(policy.alternatives)),
            optional=True,
            hint="Tools already in the registry, comma-separated",
        ),
        _input("effective", "Effective from", date_element, optional=True),
        _input("owner", "Owner", _text_input(policy.owner, max_length=200), optional=True),
        _input(
            "link",
            "Link to the full policy",
            _text_input(policy.link, max_length=500),
            optional=True,
            hint="https://…",
        ),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": target.dump(),
        "title": plain("Add a tool" if target.create else "Edit a policy", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def _value(values: dict[str, Any], field: str) -> Any:
    return values.get(field, {}).get(VALUE, {})


def _text(values: dict[str, Any], field: str) -> str | None:
    raw = _value(values, field).get("value")
    text = raw.strip() if isinstance(raw, str) else ""
    return text or None


def _selected(values: dict[str, Any], field: str) -> str | None:
    option = _value(values, field).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and "value" in option else None


def _names(text: str | None) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for part in (text or "").split(","):
        name = " ".join(part.split())
        if name:
            seen.setdefault(name_key(name), name)
    return tuple(seen.values())


def read_submission(
    values: dict[str, Any], target: EditTarget, store: Store
) -> tuple[ToolPolicy | None, dict[str, str]]:
    """The policy the form describes, or the errors to show, keyed by field (block_id)."""
    errors: dict[str, str] = {}
    name = (_text(values, "name") if target.create else target.tool) or ""
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Give the tool a name."
    elif target.create and store.get(name) is not None:
        errors["name"] = f"'{name}' is already in the registry: use edit instead."

    status: Status | None = None
    try:
        status = Status.parse(_selected(values, "status") or "")
    except ValueError:
        errors["status"] = "Choose a status."

    max_data: DataClass | None = None
    data_choice = _selected(values, "max_data")
    if data_choice and data_choice != NO_DATA_LIMIT:
        try:
            max_data = DataClass.parse(data_choice)
        except ValueError:
            errors["max_data"] = "Choose one of the data classes."

    effective: dt.date | None = None
    date_text = _value(values, "effective").get("selected_date")
    if date_text:
        try:
            effective = dt.date.fromisoformat(str(date_text))
        except ValueError:
            errors["effective"] = "Pick a date (YYYY-MM-DD)."

    texts: dict[str, str | None] = {}
    for field in ("vendor", "category", "reason", "conditions", "owner", "link"):
        texts[field] = _text(values, field)
        limit = _MAX_LENGTH.get(field, _TEXT_LENGTH)
        if texts[field] and len(texts[field] or "") > limit:
            errors[field] = f"At most {limit} characters, please."
    link = texts["link"]
    if link and "link" not in errors and not _URL.match(link):
        errors["link"] = "Give a web address starting with https:// (or leave it empty)."

    # The tool's own key: a new tool owns no names yet.
    own = None if target.create else name_key(target.tool)
    aliases = _names(_text(values, "aliases"))
    for alias in aliases:
        other = store.get(alias)
        if name_key(alias) == name_key(name):
            errors["aliases"] = f"'{alias}' is the tool's own name."
        elif other is not None and name_key(other.name) != own:
            errors["aliases"] = f"'{alias}' already names {other.name}."

    alternatives = _names(_text(values, "alternatives"))
    resolved = {a: store.get(a) for a in alternatives}
    unknown = [a for a, policy in resolved.items() if policy is None]
    if any(
        name_key(a) == name_key(name) or (p is not None and name_key(p.name) == own)
        for a, p in resolved.items()
    ):
        errors["alternatives"] = "A tool cannot be its own alternative."
    elif unknown:
        errors["alternatives"] = (
            f"Not in the registry: {', '.join(unknown)}. Add them first, or leave them out."
        )

    if errors or status is None:
        return None, errors
    policy = ToolPolicy(
        name=name,
        status=status,
        vendor=texts["vendor"],
        aliases=aliases,
        category=texts["category"],
        reason=texts["reason"],
        conditions=texts["conditions"],
        max_data=max_data,
        alternatives=alternatives,
        effective=effective,
        owner=texts["owner"],
        link=link,
    )
    return policy, {}


def first_field(target: EditTarget) -> str:
    """The block that carries errors that belong to no one field (a stale form, say)."""
    return "name" if target.create else "status"

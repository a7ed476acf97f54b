"""The edit/add modal: a form with every policy field, read back and checked field by field.

`private_metadata` carries the tool and the version the admin saw, so that saving refuses to
overwrite a change someone else made meanwhile (optimistic locking in the write path).
Reading a submission only turns the form's fields into a policy (and says which field is not
a value at all); the rules — names, alternatives, a ban clearing conditions — are checked by
`PolicyChanges`, exactly as for `set`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.blocks import Block, plain
from bot.app.admin import STATUS_LABEL
from bot.domain.names import NAME_MAX, name_key
from bot.domain.policy import TEXT_LIMITS, DataClass, Status, ToolPolicy

CALLBACK_ID = "policy_edit"
VALUE = "value"  # the action_id of every input; the block_id is the field's name
NO_DATA_LIMIT = "none"

# The domain's limits (bot/domain/policy.py), so Slack stops longer input as it is typed.
_MAX_LENGTH = {"name": NAME_MAX, **TEXT_LIMITS}
_TEXT_LENGTH = TEXT_LIMITS["reason"]
_URL = re.compile(r"^https?://\S+$")

# The order of the inputs in the form: the policy's fields, with the status up front.
FIELDS = ("name", "status", *(f for f in ToolPolicy.FIELDS if f not in ("name", "status")))


@dataclass(frozen=True)
class EditTarget:
    """What the form edits: an existing tool at a version, or a new tool."""

    tool: str
    version: int | None
    create: bool
    # Opened with `draft edit`/`draft add`: saving stages the change instead of making it.
    draft: bool = False

    def dump(self) -> str:
        data: dict[str, Any] = {"tool": self.tool, "version": self.version, "create": self.create}
        if self.draft:
            data["draft"] = True
        return json.dumps(data)

    @classmethod
    def load(cls, text: str) -> EditTarget:
        data = json.loads(text or "{}")
        version = data.get("version")
        return cls(
            tool=str(data.get("tool") or ""),
            version=int(version) if version is not None else None,
            create=bool(data.get("create")),
            draft=bool(data.get("draft")),
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
            _input(
                "name",
                "Tool name",
                _text_input(policy.name, max_length=NAME_MAX),
                optional=False,
            )
        )
    else:
        blocks.append(
            {
                "type": "section",
                "block_id": "heading",
                "text": plain(
                    f"Editing {policy.name} as drafted: saving stages the change for the next "
                    "version; staff see nothing until publish"
                    if target.draft
                    else f"Editing {policy.name} (version {target.version})"
                ),
            }
        )
        if policy.rules:
            blocks.append(_rules_block(policy))
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
        "title": plain(
            ("Add a tool" if target.create else "Edit a policy")
            + (" (draft)" if target.draft else ""),
            24,
        ),
        "submit": plain("Stage" if target.draft else "Save", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def _rules_block(policy: ToolPolicy) -> Block:
    """The audiences' rules beside the default the form edits (changed with `--for`)."""
    lines = []
    for rule in policy.rules:
        parts = [STATUS_LABEL[rule.status] if rule.status else "the default's status"]
        if rule.conditions:
            parts.append(f"conditions: {rule.conditions}")
        if rule.max_data:
            parts.append(f"data up to {rule.max_data.value}")
        lines.append(f"• for {rule.audience}: {', '.join(parts)}")
    text = (
        "This form edits the default policy. Rules for audiences (change them with "
        "`set … --for AUDIENCE`, drop them with `unset … --for AUDIENCE`):\n" + "\n".join(lines)
    )
    return {"type": "context", "block_id": "rules", "elements": [plain(text[:2000])]}


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
    values: dict[str, Any], target: EditTarget
) -> tuple[ToolPolicy | None, dict[str, str]]:
    """The policy the form describes, or the errors to show, keyed by field (block_id)."""
    draft, errors = read_draft(values, target)
    return (None, errors) if errors else (draft, {})


def read_draft(
    values: dict[str, Any], target: EditTarget
) -> tuple[ToolPolicy | None, dict[str, str]]:
    """The policy as far as the form describes it, and the form's own errors. A field in
    error is left empty and a missing status read as under review, so that the policy's
    other rules can be checked in the same round (None only without a name)."""
    errors: dict[str, str] = {}
    name = (_text(values, "name") if target.create else target.tool) or ""
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Give the tool a name."

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
    link = texts["link"]
    if link and not _URL.match(link):
        errors["link"] = "Give a web address starting with https:// (or leave it empty)."

    if not name:
        return None, errors
    policy = ToolPolicy(
        name=name,
        status=status or Status.UNDER_REVIEW,
        vendor=texts["vendor"],
        aliases=_names(_text(values, "aliases")),
        category=texts["category"],
        reason=texts["reason"],
        conditions=texts["conditions"],
        max_data=max_data,
        alternatives=_names(_text(values, "alternatives")),
        effective=effective,
        owner=texts["owner"],
        link=link if "link" not in errors else None,
    )
    return policy, errors


def field_of(problem_field: str | None, target: EditTarget) -> str:
    """The form's block that shows a problem with `problem_field` (a policy field)."""
    if problem_field in FIELDS and (problem_field != "name" or target.create):
        return problem_field
    return first_field(target)


def first_field(target: EditTarget) -> str:
    """The block that carries errors that belong to no one field (a stale form, say)."""
    return "name" if target.create else "status"

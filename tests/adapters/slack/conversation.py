"""Talking to a served bot over signed HTTP: a question, a form opened and submitted, the
replies in a thread."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack.conftest import ADMIN, STAFF, Served
from tests.adapters.slack.harness import COMMAND, response_to, wait_until
from tests.standin import Message, payloads


def ask(served: Served, text: str, *, user: str = STAFF) -> dict[str, Any]:
    """The bot's reply to `/aipolicy text`: in the acknowledgement, or at the response_url."""
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    result = served.slack.command(form)
    assert result.status == 200
    if result.body:
        reply: dict[str, Any] = result.json()
        return reply
    return response_to(served.standin, url).body


def replies_in(served: Served, channel: str, count: int = 1) -> list[Message]:
    return wait_until(
        lambda: len(served.standin.messages(channel)) >= count and served.standin.messages(channel),
        what=f"{count} bot message(s) in {channel}",
    )


def open_form(served: Served, text: str, user: str = ADMIN) -> dict[str, Any]:
    """Send `/aipolicy edit ...` and return the view the bot opened."""
    before = len(served.standin.calls_to("views.open"))
    status, _url = command(served, text, user=user)
    assert status == 200
    calls = served.standin.wait_for("views.open", before + 1)
    view: dict[str, Any] = calls[-1].response["view"]
    return view


def submit(served: Served, view: dict[str, Any], user: str = ADMIN, **changes: Any) -> Any:
    payload = payloads.view_submission(
        view["callback_id"],
        form_values(view, **changes),
        private_metadata=view["private_metadata"],
        view_id=view["id"],
        user_id=user,
    )
    result = served.slack.interaction(payload)
    assert result.status == 200
    return result.json() if result.body else None


def command(served: Served, text: str, *, user: str = STAFF, **options: Any) -> tuple[int, str]:
    """Send `/aipolicy text` as `user`; returns (HTTP status, the response_url it carries)."""
    url = served.standin.response_url()
    form = payloads.slash_command(COMMAND, text, response_url=url, user_id=user)
    result = served.slack.command(form, **options)
    return result.status, url


def form_values(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """view.state.values as Slack would send them for the form as opened, with `changes`."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        field = block["block_id"]
        if element["type"] == "static_select":
            option = element.get("initial_option")
            state = {"type": "static_select", "selected_option": option}
            if field in changes:
                state["selected_option"] = {"value": changes[field]} if changes[field] else None
        elif element["type"] == "datepicker":
            state = {"type": "datepicker", "selected_date": element.get("initial_date")}
            if field in changes:
                state["selected_date"] = changes[field]
        else:
            state = {"type": "plain_text_input", "value": element.get("initial_value")}
            if field in changes:
                state["value"] = changes[field]
        values[field] = {"value": state}
    return values

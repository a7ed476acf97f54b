"""The Slack side of "when the answer is no": buttons on answers, forms, admin-channel buttons.

Every press and every form is checked against who pressed it (`body["user"]["id"]`, set by
Slack on a signed request); a button's value is only an id or a name, and the core checks the
presser's right to act on it (admins, a tool's owner for exceptions, never one's own request).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import modal
from bot.adapters.slack.blocks import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    Block,
    SlackMessage,
    context,
    escape,
    plain,
    section,
    text_message,
    unescape,
)
from bot.adapters.slack.metadata import MetadataSeal
from bot.adapters.slack.notices import notice_blocks
from bot.app.desk import Desk, describe_filed
from bot.app.notices import Notice, notice_of, posted_at
from bot.app.policy_exceptions import (
    APPROVE_EXCEPTION_ACTION,
    DECLINE_EXCEPTION_ACTION,
    REVOKE_EXCEPTION_ACTION,
)
from bot.app.runtime import Runtime
from bot.app.tool_requests import ADD_FOR_REVIEW_ACTION, DECLINE_REQUEST_ACTION
from bot.app.unanswered import ADD_ALIAS_ACTION, ADD_TOOL_ACTION, ANSWER_TERM_ACTION
from bot.app.watches import WATCH_ACTION
from bot.domain.answers import Answer, answer_question, render_text
from bot.domain.errors import PolicyError
from bot.domain.phrases import EN
from bot.domain.policy import DataClass, Status, ToolPolicy

log = logging.getLogger(__name__)

SOURCE = "slack"
REQUEST_REVIEW_ACTION = "policybot_request_review"
REQUEST_EXCEPTION_ACTION = "policybot_request_exception"
HELPFUL_ACTION = "policybot_helpful"
NOT_HELPFUL_ACTION = "policybot_not_helpful"
FEEDBACK_DONE_ACTION = "policybot_feedback_done"

REQUEST_FORM = "policybot_request_form"
EXCEPTION_FORM = "policybot_exception_form"
DECISION_FORM = "policybot_decision_form"
ALIAS_FORM = "policybot_alias_form"
ANSWER_FORM = "policybot_answer_form"
VALUE = "value"
MAX_VALUE = 1900  # Slack allows 2,000 characters in a button value


# -- buttons on answers ----------------------------------------------------------------------


def _button(action: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action,
        "text": plain(label, MAX_BUTTON_TEXT),
        "value": value[:MAX_VALUE],
    }
    if style:
        element["style"] = style
    return element


def answer_actions(answer: Answer) -> Block:
    """Ask for a review (no policy), ask for an exception (banned or conditional), watch,
    and helpful / not helpful: the buttons under every Slack answer."""
    elements: list[dict[str, Any]] = []
    if not answer.answered:
        topic = answer.topic or answer.question
        elements.append(
            _button(REQUEST_REVIEW_ACTION, "Ask for a review", escape(topic[:200]), "primary")
        )
    for index, tool in enumerate(answer.tools[:3]):
        name = tool.policy.name
        if tool.policy.status in (Status.BANNED, Status.CONDITIONAL) and not answer.notes_for(name):
            elements.append(
                _button(
                    f"{REQUEST_EXCEPTION_ACTION}:{index}", f"Ask for an exception ({name})", name
                )
            )
        label = "Notify me when this changes" if len(answer.tools) == 1 else f"Watch {name}"
        elements.append(_button(f"{WATCH_ACTION}:{index}", label, name))
    # Escaped like everything the person typed, so no part of a message carries a raw mention.
    elements.append(_button(HELPFUL_ACTION, "Helpful", escape(answer.question)))
    elements.append(_button(NOT_HELPFUL_ACTION, "Not helpful", escape(answer.question)))
    return {"type": "actions", "block_id": "policybot_answer", "elements": elements[:25]}


def with_answer_actions(message: SlackMessage, answer: Answer) -> SlackMessage:
    blocks = [b for b in message.blocks if b.get("block_id") != "suggestions"]
    suggestions = [b for b in message.blocks if b.get("block_id") == "suggestions"]
    room = MAX_BLOCKS - 1 - len(suggestions)
    return SlackMessage(message.text, [*blocks[:room], *suggestions, answer_actions(answer)])


# -- the unanswered queue in Slack -----------------------------------------------------------


def queue_message(desk: Desk, runtime: Runtime) -> SlackMessage:
    """Terms asked about with no policy (with counts and buttons) and 'not helpful' answers."""
    groups = desk.unanswered.groups(runtime.service.registry(), limit=15)
    blocks: list[Block] = [{"type": "header", "text": plain("Unanswered questions", 150)}]
    lines = ["Unanswered questions by term:"]
    if not groups:
        blocks.append(section("Every question so far found a policy."))
    for group in groups:
        day = group.last_asked.astimezone(runtime.settings.zone).date().isoformat()
        known = f", {len(group.askers)} waiting for an answer" if group.askers else ""
        example = f"\n_e.g. “{escape(group.examples[0])}”_" if group.examples else ""
        text = f"*{escape(group.term)}*: {EN.asked(group.count)}, last {day}{known}{example}"
        lines.append(f"• {group.term}: {group.count}")
        term = group.term[:200]
        blocks.append(section(text))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"term:{group.key[:200]}",
                "elements": [
                    _button(ADD_ALIAS_ACTION, "Add as an alias…", term),
                    _button(ADD_TOOL_ACTION, "Add as a tool…", term),
                    _button(ANSWER_TERM_ACTION, "Answer…", term),
                ],
            }
        )
    feedback = desk.feedback.queue(limit=10)
    if feedback:
        blocks.append({"type": "header", "text": plain("Answers marked not helpful", 150)})
        for item in feedback:
            tools = escape(", ".join(item.tools) or "no policy")
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"“{escape(item.question)}” ({tools}) by <@{item.user}>",
                    },
                    "accessory": _button(FEEDBACK_DONE_ACTION, "Done", str(item.id)),
                }
            )
            lines.append(f"• not helpful: {item.question}")
    return SlackMessage(escape("\n".join(lines)), blocks[:MAX_BLOCKS])


# -- forms -----------------------------------------------------------------------------------


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }


def _text(initial: str = "", *, multiline: bool = False, max_length: int = 2000) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _modal(
    callback: str, title: str, blocks: list[Block], metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "private_metadata": json.dumps(metadata),
        "title": plain(title, 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def request_form(topic: str) -> dict[str, Any]:
    return _modal(
        REQUEST_FORM,
        "Ask for a review",
        [
            _input("tool", "Which tool?", _text(topic, max_length=200)),
            _input("why", "What do you need it for?", _text(multiline=True), optional=True),
        ],
        {},
    )


def exception_form(tool: str, max_days: int) -> dict[str, Any]:
    options = [{"text": plain(d.value, 75), "value": d.value} for d in DataClass]
    return _modal(
        EXCEPTION_FORM,
        "Ask for an exception",
        [
            section(f"An exception to the *{escape(tool)}* policy, for you only."),
            _input("why", "Why do you need it?", _text(multiline=True)),
            _input("purpose", "Project or purpose", _text(max_length=500)),
            _input(
                "data",
                "Most sensitive data you will use",
                {"type": "static_select", "options": options},
            ),
            _input("days", f"For how many days (at most {max_days})?", _text("30", max_length=4)),
        ],
        {"tool": tool},
    )


def decision_form(
    kind: str, subject_id: int, *, approve: bool, until: str | None, revoke: bool = False
) -> dict[str, Any]:
    blocks: list[Block] = []
    if approve:
        picker: dict[str, Any] = {"type": "datepicker"}
        if until:
            picker["initial_date"] = until
        blocks.append(_input("until", "Until (you may shorten it)", picker))
        blocks.append(_input("reason", "Note to the person (optional)", _text(), optional=True))
    else:
        blocks.append(_input("reason", "Reason (the person is told it)", _text(multiline=True)))
    verb = "Approve " if approve else "Revoke " if revoke else "Decline "
    metadata = {"kind": kind, "id": subject_id, "approve": approve, "revoke": revoke}
    return _modal(DECISION_FORM, verb + f"{kind}{subject_id}", blocks, metadata)


def term_form(callback: str, term: str) -> dict[str, Any]:
    if callback == ALIAS_FORM:
        title, field = "Add as an alias", _input("tool", f"'{term}' is another name for", _text())
    else:
        title, field = "Answer the askers", _input("text", "Your answer", _text(multiline=True))
    return _modal(callback, title, [field], {"term": term})


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return dict(view.get("state", {}).get("values", {}))


def _typed(values: dict[str, Any], block: str) -> str:
    raw = values.get(block, {}).get(VALUE, {})
    value = (
        raw.get("value")
        or raw.get("selected_date")
        or (raw.get("selected_option") or {}).get("value")
    )
    return str(value or "").strip()


_DAYS = re.compile(r"[0-9]{1,4}")  # ASCII digits only: "²" and "٣" are digits to isdigit()


def exception_form_errors(values: dict[str, Any], max_days: int) -> dict[str, str]:
    """Every field of the exception form that is not a value, each with one sentence."""
    errors: dict[str, str] = {}
    if not _typed(values, "why"):
        errors["why"] = "Say why you need the exception."
    if not _typed(values, "purpose"):
        errors["purpose"] = "Name the project or purpose it is for."
    data = _typed(values, "data")
    try:
        DataClass.parse(data)
    except ValueError:
        choices = ", ".join(d.value for d in DataClass)
        errors["data"] = f"Choose the most sensitive data you will use: {choices}."
    days = _typed(values, "days")
    if not _DAYS.fullmatch(days) or not 1 <= int(days) <= max_days:
        errors["days"] = f"A whole number of days from 1 to {max_days}, e.g. 30."
    return errors


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(str(view.get("private_metadata") or "{}"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


# -- listeners -------------------------------------------------------------------------------


class RequestListeners:
    def __init__(self, runtime: Runtime) -> None:
        assert runtime.desk is not None
        self.runtime = runtime
        self.seal = MetadataSeal.for_settings(runtime.settings)
        self.desk: Desk = runtime.desk
        self.service = runtime.service
        self.zone = runtime.settings.zone

    def register(self, app: App) -> None:
        app.action(REQUEST_REVIEW_ACTION)(self.on_request_review)
        app.action(re.compile(rf"^{REQUEST_EXCEPTION_ACTION}:\d+$"))(self.on_request_exception)
        app.action(re.compile(rf"^{WATCH_ACTION}:\d+$"))(self.on_watch)
        app.action(HELPFUL_ACTION)(self.on_feedback)
        app.action(NOT_HELPFUL_ACTION)(self.on_feedback)
        app.action(FEEDBACK_DONE_ACTION)(self.on_feedback_done)
        app.action(ADD_FOR_REVIEW_ACTION)(self.on_add_for_review)
        app.action(DECLINE_REQUEST_ACTION)(self.on_decision_button)
        app.action(APPROVE_EXCEPTION_ACTION)(self.on_decision_button)
        app.action(DECLINE_EXCEPTION_ACTION)(self.on_decision_button)
        app.action(REVOKE_EXCEPTION_ACTION)(self.on_decision_button)
        app.action(ADD_ALIAS_ACTION)(self.on_term_button)
        app.action(ADD_TOOL_ACTION)(self.on_term_button)
        app.action(ANSWER_TERM_ACTION)(self.on_term_button)
        app.view(REQUEST_FORM)(self.on_request_form)
        app.view(EXCEPTION_FORM)(self.on_exception_form)
        app.view(DECISION_FORM)(self.on_decision_form)
        app.view(ALIAS_FORM)(self.on_term_form)
        app.view(ANSWER_FORM)(self.on_term_form)

    # -- staff -----------------------------------------------------------------------------

    def on_request_review(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view=request_form(unescape(str(action.get("value") or ""))),
        )

    def on_request_form(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = _presser(body)
        values = _values(view)
        try:
            filed = self.desk.file_request(
                _typed(values, "tool"), user=user, why=_typed(values, "why") or None
            )
        except PolicyError as error:
            ack(response_action="errors", errors={"tool": str(error)[:150]})
            return
        ack(response_action="update", view=_done_view("Review requested", describe_filed(filed)))
        if filed.outcome == "merged":  # the admin post counts everyone who asked
            post = self.desk.requests.admin_post(filed.request.id)
            if post is not None:
                channel, ts, notice = post
                message = notice_blocks(notice)
                try:
                    client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
                except SlackApiError as error:
                    log.warning("could not update a request post: %s", error.response.get("error"))

    def on_request_exception(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        form = exception_form(
            str(action.get("value") or ""), self.runtime.settings.exception_max_days
        )
        client.views_open(trigger_id=body["trigger_id"], view=self.seal.seal(form))

    def on_exception_form(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = _presser(body)
        values = _values(view)
        errors = exception_form_errors(values, self.runtime.settings.exception_max_days)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            exception = self.desk.exceptions.ask(
                str(_metadata(view).get("tool") or ""),
                user=user,
                justification=_typed(values, "why"),
                purpose=_typed(values, "purpose"),
                data_class=_typed(values, "data"),
                days=int(_typed(values, "days")),
            )
        except PolicyError as error:
            ack(response_action="errors", errors={"why": str(error)[:150]})
            return
        ack(
            response_action="update",
            view=_done_view(
                "Exception requested",
                f"Asked for an exception ({exception.label}) to {exception.tool_name} for "
                f"{exception.days} days. You get a DM when it is decided.",
            ),
        )

    def on_watch(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user = _presser(body)
        try:
            result = self.desk.watches.watch(str(action.get("value") or ""), user=user)
            text = (
                f":bell: You will get a DM when the {escape(result.tool)} policy changes. "
                f"Stop with `{escape(self.runtime.settings.command)} unwatch "
                f"{escape(result.tool)}`."
                if result.first_time
                else f":bell: You are already watching {escape(result.tool)}."
            )
        except PolicyError as error:
            text = f":warning: {escape(str(error))}"
        respond(text=text, response_type="ephemeral", replace_original=False)

    def on_feedback(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user = _presser(body)
        question = unescape(str(action.get("value") or ""))[:2000]
        helpful = action.get("action_id") == HELPFUL_ACTION
        # The answer as the registry gives it now (the message itself is not trusted).
        answer = answer_question(question, self.service.registry())
        try:
            self.desk.feedback.record(
                user=user,
                question=question,
                answer=render_text(answer, self.runtime.settings.contact),
                tools=[t.policy.name for t in answer.tools],
                helpful=helpful,
            )
        except PolicyError as error:  # over the limit, or a double click lost twice
            respond(
                text=f":hourglass: {escape(str(error))}",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        text = (
            ":thumbsup: Thanks, glad it helped."
            if helpful
            else ":memo: Thanks: the policy admins will look at this answer."
        )
        respond(text=text, response_type="ephemeral", replace_original=False)

    # -- admins ----------------------------------------------------------------------------

    def on_add_for_review(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        user = _presser(body)
        try:
            request_id = int(str(action.get("value")))
            name = self.desk.add_for_review(request_id, user=user, source=SOURCE)
        except (PolicyError, ValueError) as error:
            _refuse(respond, error)
            return
        policy = self.runtime.policies.get(name)
        version = self.runtime.policies.version_of(name)
        if policy is not None:
            target = modal.EditTarget(policy.name, version, create=False)
            form = self.seal.seal(modal.edit_view(policy, target))
            client.views_open(trigger_id=body["trigger_id"], view=form)
        _mark_decided(
            client, body, f":hourglass_flowing_sand: Added {name} for review by <@{user}>."
        )

    def on_decision_button(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        """Decline a request, or approve/decline an exception: check first, then the form."""
        ack()
        user = _presser(body)
        action_id = str(action.get("action_id"))
        kind = "R" if action_id == DECLINE_REQUEST_ACTION else "E"
        approve = action_id == APPROVE_EXCEPTION_ACTION
        revoke = action_id == REVOKE_EXCEPTION_ACTION
        until = None
        try:
            subject_id = int(str(action.get("value")))
            if kind == "R":
                self.desk.check_request_decider(subject_id, user)
            elif revoke:
                self.desk.exceptions.check_revoker(subject_id, user)
            else:
                view = self.desk.exceptions.check_decider(subject_id, user)
                end = view.requested_at + dt.timedelta(days=view.days)
                until = (
                    max(self.runtime.store.clock(), end).astimezone(self.zone).date().isoformat()
                )
        except (PolicyError, ValueError) as error:
            _refuse(respond, error)
            return
        form = decision_form(kind, subject_id, approve=approve, until=until, revoke=revoke)
        client.views_open(trigger_id=body["trigger_id"], view=self.seal.seal(form))

    def on_decision_form(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = _presser(body)  # checked again: the form may come from anyone
        meta = _metadata(view)
        values = _values(view)
        reason = _typed(values, "reason")
        kind, approve = str(meta.get("kind")), bool(meta.get("approve"))
        revoke_button: Block | None = None
        try:
            subject_id = int(meta.get("id") or 0)
            if meta.get("revoke"):
                exception = self.desk.exceptions.revoke(subject_id, user=user, reason=reason)
                summary = f":no_entry_sign: Revoked by <@{user}>: {escape(reason)}"
                label = exception.label
            elif kind == "R":
                result = self.desk.decline_request(subject_id, user=user, reason=reason)
                summary = f":no_entry_sign: Declined by <@{user}>: {escape(reason)}"
                label = result.label
            elif approve:
                until_text = _typed(values, "until")
                until = dt.date.fromisoformat(until_text) if until_text else None
                exception = self.desk.exceptions.approve(
                    subject_id, user=user, until=until, note=reason
                )
                summary = (
                    f":white_check_mark: Approved by <@{user}> until {exception.until(self.zone)}."
                )
                label = exception.label
                revoke_button = {
                    "type": "actions",
                    "block_id": "policybot_notice",
                    "elements": [
                        _button(REVOKE_EXCEPTION_ACTION, "Revoke…", str(subject_id), "danger")
                    ],
                }
            else:
                exception = self.desk.exceptions.decline(subject_id, user=user, reason=reason)
                summary = f":no_entry_sign: Declined by <@{user}>: {escape(reason)}"
                label = exception.label
        except (PolicyError, ValueError) as error:
            field = "until" if approve and "until" in _values(view) else "reason"
            ack(response_action="errors", errors={field: str(error)[:150]})
            return
        ack()
        # The admin post of this request or exception, as the database knows it: the form's
        # metadata names only what was decided, never which message to rewrite.
        notices = self.desk.requests if kind == "R" else self.desk.exceptions
        notice_id = notices.admin_notice_id(subject_id)
        posted = posted_at(self.runtime.engine, notice_id)
        if posted is not None:
            channel, ts = posted
            notice = notice_of(self.runtime.engine, notice_id)
            _update_decided(client, channel, ts, f"{label}: {summary}", notice, revoke_button)

    def on_term_button(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        user = _presser(body)
        if not self.service.is_admin(user):
            _refuse(respond, PolicyError("Only policy admins can work the unanswered queue."))
            return
        term = str(action.get("value") or "")
        action_id = action.get("action_id")
        if action_id == ADD_TOOL_ACTION:
            if self.runtime.policies.get(term) is not None:
                _refuse(respond, PolicyError(f"'{term}' already names a tool."))
                return
            policy = ToolPolicy(name=" ".join(term.split()), status=Status.UNDER_REVIEW)
            target = modal.EditTarget(policy.name, None, create=True)
            form = self.seal.seal(modal.edit_view(policy, target))
            client.views_open(trigger_id=body["trigger_id"], view=form)
            return
        callback = ALIAS_FORM if action_id == ADD_ALIAS_ACTION else ANSWER_FORM
        client.views_open(
            trigger_id=body["trigger_id"], view=self.seal.seal(term_form(callback, term))
        )

    def on_term_form(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = _presser(body)
        term = str(_metadata(view).get("term") or "")
        values = _values(view)
        try:
            if view.get("callback_id") == ALIAS_FORM:
                text = self.desk.alias_term(term, _typed(values, "tool"), user=user, source=SOURCE)
                field = "tool"
            else:
                field = "text"
                told = self.desk.answer_term(term, _typed(values, "text"), user=user)
                text = f"Answered '{term}'; {told} people told."
        except PolicyError as error:
            ack(response_action="errors", errors={field: str(error)[:150]})
            return
        ack(response_action="update", view=_done_view("Done", text))

    def on_feedback_done(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user = _presser(body)
        if not self.service.is_admin(user):
            _refuse(respond, PolicyError("Only policy admins can work the feedback queue."))
            return
        try:
            self.desk.feedback.handle(int(str(action.get("value"))), user=user)
        except (PolicyError, ValueError) as error:
            _refuse(respond, error)
            return
        respond(
            text=":white_check_mark: Marked done.",
            response_type="ephemeral",
            replace_original=False,
        )


def _presser(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _refuse(respond: Respond, error: Exception) -> None:
    respond(
        text=f":lock: {escape(str(error))} Nothing was changed.",
        response_type="ephemeral",
        replace_original=False,
    )


def _done_view(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": text_message(text).blocks,
    }


def _mark_decided(client: WebClient, body: dict[str, Any], line: str) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    blocks = [
        b for b in (body.get("message") or {}).get("blocks") or [] if b.get("type") != "actions"
    ]
    if channel and ts:
        _post_update(client, str(channel), str(ts), line, [*blocks, context(line)])


def _update_decided(
    client: WebClient,
    channel: str,
    ts: str,
    line: str,
    notice: Notice | None,
    extra: Block | None = None,
) -> None:
    """The admin post as first sent, its buttons replaced by who decided (and `extra`)."""
    shown = notice_blocks(replace(notice, buttons=())).blocks if notice else []
    _post_update(client, channel, ts, line, [*shown, context(line), *([extra] if extra else [])])


def _post_update(client: WebClient, channel: str, ts: str, line: str, blocks: list[Block]) -> None:
    try:
        client.chat_update(channel=channel, ts=ts, text=line, blocks=blocks)
    except SlackApiError as error:
        log.warning("could not update the admin post: %s", error.response.get("error"))


def register(app: App, runtime: Runtime) -> None:
    """The Bolt extension (owners' user groups reach the desk through the composition root)."""
    if runtime.desk is None:
        return
    RequestListeners(runtime).register(app)

"""The "when the answer is no" desk: requests, exceptions, watches, feedback and the queue,
as commands anyone (or admins) can type, and as the use cases the Slack buttons call.

Registry changes it causes (Add for review, a term made an alias) run as the admin
commands `add` and `alias` (`Admin.run`, given by the composition root), so they get the
same permission check, revision and announcement as when an admin types them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.adapters.db import audit
from bot.app.admin import Admin
from bot.app.changes import Actor
from bot.app.feedback import Feedback
from bot.app.policy_exceptions import Exceptions, ExceptionView
from bot.app.tool_requests import Filed, RequestError, RequestView, ToolRequests
from bot.app.unanswered import TermGroup, UnansweredQueue
from bot.app.watches import Watches
from bot.domain.answers import Registry
from bot.domain.commands import (
    AddAlias,
    AnswerTerm,
    AskException,
    Decide,
    DeskCommand,
    EditTool,
    FileRequest,
    ListExceptions,
    ListRequests,
    ListWatches,
    Revoke,
    ShowAudit,
    ShowFeedback,
    ShowUnanswered,
    WatchTool,
)
from bot.domain.errors import PolicyError
from bot.domain.names import name_key
from bot.domain.phrases import EN


@dataclass(frozen=True)
class DeskReply:
    kind: str  # admin | error | refused
    text: str


# (command, user, source) -> (ok, text): the service's command path for registry changes.


def describe_exception(view: ExceptionView, zone: dt.tzinfo) -> str:
    head = f"{view.label} {view.tool_name} for {view.user}: {view.status}"
    if view.status == "active":
        head += f" until {view.until(zone)}"
    elif view.status == "pending":
        head += f", {view.days} days asked"
    body = f"; for {view.purpose}, data up to {view.data_class}"
    if view.decided_by:
        body += f"; decided by {view.decided_by}"
    if view.end_reason:
        body += f"; {view.end_reason}"
    return head + body


def describe_request(view: RequestView, zone: dt.tzinfo) -> str:
    day = view.created_at.astimezone(zone).date().isoformat()
    reasons = [a.why for a in view.askers if a.why]
    text = f"{view.label} {view.tool_name}: {view.status}, {len(view.askers)} asked (first {day})"
    if reasons:
        text += f"; why: {' | '.join(reasons[:3])}"
    return text


def describe_filed(filed: Filed) -> str:
    view = filed.request
    if filed.outcome == "already":
        return (
            f"You already asked about {view.tool_name} ({view.label}); "
            "you will get a DM when it is decided."
        )
    others = len(view.askers) - 1
    also = f" {others} other(s) asked too." if others else ""
    return (
        f"Asked the policy admins to review {view.tool_name} ({view.label}).{also} "
        "You will get a DM when they decide."
    )


def describe_queue(groups: list[TermGroup], zone: dt.tzinfo) -> str:
    """The unanswered queue as text: one line per term, most asked first, with an example."""
    if not groups:
        return "Every question so far found a policy."
    lines = ["Questions with no policy, by term, most asked first:"]
    for group in groups:
        day = group.last_asked.astimezone(zone).date().isoformat()
        known = f", {len(group.askers)} waiting for an answer" if group.askers else ""
        example = f" (e.g. “{group.examples[0]}”)" if group.examples else ""
        lines.append(f"• {group.term}: {EN.asked(group.count)}, last on {day}{known}{example}")
    lines.append(
        "Add a term as an alias (alias <tool> <term>) or a tool (add <term>), or answer it "
        "(answer <term>: <text>): it then leaves the queue."
    )
    return "\n".join(lines)


def describe_answered(term: str, told: int) -> str:
    """What `answer <term>: …` did: the term left the queue; who was told, truthfully."""
    if told:
        people = "1 person who asked was" if told == 1 else f"{told} people who asked were"
        return f"Answered '{term}': it leaves the queue, and {people} sent your answer."
    return (
        f"Answered '{term}': it leaves the queue. Nobody was sent your answer: no one who "
        "asked is known (only people who asked for a review are, or everyone with "
        "POLICYBOT_LOG_ASKERS=true)."
    )


class Desk:
    def __init__(
        self,
        *,
        requests: ToolRequests,
        exceptions: Exceptions,
        watches: Watches,
        feedback: Feedback,
        unanswered: UnansweredQueue,
        is_admin: Callable[[str], bool],
        admin: Admin,
        registry: Callable[[], Registry],
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        self.requests = requests
        self.exceptions = exceptions
        self.watches = watches
        self.feedback = feedback
        self.unanswered = unanswered
        self.is_admin = is_admin
        self.admin = admin
        self.registry = registry
        self.zone = zone

    def run(self, command: DeskCommand, *, user: str, source: str) -> DeskReply:
        try:
            return DeskReply("admin", self._run(command, user, source))
        except PolicyError as error:
            return DeskReply("error", str(error))

    def _run(self, command: DeskCommand, user: str, source: str) -> str:
        match command:
            case FileRequest(tool=tool, why=why):
                return describe_filed(self.file_request(tool, user=user, why=why))
            case AskException():
                view = self.exceptions.ask(
                    command.tool,
                    user=user,
                    justification=command.why,
                    purpose=command.purpose,
                    data_class=command.data_class,
                    days=command.days,
                )
                return (
                    f"Asked for an exception ({view.label}) to {view.tool_name} for "
                    f"{view.days} days. The policy admins decide; you get a DM either way."
                )
            case ListExceptions(status=status):
                return self.list_exceptions(status, user)
            case ListRequests():
                views = self.requests.listing()
                if not views:
                    return "No open tool requests."
                return "\n".join(
                    ["Tool requests:"] + [f"• {describe_request(v, self.zone)}" for v in views]
                )
            case Decide(subject=subject, approve=approve, reason=reason, until=until):
                return self.decide(subject, approve, user, source, reason=reason, until=until)
            case Revoke(subject=subject, reason=reason):
                view = self.exceptions.revoke(int(subject[1:]), user=user, reason=reason)
                return f"Revoked {view.label} ({view.tool_name} for {view.user})."
            case WatchTool(tool=tool, watch=True):
                result = self.watches.watch(tool, user=user)
                if not result.first_time:
                    return f"You are already watching {result.tool}."
                return f"You will get a DM when the {result.tool} policy changes."
            case WatchTool(tool=tool, watch=False):
                return f"You no longer watch {self.watches.unwatch(tool, user=user)}."
            case ListWatches():
                names = self.watches.watched(user)
                return (
                    f"You watch: {', '.join(names)}." if names else "You are not watching any tool."
                )
            case ShowFeedback():
                return self.describe_feedback()
            case ShowAudit(subject=subject):
                return self.describe_audit(subject)
            case AnswerTerm(term=term, text=text):
                told = self.answer_term(term, text, user=user)
                return describe_answered(term, told)
            case ShowUnanswered():
                return describe_queue(self.unanswered.groups(self.registry()), self.zone)
        raise TypeError(f"unhandled command {command!r}")

    # -- use cases the Slack buttons call too ------------------------------------------------

    def file_request(self, tool: str, *, user: str, why: str | None) -> Filed:
        # `request claude cli` names a tool in two words: check the longer names first.
        words = f"{tool} {why or ''}".split()
        for size in range(min(len(words), 6), 1, -1):
            known = self.requests.policies.get(" ".join(words[:size]))
            if known is not None:
                tool = known.name
                break
        return self.requests.file(tool, user=user, why=why)

    def check_request_decider(self, request_id: int, user: str) -> RequestView:
        """The open request, if `user` is an admin who did not ask for it."""
        if not self.is_admin(user):
            raise RequestError("Only policy admins can add a tool for review or decline it.")
        return self.requests.check_decider(request_id, user)

    def add_for_review(self, request_id: int, *, user: str, source: str) -> str:
        """Create the requested tool as under review through the `add` command path."""
        view = self.check_request_decider(request_id, user)
        try:
            self.admin.run(EditTool(tool=view.tool_name, create=True), Actor(user, source))
        except PolicyError as error:
            raise RequestError(str(error)) from error
        return view.tool_name

    def decline_request(self, request_id: int, *, user: str, reason: str) -> RequestView:
        self.check_request_decider(request_id, user)
        return self.requests.decline(request_id, user=user, reason=reason)

    def decide(
        self,
        subject: str,
        approve: bool,
        user: str,
        source: str,
        *,
        reason: str | None = None,
        until: dt.date | None = None,
    ) -> str:
        number = int(subject[1:])
        if subject.startswith("R"):
            if approve:
                name = self.add_for_review(number, user=user, source=source)
                return f"Added {name} for review ({subject}); the askers are told."
            view = self.decline_request(number, user=user, reason=reason or "")
            return f"Declined {view.label} ({view.tool_name}); {len(view.askers)} told."
        if approve:
            exception = self.exceptions.approve(number, user=user, until=until, note=reason or "")
            return f"Approved {exception.label} until {exception.until(self.zone)}."
        exception = self.exceptions.decline(number, user=user, reason=reason or "")
        return f"Declined {exception.label} ({exception.tool_name} for {exception.user})."

    def alias_term(self, term: str, tool: str, *, user: str, source: str) -> str:
        """Make an unanswered term an alias of `tool`, through the `alias` command path."""
        return self.admin.run(AddAlias(tool=tool, alias=term), Actor(user, source)).text

    def answer_term(self, term: str, text: str, *, user: str) -> int:
        if not self.is_admin(user):
            raise PolicyError("Only policy admins can answer the unanswered queue.")
        key = name_key(term)
        group = next(
            (g for g in self.unanswered.groups(self.registry(), 500) if g.key == key), None
        )
        if group is None:
            raise PolicyError(
                f"'{term}' is not in the unanswered queue: answer a term as `unanswered` lists it"
            )
        return self.unanswered.answer(group.term, text, group.askers, user=user)

    # -- listings --------------------------------------------------------------------------

    def list_exceptions(self, status: str | None, user: str) -> str:
        mine = not self.is_admin(user)
        views = self.exceptions.listing([status] if status else None, user=user if mine else None)
        if not views:
            return "You have no exceptions." if mine else "No exceptions."
        groups = ("active", "pending", "expired", "revoked", "ended", "declined")
        lines = ["Your exceptions:" if mine else "Exceptions:"]
        for group in groups:
            for view in views:
                if view.status == group:
                    lines.append(f"• {describe_exception(view, self.zone)}")
        return "\n".join(lines)

    def describe_feedback(self) -> str:
        items = self.feedback.queue()
        if not items:
            return "No answers marked not helpful are waiting."
        lines = ["Answers marked not helpful (newest first):"]
        for item in items:
            tools = ", ".join(item.tools) or "no policy"
            day = item.at.astimezone(self.zone).date().isoformat()
            lines.append(f"• F{item.id} “{item.question}” ({tools}) by {item.user} on {day}")
        return "\n".join(lines)

    def describe_audit(self, subject: str | None) -> str:
        if subject and subject.upper()[:1] in "RE" and subject[1:].isdigit():
            found = audit.events(self.requests.store.engine, subject=subject.upper())
        elif subject:
            policy = self.requests.policies.get(subject)
            key = name_key(policy.name if policy else subject)
            found = audit.events(self.requests.store.engine, tool_key=key)
        else:
            found = audit.events(self.requests.store.engine, limit=30)
        if not found:
            return "Nothing in the audit trail" + (f" for {subject}." if subject else " yet.")
        return "\n".join(
            ["Audit trail (oldest first):"] + [f"• {audit.describe(e, self.zone)}" for e in found]
        )

"""Workflow Builder custom steps, through Bolt's `app.function` listeners.

"Check an AI tool's policy" answers as a question would (`PolicyService.ask`, the person as
asker so their exceptions count) and outputs the first tool's facts; a tool with no policy
completes with status `no-policy`, so a workflow can branch on it. "Request an AI tool
review" files the request as the "Ask for a review" form does (`Desk.file_request`). Each
step completes, or fails with a sentence saying what to fix; none ends silently.
The callback ids, inputs and outputs are declared in manifest.yml under `functions`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Complete, Fail

from bot.app.desk import Desk, describe_filed
from bot.app.runtime import Runtime
from bot.app.service import PolicyService
from bot.domain.answers import Answer
from bot.domain.errors import PolicyError
from bot.domain.links import ToolPages, tool_pages
from bot.domain.policy import Status

log = logging.getLogger(__name__)

CHECK_POLICY = "check_tool_policy"
REQUEST_REVIEW = "request_tool_review"
CHANNEL = "workflow"  # the question-log channel of questions a workflow asks
NO_POLICY = "no-policy"


def policy_outputs(answer: Answer, pages: ToolPages | None) -> dict[str, Any]:
    """The check step's outputs: the first tool the answer is about, or that there is none."""
    if not answer.answered or not answer.tools:
        return {
            "tool": answer.topic or answer.question,
            "status": NO_POLICY,
            "effective_date": "",
            "data_limit": "",
            "alternatives": "",
            "catalogue_link": "",
            "has_exception": False,
        }
    first = answer.tools[0]
    policy = first.policy
    data = policy.max_data.value if policy.max_data else ""
    return {
        "tool": policy.name,
        "status": policy.status.value,
        "effective_date": policy.effective.isoformat() if policy.effective else "",
        "data_limit": "none" if policy.status is Status.BANNED else data,
        "alternatives": ", ".join(
            [alt.name for alt in first.alternatives] + list(first.unknown_alternatives)
        ),
        "catalogue_link": pages.url(policy.name) if pages else "",
        "has_exception": bool(answer.notes_for(policy.name)),
    }


class CustomSteps:
    def __init__(self, service: PolicyService, desk: Desk, pages: ToolPages | None) -> None:
        self.service = service
        self.desk = desk
        self.pages = pages

    def register(self, app: App) -> None:
        app.function(CHECK_POLICY)(self.on_check_policy)
        app.function(REQUEST_REVIEW)(self.on_request_review)

    def on_check_policy(self, inputs: dict[str, Any], complete: Complete, fail: Fail) -> None:
        question = str(inputs.get("tool") or "").strip()
        if not question:
            fail("No tool given: put a tool name or a question in the step's Tool field.")
            return
        person = str(inputs.get("person") or "") or None
        try:
            answer = self.service.ask(question, asker=person, channel=CHANNEL)
        except Exception:
            log.exception("a workflow's policy check failed")
            fail("policybot could not read the policies just now: run the workflow again.")
            return
        complete(outputs=policy_outputs(answer, self.pages))

    def on_request_review(self, inputs: dict[str, Any], complete: Complete, fail: Fail) -> None:
        tool = str(inputs.get("tool") or "").strip()
        requester = str(inputs.get("requester") or "").strip()
        if not tool or not requester:
            fail("A review request needs a tool and a requester: fill both in the step.")
            return
        reason = str(inputs.get("reason") or "").strip() or None
        try:
            filed = self.desk.file_request(tool, user=requester, why=reason)
        except PolicyError as error:
            fail(f"The review was not requested: {error}")
            return
        complete(
            outputs={
                "request_id": filed.request.label,
                "outcome": filed.outcome,
                "message": describe_filed(filed),
            }
        )


def register(app: App, runtime: Runtime) -> None:
    pages = tool_pages(runtime.settings.public_url)
    CustomSteps(runtime.service, runtime.desk, pages).register(app)

"""The edit form shows the default it edits and each audience's rule beside it."""

from __future__ import annotations

from bot.adapters.db.store import Store
from bot.adapters.slack.modal import EditTarget, edit_view
from bot.app.changes import Actor, ImportPolicies
from bot.domain.commands import SetPolicy
from bot.domain.policy import Audience, Status
from tests.factories import make_policy
from tests.wiring import runtime_on

ADMIN = Actor("U0ADMIN", "slack", trusted=True)


def test_the_edit_form_shows_the_default_and_each_rule(store: Store) -> None:
    runtime = runtime_on(store)
    runtime.changes.import_policies(
        ImportPolicies(
            (make_policy("Tongyi Lingma", status=Status.BANNED),),
            audiences=(Audience("china-engineering", "China engineering", members=("U1",)),),
        ),
        ADMIN,
    )
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.CONDITIONAL, audience="china-engineering",
                  conditions="Use the company account."),
        ADMIN,
    )  # fmt: skip
    lingma = runtime.policies.resolve("Tongyi Lingma")

    view = edit_view(lingma, EditTarget("Tongyi Lingma", 2, create=False))

    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    [rules] = [b for b in view["blocks"] if b.get("block_id") == "rules"]
    assert inputs["status"]["element"]["initial_option"]["value"] == "banned"  # the default
    text = rules["elements"][0]["text"]
    assert "for china-engineering: allowed with conditions, conditions: Use the company" in text

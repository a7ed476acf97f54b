"""Rules for audiences through the one write path: `set … --for`, `unset … --for`, drafts and
the form, each a revision in a policy version; answers for the people in the audience."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db.store import Store
from bot.app.changes import Actor, ImportPolicies, SavePolicy
from bot.app.runtime import Runtime
from bot.domain.commands import SetPolicy, UnsetRule, parse_command
from bot.domain.errors import PolicyError
from bot.domain.policy import Audience, DataClass, Status, Translation
from tests.factories import make_policy
from tests.wiring import runtime_on

ADMIN = Actor("U0ADMIN", "slack", trusted=True)
CHINA = Audience("china-engineering", "China engineering", members=("U0CHINA1",))
MARKETING = Audience("china-marketing", "China marketing", members=("U0MKT",))


@pytest.fixture
def runtime(store: Store) -> Runtime:
    runtime = runtime_on(store)
    runtime.changes.import_policies(
        ImportPolicies(
            (
                make_policy(
                    "Tongyi Lingma",
                    status=Status.BANNED,
                    reason="Qoder is the supported choice.",
                    translations=(Translation("zh", reason="请使用 Qoder。"),),
                    effective=dt.date(2026, 10, 1),
                ),
                make_policy("Qoder", status=Status.ALLOWED),
            ),
            audiences=(CHINA, MARKETING),
        ),
        Actor("seed", "import", trusted=True),
    )
    return runtime


def test_set_for_an_audience_adds_its_rule_and_keeps_the_default(runtime: Runtime) -> None:
    command = parse_command(
        'set "Tongyi Lingma" conditional --for china-engineering '
        "--conditions Signed in with the company Alibaba Cloud account. --max-data internal"
    )
    assert isinstance(command, SetPolicy) and command.audience == "china-engineering"

    change = runtime.changes.run(command, ADMIN)

    assert set(change.changed) == {"rules"}
    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and lingma.status is Status.BANNED
    [rule] = lingma.rules
    assert rule.status is Status.CONDITIONAL and rule.max_data is DataClass.INTERNAL
    assert rule.effective == runtime.changes.today()  # a new status takes effect today
    [revision] = [r for r in runtime.policies.history("Tongyi Lingma") if r.action == "update"]
    assert revision.version is not None and "rules" in revision.changes


def test_the_member_is_answered_with_the_rule_at_once(runtime: Runtime) -> None:
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.ALLOWED, audience="china-engineering"), ADMIN
    )

    mine = runtime.service.ask("can I use Tongyi Lingma?", asker="U0CHINA1")
    theirs = runtime.service.ask("can I use Tongyi Lingma?", asker="U0MKT")

    assert mine.tools[0].policy.status is Status.ALLOWED
    assert theirs.tools[0].policy.status is Status.BANNED


def test_a_second_set_for_the_same_audience_changes_only_the_fields_given(
    runtime: Runtime,
) -> None:
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.CONDITIONAL, audience="china-engineering",
                  conditions="Use SSO.", max_data=DataClass.INTERNAL),
        ADMIN,
    )  # fmt: skip
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.CONDITIONAL, audience="china-engineering",
                  max_data=DataClass.CONFIDENTIAL),
        ADMIN,
    )  # fmt: skip

    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None
    [rule] = lingma.rules
    assert rule.conditions == "Use SSO." and rule.max_data is DataClass.CONFIDENTIAL


def test_unset_for_drops_the_rule_and_the_members_get_the_default(runtime: Runtime) -> None:
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.ALLOWED, audience="china-engineering"), ADMIN
    )
    command = parse_command('unset "Tongyi Lingma" --for china-engineering')
    assert command == UnsetRule("Tongyi Lingma", "china-engineering")

    runtime.changes.run(command, ADMIN)

    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and lingma.rules == ()
    answer = runtime.service.ask("can I use Tongyi Lingma?", asker="U0CHINA1")
    assert answer.tools[0].policy.status is Status.BANNED


def test_unknown_audiences_and_missing_rules_are_refused_with_the_fix(runtime: Runtime) -> None:
    with pytest.raises(PolicyError, match="unknown audience 'sales': use one of china-eng"):
        runtime.changes.run(SetPolicy("Qoder", Status.BANNED, audience="sales"), ADMIN)
    with pytest.raises(PolicyError, match="Qoder has no rule for 'china-engineering'"):
        runtime.changes.run(UnsetRule("Qoder", "china-engineering"), ADMIN)


def test_unset_needs_an_audience() -> None:
    with pytest.raises(ValueError, match="--for AUDIENCE"):
        parse_command("unset Qoder")


def test_the_edit_form_keeps_the_rules_and_translations_it_does_not_show(
    runtime: Runtime,
) -> None:
    runtime.changes.run(
        SetPolicy("Tongyi Lingma", Status.ALLOWED, audience="china-engineering"), ADMIN
    )
    form = make_policy(
        "Tongyi Lingma", status=Status.BANNED, reason="Qoder is the supported choice."
    )

    runtime.changes.run(SavePolicy(form, tool="Tongyi Lingma"), ADMIN)

    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and [r.audience for r in lingma.rules] == ["china-engineering"]
    assert lingma.translations == (Translation("zh", reason="请使用 Qoder。"),)


def test_a_new_reason_drops_its_stale_translation(runtime: Runtime) -> None:
    runtime.changes.run(SetPolicy("Tongyi Lingma", Status.BANNED, reason="Use Qoder now."), ADMIN)

    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and lingma.translations == ()


def test_a_staged_rule_is_published_as_one_version(runtime: Runtime) -> None:
    assert runtime.drafts is not None
    runtime.drafts.stage(
        SetPolicy("Tongyi Lingma", Status.ALLOWED, audience="china-engineering"), ADMIN
    )
    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and lingma.rules == ()  # staff see nothing before publish

    published = runtime.drafts.publish(ADMIN)

    lingma = runtime.policies.get("Tongyi Lingma")
    assert published.version is not None
    assert lingma is not None and lingma.rules[0].status is Status.ALLOWED

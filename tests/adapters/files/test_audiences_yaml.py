"""Rules per audience, texts per language and policies/audiences.yaml as files: read, checked,
written back byte for byte, and kept through the import and the export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import (
    PolicyFileError,
    check_path,
    dump_policies,
    load_policies,
    read_audiences,
    write_policies,
)
from bot.domain.policy import AudienceRule, DataClass, Status, Translation
from tests.conftest import REPO
from tests.wiring import runtime_on, seed

RULED = """\
tools:
  - name: Tongyi Lingma
    status: banned
    reason: Qoder is the supported choice.
    alternatives: [Qoder]
    rules:
      - audience: china-engineering
        status: conditional
        conditions: "Signed in with the company Alibaba Cloud account."
        max_data: internal
        translations:
          zh:
            conditions: 使用公司的阿里云账号登录。
    translations:
      zh:
        reason: 请使用 Qoder。

  - name: Qoder
    status: allowed
    reason: The approved assistant.
"""

AUDIENCES = """\
audiences:
  - name: china-engineering
    title: China engineering
    slack_usergroup: china-eng
    members: [U0CHINA1, U0CHINA2]
    translations:
      zh:
        title: 中国工程团队
"""


def folder_with(tmp_path: Path, tools: str = RULED, audiences: str | None = AUDIENCES) -> Path:
    (tmp_path / "tools.yaml").write_text(tools, encoding="utf-8")
    if audiences is not None:
        (tmp_path / "audiences.yaml").write_text(audiences, encoding="utf-8")
    return tmp_path


def test_rules_and_translations_are_read_field_by_field(tmp_path: Path) -> None:
    lingma, _qoder = load_policies(folder_with(tmp_path))
    assert lingma.rules == (
        AudienceRule(
            "china-engineering",
            status=Status.CONDITIONAL,
            conditions="Signed in with the company Alibaba Cloud account.",
            max_data=DataClass.INTERNAL,
            translations=(Translation("zh", conditions="使用公司的阿里云账号登录。"),),
        ),
    )
    assert lingma.translations == (Translation("zh", reason="请使用 Qoder。"),)


def test_the_audiences_file_is_read_and_is_not_a_file_of_tools(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    [audience] = read_audiences(folder)
    assert audience.slack_usergroup == "china-eng"
    assert audience.members == ("U0CHINA1", "U0CHINA2")
    assert (
        audience.title_in("zh") == "中国工程团队" and audience.title_in("en") == "China engineering"
    )
    assert [p.name for p in load_policies(folder)] == ["Tongyi Lingma", "Qoder"]


def test_writing_the_same_policies_back_changes_no_byte(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    report = write_policies(load_policies(folder), folder)
    assert report.written == []
    assert (folder / "tools.yaml").read_text(encoding="utf-8") == RULED


def test_the_export_of_a_ruled_tool_reads_back_as_the_same_policy(tmp_path: Path) -> None:
    policies = load_policies(folder_with(tmp_path))
    exported = tmp_path / "export.yaml"
    exported.write_text(dump_policies(policies), encoding="utf-8")
    assert load_policies(exported) == policies
    # The line-by-line export is what a write into a new file makes, byte for byte.
    written = tmp_path / "written.yaml"
    write_policies(policies, written, folder=False)
    assert written.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")


def test_a_rule_added_to_a_tool_keeps_the_blank_line_before_the_next(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    lingma, qoder = load_policies(folder)
    ruled = type(qoder)(**{**qoder.__dict__, "rules": (AudienceRule("china-engineering"),)})
    write_policies([lingma, ruled], folder)
    text = (folder / "tools.yaml").read_text(encoding="utf-8")
    assert text.startswith(RULED.split("\n\n")[0] + "\n\n  - name: Qoder")
    assert text.endswith("    rules:\n      - audience: china-engineering\n")


def test_check_refuses_a_rule_for_an_audience_the_file_does_not_name(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, RULED.replace("audience: china-engineering", "audience: sales"))
    with pytest.raises(PolicyFileError) as error:
        check_path(folder)
    assert "'sales' is not an audience in audiences.yaml" in str(error.value)
    assert "tools.yaml:6:" in str(error.value)


def test_check_reports_overlapping_rules_that_disagree_and_missing_translations(
    tmp_path: Path,
) -> None:
    tools = RULED.replace(
        "    translations:\n      zh:\n        reason: 请使用 Qoder。\n",
        "      - audience: contractors\n        status: under-review\n"
        "    translations:\n      zh:\n        reason: 请使用 Qoder。\n",
    )
    audiences = (
        AUDIENCES + "  - name: contractors\n    title: Contractors\n    members: [U0CHINA1]\n"
    )
    result = check_path(folder_with(tmp_path, tools, audiences))
    assert any("both 'china-engineering' and 'contractors'" in note for note in result.notes)
    assert any("no zh text" in note and "Qoder" in note for note in result.notes)


def test_an_audience_without_a_group_or_members_is_a_problem(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, audiences="audiences:\n  - name: nobody\n    title: Nobody\n")
    with pytest.raises(PolicyFileError) as error:
        read_audiences(folder)
    assert "give its slack_usergroup, its members, or both" in str(error.value)


def test_the_import_of_the_shipped_folder_keeps_rules_translations_and_audiences(
    store: Store, tmp_path: Path
) -> None:
    from bot.adapters.files.policyfile import load_audiences
    from bot.app.changes import Actor, ImportPolicies

    runtime = runtime_on(store)
    folder = Path(shutil.copytree(REPO / "policies", tmp_path / "policies"))
    files = load_policies(folder)
    runtime.changes.import_policies(
        ImportPolicies(tuple(files), audiences=load_audiences(folder)),
        Actor("import", "import", trusted=True),
    )
    lingma = runtime.policies.get("Tongyi Lingma")
    assert lingma is not None and lingma.rules[0].audience == "china-engineering"
    assert lingma.translations[0].language == "zh"
    assert [a.name for a in runtime.policies.audiences()] == [
        "china-engineering",
        "china-marketing",
    ]
    # Exported and imported again: nothing changes.
    generation = runtime.policies.generation()
    write_policies(runtime.policies.policies(), folder)
    assert seed(runtime, load_policies(folder)).updated == []
    assert runtime.policies.generation() == generation

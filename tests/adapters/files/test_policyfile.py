"""Policy YAML: reading with precise errors, writing, and the import/export round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import (
    PolicyFileError,
    dump_policies,
    load_policies,
    write_policies,
)
from bot.domain.policy import DataClass, Status
from tests.conftest import REPO
from tests.factories import make_policy, seed_registry
from tests.wiring import runtime_on, seed

GOOD = """\
tools:
  - name: Claude Code
    vendor: Anthropic
    aliases: [claude-code, claude cli]
    category: coding-assistant
    status: banned
    reason: Sends environment metadata with every request.
    conditions: null
    max_data: null
    alternatives: [Qoder]
    effective: 2026-11-20
    owner: "#ai-governance"
    link: https://intranet.example/ai-policy/claude-code
  - name: Qoder
    status: allowed
    max_data: confidential
"""


def write(tmp_path: Path, text: str, name: str = "tools.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(PolicyFileError) as error:
        load_policies(path)
    return error.value.problems


def test_reads_every_field(tmp_path: Path) -> None:
    claude, qoder = load_policies(write(tmp_path, GOOD))
    assert claude.status == Status.BANNED
    assert claude.aliases == ("claude-code", "claude cli")
    assert claude.effective == dt.date(2026, 11, 20)
    assert claude.owner == "#ai-governance"
    assert claude.conditions is None
    assert qoder.max_data == DataClass.CONFIDENTIAL


def test_unknown_status_names_file_line_field_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: forbidden\n")
    assert problems_of(path) == [
        f"{path}:3: status: unknown status 'forbidden': "
        "use allowed, conditional, under-review, banned"
    ]


def test_bad_date_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: allowed\n    effective: 1/12/2026\n")
    assert problems_of(path) == [f"{path}:4: effective: bad date '1/12/2026': use YYYY-MM-DD"]


def test_a_day_that_does_not_exist_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: allowed\n    effective: 2026-11-31\n")
    assert problems_of(path) == [
        f"{path}:4: effective: the date '2026-11-31' does not exist: November 2026 has 30 days"
    ]


def test_a_month_that_does_not_exist_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: allowed\n    effective: 2026-13-01\n")
    assert problems_of(path) == [
        f"{path}:4: effective: the date '2026-13-01' does not exist: there is no month 13"
    ]


def test_unknown_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: allowed\n    colour: red\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:4: colour: unknown key")


def test_duplicate_name_across_files_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "tools:\n  - name: Cursor\n    status: allowed\n", "a.yaml")
    write(tmp_path, "tools:\n  - name: cursor\n    status: banned\n", "b.yaml")
    [problem] = problems_of(tmp_path)
    first = tmp_path / "a.yaml"
    assert problem == f"{tmp_path / 'b.yaml'}:2: name: 'cursor' already names 'Cursor' at {first}:2"


def test_alias_clashing_with_another_tool_points_at_the_alias(tmp_path: Path) -> None:
    text = "tools:\n  - name: A\n    status: allowed\n  - name: B\n    status: allowed\n"
    path = write(tmp_path, text + "    aliases:\n      - b one\n      - a\n")
    assert problems_of(path) == [f"{path}:8: aliases: 'a' already names 'A' at {path}:2"]


def test_unknown_alternative_points_at_its_item(tmp_path: Path) -> None:
    text = "tools:\n  - name: A\n    status: banned\n    alternatives:\n      - A2\n      - Zed\n"
    path = write(tmp_path, text + "  - name: A2\n    status: allowed\n")
    assert problems_of(path) == [f"{path}:6: alternatives: 'Zed' is not a tool in the policy files"]


def test_problems_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "tools:\n  - name: B\n    status: nope\n    colour: red\n", "b.yaml")
    write(tmp_path, "tools:\n  - name: A\n    status: allowed\n    effective: soon\n", "a.yaml")
    write(tmp_path, "tools:\n  - name: C\n    status: allowed\n", "c.yaml")
    write(tmp_path, "tools:\n  - name: D\n    status: allowed\n  - name: c\n", "b2.yaml")
    places = [problem.split(": ")[0] for problem in problems_of(tmp_path)]
    assert places == [
        f"{tmp_path / 'a.yaml'}:4",
        f"{tmp_path / 'b.yaml'}:3",
        f"{tmp_path / 'b.yaml'}:4",
        f"{tmp_path / 'b2.yaml'}:4",
        # The entry without a status is still read: its name is a duplicate in the same run.
        f"{tmp_path / 'c.yaml'}:2",
    ]


def test_alternative_not_in_the_files_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    status: banned\n    alternatives: [Zed]\n")
    assert problems_of(path) == [f"{path}:4: alternatives: 'Zed' is not a tool in the policy files"]


def test_missing_status_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: A\n    vendor: X\n")
    assert problems_of(path) == [f"{path}:2: status: missing"]


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tools:\n  - name: [A\n    status: allowed\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:") and "not valid YAML" in problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "tools:\n  - name: A\n    status: nope\n  - name: B\n    status: allowed\n    x: 1\n"
    assert len(problems_of(write(tmp_path, text))) == 2


def test_dump_then_load_gives_the_same_policies() -> None:
    policies = seed_registry()
    path_text = dump_policies(policies)
    assert "- name: Claude Code" in path_text
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.yaml"
        path.write_text(path_text, encoding="utf-8")
        assert load_policies(path) == policies


# Values YAML reads as something else, or cannot hold plain, in every field.
AWKWARD = (
    "#channel", "yes", "null", "~", "1.0", "2025-01-01", "a: b", "a #b", "- dash", "[x]",
    "x, y", "*star", "&amp", "!bang", "|pipe", "'quote", '"double"', "%pct", "@at", "`tick",
    "?q", "tab\there", "new\nline", " lead", "trail ", "\x85", "\u2028", "\ufeffbom",
    "\xa0nbsp", "emoji 😀", "中文\uff0c标点", "back\\slash", "0x1F", ".inf", "-1", "1e3", "...",
    "---", "bell\x07", "12:30", "<@U0BOSS>", "=SUM(A1)", "ends:", "-",
)  # fmt: skip


def test_dump_writes_what_a_round_trip_into_a_new_file_writes(tmp_path: Path) -> None:
    policies = [
        *seed_registry(),
        *(
            make_policy(
                f"Tool {n}",
                status=list(Status)[n % 4],
                vendor=text,
                aliases=(text, f"alias {n}"),
                category=text,
                reason=text,
                conditions=text,
                max_data=list(DataClass)[n % 4],
                alternatives=(text,),
                effective=dt.date(2025, 1, 1 + n % 28),
                owner=text,
                link=text,
            )
            for n, text in enumerate(AWKWARD)
        ),
    ]
    write_policies(policies, tmp_path / "new.yaml")

    assert dump_policies(policies) == (tmp_path / "new.yaml").read_text(encoding="utf-8")
    assert dump_policies([]) == "tools: []\n"


def test_export_to_a_folder_writes_one_file_per_category(tmp_path: Path) -> None:
    written = write_policies(seed_registry(), tmp_path).written
    assert sorted(p.name for p in written) == ["coding-assistant.yaml", "uncategorised.yaml"]
    assert sorted(p.name for p in load_policies(tmp_path)) == sorted(
        p.name for p in seed_registry()
    )


def test_import_of_export_leaves_the_registry_unchanged(store: Store, tmp_path: Path) -> None:
    runtime = runtime_on(store)
    seed(runtime, load_policies(REPO / "policies"))
    generation = runtime.policies.generation()
    before = runtime.policies.policies()
    write_policies(before, tmp_path / "export.yaml")
    report = seed(runtime, load_policies(tmp_path / "export.yaml"))
    assert report.created == [] and report.updated == [] and report.removed == []
    assert runtime.policies.policies() == before
    assert runtime.policies.generation() == generation


def test_shipped_registry_is_valid_and_large_enough() -> None:
    policies = load_policies(REPO / "policies")
    assert len(policies) >= 30
    claude = next(p for p in policies if p.name == "Claude Code")
    assert claude.status == Status.BANNED and "Qoder" in claude.alternatives
    assert {p.status for p in policies} == set(Status)
    assert any(any(ord(c) > 0x2E80 for c in alias) for p in policies for alias in p.aliases)

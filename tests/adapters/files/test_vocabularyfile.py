"""The vocabulary files: the shipped words, the admins' additions, their checks and reloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.files.policyfile import PolicyFileError, policy_files
from bot.adapters.files.vocabularyfile import (
    VocabularyFile,
    check_vocabulary,
    read_vocabulary,
    shipped_vocabulary,
)
from bot.domain.policy import DataClass
from tests.conftest import REPO


def write(folder: Path, text: str) -> Path:
    path = folder / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_words_are_the_data_file_in_the_package() -> None:
    vocabulary = shipped_vocabulary()
    assert vocabulary.data_named("paste customer data")[0] is DataClass.CONFIDENTIAL
    assert vocabulary.status_asked("banned", "which tools are banned")
    assert vocabulary.categories_asked("any coding assistants?") == ("coding",)


def test_admin_words_are_added_to_the_shipped_ones(tmp_path: Path) -> None:
    write(tmp_path, "statuses:\n  banned: [verboten]\ndata:\n  confidential: [board minutes]\n")
    vocabulary = VocabularyFile(tmp_path).current()
    assert vocabulary.status_asked("banned", "which tools are verboten?")
    assert vocabulary.status_asked("banned", "which tools are banned?")  # still there
    assert vocabulary.data_named("our board minutes")[0] is DataClass.CONFIDENTIAL
    assert not shipped_vocabulary().status_asked("banned", "which tools are verboten?")


def test_a_new_capability_needs_no_code(tmp_path: Path) -> None:
    write(
        tmp_path,
        "capabilities:\n  brainstorming:\n    asked: [brainstorm, 头脑风暴]\n"
        "    tool_words: [miro]\n",
    )
    vocabulary = VocabularyFile(tmp_path).current()
    assert (found := vocabulary.capability("any ai to brainstorm with?")) is not None
    assert found.name == "brainstorming" and found.tool_words == ("miro",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("statuses:\n  forbiden: [verboten]\n", ":2: unknown status 'forbiden' in 'statuses'"),
        ("synonyms:\n  a: [b]\n", ":1: unknown section 'synonyms': use facets, statuses"),
        ("data:\n  public: verboten\n", ":2: 'data.public' must be a list of words"),
        ("periods:\n  fortnight:\n    days: two\n", ":3: 'periods.fortnight.days' must be"),
        ("vendors:\n  华为: [huawei]\n", ":2: vendor '华为' must name one vendor word"),
        ("facets: [access\n", ":2: not valid YAML"),
    ],
)
def test_a_malformed_file_is_one_line_per_problem_with_its_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyFileError) as error:
        read_vocabulary(path)
    assert len(error.value.problems) == 1
    assert error.value.problems[0].startswith(str(path) + problem), error.value.problems


def test_check_counts_the_phrases_added(tmp_path: Path) -> None:
    path = write(tmp_path, "facets:\n  access: [signed off, sign-off]\nvendors:\n  华为: huawei\n")
    assert check_vocabulary(path) == 3


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good_words(
    tmp_path: Path,
) -> None:
    source = VocabularyFile(tmp_path)
    assert source.current() is shipped_vocabulary()
    write(tmp_path, "statuses:\n  banned: [verboten]\n")
    added = source.current()
    assert added.status_asked("banned", "verboten tools")
    assert source.current() is added  # unchanged file: not read again
    write(tmp_path, "statuses:\n  banned: verboten, and more\n")
    assert source.current() is added
    (tmp_path / "vocabulary.yaml").unlink()
    assert source.current() is shipped_vocabulary()


def test_the_vocabulary_file_is_not_a_policy_file(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text("tools: []\n", encoding="utf-8")
    write(tmp_path, "statuses:\n  banned: [verboten]\n")
    assert [p.name for p in policy_files(tmp_path)] == ["tools.yaml"]
    assert all(p.name != "vocabulary.yaml" for p in policy_files(REPO / "policies"))

"""The admin command grammar: text -> typed commands, and the one-line errors people see."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.commands import (
    ADMIN_COMMANDS,
    AddAlias,
    Announce,
    AnswerTerm,
    AskException,
    CancelScheduled,
    CommandError,
    Decide,
    DiscardDraft,
    EditTool,
    FileRequest,
    ListExceptions,
    ListRequests,
    ListTools,
    ListWatches,
    PublishDraft,
    RemoveTool,
    Revoke,
    SetPolicy,
    ShowAcks,
    ShowAudit,
    ShowDraft,
    ShowFeedback,
    ShowHelp,
    ShowHistory,
    ShowUnanswered,
    StageChange,
    UnsetRule,
    WatchTool,
    is_command,
    parse_command,
    usage,
)
from bot.domain.policy import DataClass, Status

SET_USAGE = (
    "Usage: set <tool> <status> [--reason TEXT] [--alternatives A,B] [--effective YYYY-MM-DD]"
    " [--conditions TEXT] [--max-data CLASS] [--for AUDIENCE] [--quiet]"
)


def parse_error(text: str) -> str:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    return str(caught.value)


# --- set: tool names and quoting -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'set "Claude Code" banned',
        "set 'Claude Code' banned",
        "set \u201cClaude Code\u201d banned",  # curly doubles from Slack/macOS
        "set \u2018Claude Code\u2019 banned",  # curly singles
        "set Claude Code banned",  # unquoted: the status is the last bare word
        "set   Claude    Code   banned",
        "SET Claude Code BANNED",
    ],
)
def test_set_reads_the_tool_name_in_any_quoting_style(text: str) -> None:
    assert parse_command(text) == SetPolicy(tool="Claude Code", status=Status.BANNED)


def test_set_keeps_an_apostrophe_inside_an_unquoted_curly_name() -> None:
    command = parse_command("set Devin\u2019s Agent allowed")
    assert command == SetPolicy(tool="Devin\u2019s Agent", status=Status.ALLOWED)


def test_set_with_a_single_word_tool() -> None:
    assert parse_command("set cursor allowed") == SetPolicy(tool="cursor", status=Status.ALLOWED)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("allowed", Status.ALLOWED),
        ("conditional", Status.CONDITIONAL),
        ("under-review", Status.UNDER_REVIEW),
        ("under_review", Status.UNDER_REVIEW),
        ('"under review"', Status.UNDER_REVIEW),
        ("under review", Status.UNDER_REVIEW),
        ("Banned", Status.BANNED),
    ],
)
def test_set_accepts_every_status_spelling(word: str, status: Status) -> None:
    command = parse_command(f"set Claude Code {word}")
    assert command == SetPolicy(tool="Claude Code", status=status)


# --- set: options ------------------------------------------------------------------------------


def test_set_with_every_option() -> None:
    command = parse_command(
        'set "Claude Code" banned --reason "Collects environment details" '
        "--alternatives Qoder,Cursor --effective 2026-11-20 "
        '--conditions "Public code only" --max-data internal --quiet'
    )
    assert command == SetPolicy(
        tool="Claude Code",
        status=Status.BANNED,
        reason="Collects environment details",
        alternatives=("Qoder", "Cursor"),
        effective=date(2026, 11, 20),
        conditions="Public code only",
        max_data=DataClass.INTERNAL,
        quiet=True,
    )


def test_set_options_accept_the_equals_form() -> None:
    command = parse_command(
        'set Cursor conditional --reason="Privacy mode on" --alternatives=Qoder '
        "--effective=2026-01-15 --conditions='Enable privacy mode' --max-data=confidential"
    )
    assert command == SetPolicy(
        tool="Cursor",
        status=Status.CONDITIONAL,
        reason="Privacy mode on",
        alternatives=("Qoder",),
        effective=date(2026, 1, 15),
        conditions="Enable privacy mode",
        max_data=DataClass.CONFIDENTIAL,
    )


def test_set_option_value_runs_to_the_next_option_without_quotes() -> None:
    command = parse_command("set Claude Code banned --reason attaches hidden metadata --quiet")
    assert command == SetPolicy(
        tool="Claude Code", status=Status.BANNED, reason="attaches hidden metadata", quiet=True
    )


def test_set_options_accept_curly_quoted_values() -> None:
    command = parse_command("set Cursor allowed --reason \u201cSOC 2 report on file\u201d")
    assert isinstance(command, SetPolicy)
    assert command.reason == "SOC 2 report on file"


@pytest.mark.parametrize("dash", ["\u2014", "\u2013"])
def test_set_accepts_an_option_whose_dashes_were_autocorrected(dash: str) -> None:
    command = parse_command(f"set Cursor allowed {dash}quiet")
    assert command == SetPolicy(tool="Cursor", status=Status.ALLOWED, quiet=True)


def test_set_accepts_an_underscore_in_an_option_name() -> None:
    command = parse_command("set Cursor allowed --max_data public")
    assert isinstance(command, SetPolicy)
    assert command.max_data is DataClass.PUBLIC


def test_set_without_options_leaves_every_field_unchanged() -> None:
    command = parse_command("set Cursor allowed")
    assert isinstance(command, SetPolicy)
    assert (command.reason, command.alternatives, command.effective) == (None, None, None)
    assert (command.conditions, command.max_data, command.quiet) == (None, None, False)


@pytest.mark.parametrize(
    "option", ['--alternatives ""', "--alternatives none", "--alternatives NONE", "--alternatives="]
)
def test_set_empty_or_none_alternatives_clears_them(option: str) -> None:
    command = parse_command(f"set Cursor allowed {option}")
    assert isinstance(command, SetPolicy)
    assert command.alternatives == ()


def test_set_alternatives_may_contain_spaces_and_duplicates_are_dropped() -> None:
    command = parse_command("set X banned --alternatives Qoder, GitHub Copilot,qoder,")
    assert isinstance(command, SetPolicy)
    assert command.alternatives == ("Qoder", "GitHub Copilot")


def test_set_empty_reason_means_clear_it() -> None:
    command = parse_command('set Cursor allowed --reason ""')
    assert isinstance(command, SetPolicy)
    assert command.reason == ""


def test_set_option_before_the_status_leaves_the_status_missing() -> None:
    message = parse_error('set "Claude Code" --reason x banned')
    assert message.startswith("missing status for 'Claude Code'.")


# --- set: errors -------------------------------------------------------------------------------


def test_set_unknown_status_lists_the_statuses_and_the_usage() -> None:
    assert parse_error("set Claude Code forbidden") == (
        "unknown status 'forbidden': use allowed, conditional, under-review or banned. " + SET_USAGE
    )


def test_set_bad_date_names_the_format() -> None:
    assert parse_error("set X banned --effective 2026-1-5") == (
        "bad date '2026-1-5' for --effective: use YYYY-MM-DD. " + SET_USAGE
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [("2026-02-30", "February 2026 has 28 days"), ("2026-13-01", "there is no month 13")],
)
def test_set_says_a_well_written_date_does_not_exist(value: str, why: str) -> None:
    assert parse_error(f"set X banned --effective {value}") == (
        f"--effective: the date '{value}' does not exist: {why}. " + SET_USAGE
    )


@pytest.mark.parametrize("value", ["20261120", "2026-1-5", "next week"])
def test_set_rejects_dates_not_in_yyyy_mm_dd(value: str) -> None:
    assert parse_error(f"set X banned --effective '{value}'").startswith(
        f"bad date '{value}' for --effective: use YYYY-MM-DD."
    )


def test_set_unknown_option_is_named() -> None:
    assert parse_error("set X banned --reson typo") == (
        "unknown option '--reson': use --reason, --alternatives, --effective, --conditions,"
        " --max-data, --for or --quiet. " + SET_USAGE
    )


def test_set_unknown_data_class_lists_the_classes() -> None:
    assert parse_error("set X conditional --max-data secret") == (
        "unknown data class 'secret' for --max-data: use public, internal, confidential or"
        " restricted. " + SET_USAGE
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("set", "missing tool and status"),
        ("set banned", "missing tool"),
        ('set "" banned', "missing tool"),
        ("set Cursor", "missing status for 'Cursor'"),
        ("set --quiet", "missing tool and status"),
    ],
)
def test_set_missing_parts_show_the_usage(text: str, problem: str) -> None:
    assert parse_error(text) == f"{problem}. {SET_USAGE}"


@pytest.mark.parametrize("option", ["--reason", "--effective", "--alternatives", "--max-data"])
def test_set_option_without_a_value_is_an_error(option: str) -> None:
    assert parse_error(f"set X banned {option}") == f"{option} needs a value. {SET_USAGE}"


def test_set_flag_with_a_value_is_an_error() -> None:
    assert parse_error("set X banned --quiet=yes") == f"--quiet takes no value. {SET_USAGE}"


def test_set_option_given_twice_is_an_error() -> None:
    assert parse_error("set X banned --reason a --reason b") == f"--reason given twice. {SET_USAGE}"


def test_set_bare_word_after_a_flag_is_an_error() -> None:
    assert parse_error("set X banned --quiet now") == (
        f"unexpected 'now' after --quiet: the tool and status come before the options. {SET_USAGE}"
    )


def test_unclosed_quote_is_an_error() -> None:
    assert parse_error("set Tom's Tool banned").startswith("unclosed quote:")


# --- alias -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'alias "Claude Code" "claude cli"',
        "alias 'Claude Code' 'claude cli'",
        "alias \u201cClaude Code\u201d \u201cclaude cli\u201d",
        "alias Claude Code = claude cli",
        "alias Claude Code -> claude cli",
        'alias "Claude Code" = claude cli',
    ],
)
def test_alias_reads_multi_word_names(text: str) -> None:
    assert parse_command(text) == AddAlias(tool="Claude Code", alias="claude cli")


def test_alias_with_two_bare_words() -> None:
    assert parse_command("alias cody sourcegraph-cody") == AddAlias(
        tool="cody", alias="sourcegraph-cody"
    )


def test_alias_with_unquoted_multi_word_names_is_ambiguous() -> None:
    assert parse_error("alias Claude Code claude cli") == (
        "can't tell where the tool ends and the alias begins in 'Claude Code claude cli':"
        ' write alias "Claude Code" "claude cli" or alias Claude Code = claude cli.'
        " Usage: alias <tool> <alias>"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("alias", "missing tool"),
        ("alias = claude", "missing tool"),
        ("alias cody", "missing alias for 'cody'"),
        ("alias Claude Code =", "missing alias for 'Claude Code'"),
        ("alias a = b = c", "more than one '=' between the tool and the alias"),
        ("alias Cody CODY", "the alias 'CODY' is the tool's own name"),
        ("alias cody x --quiet", "alias takes no options, got '--quiet'"),
    ],
)
def test_alias_errors_show_the_usage(text: str, problem: str) -> None:
    assert parse_error(text) == f"{problem}. Usage: alias <tool> <alias>"


# --- verbs that take one tool ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "command"),
    [
        ("remove", RemoveTool(tool="Claude Code")),
        ("history", ShowHistory(tool="Claude Code")),
        ("edit", EditTool(tool="Claude Code")),
        ("add", EditTool(tool="Claude Code", create=True)),
        ("announce", Announce(tool="Claude Code")),
        ("acks", ShowAcks(tool="Claude Code")),
    ],
)
@pytest.mark.parametrize("name", ["Claude Code", '"Claude Code"', "\u2018Claude Code\u2019"])
def test_tool_verbs_read_the_whole_tool_name(verb: str, command: object, name: str) -> None:
    assert parse_command(f"{verb} {name}") == command


@pytest.mark.parametrize("verb", ["remove", "history", "edit", "add", "announce", "acks"])
def test_tool_verbs_without_a_tool_show_the_usage(verb: str) -> None:
    assert parse_error(verb) == f"missing tool. Usage: {verb} <tool>"


def test_tool_verbs_reject_options() -> None:
    assert parse_error("remove Cursor --quiet") == (
        "remove takes no options, got '--quiet'. Usage: remove <tool>"
    )


# --- list, unanswered, help --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("list", None),
        ("list all", None),
        ("list banned", Status.BANNED),
        ("list under review", Status.UNDER_REVIEW),
        ("LIST Conditional", Status.CONDITIONAL),
    ],
)
def test_list_takes_an_optional_status(text: str, status: Status | None) -> None:
    assert parse_command(text) == ListTools(status=status)


def test_list_unknown_status_is_an_error() -> None:
    assert parse_error("list forbidden") == (
        "unknown status 'forbidden': use allowed, conditional, under-review or banned."
        " Usage: list [status]"
    )


def test_unanswered() -> None:
    assert parse_command("unanswered") == ShowUnanswered()


def test_unanswered_with_arguments_is_an_error() -> None:
    assert parse_error("unanswered please") == (
        "unanswered takes no arguments, got 'please'. Usage: unanswered"
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [("help", ShowHelp()), ("help set", ShowHelp(command="set")), ("Help ACKS", ShowHelp("acks"))],
)
def test_help_takes_an_optional_command(text: str, command: ShowHelp) -> None:
    assert parse_command(text) == command


def test_help_for_an_unknown_command_lists_the_commands() -> None:
    assert parse_error("help ban") == (
        "unknown command 'ban': use set, alias, remove, unschedule, unset, history, list,"
        " unanswered, help, edit, add, announce, acks, changes, draft, publish, discard, request,"
        " exception, exceptions, watch, unwatch, watching, requests, approve, decline, revoke,"
        " feedback, audit or answer."
        " Usage: help [command]"
    )


def test_help_with_two_commands_is_an_error() -> None:
    assert parse_error("help set alias") == (
        "help takes one command, got 'set alias'. Usage: help [command]"
    )


# --- unknown and empty input -------------------------------------------------------------------


def test_unknown_verb_lists_the_commands() -> None:
    assert parse_error("ban Cursor").startswith("unknown command 'ban': use set, alias,")


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_input_is_an_error(text: str) -> None:
    assert parse_error(text).startswith("empty command: use set, alias,")


def test_every_error_is_one_line() -> None:
    for text in ["set", "alias a b c", "list x", "help x", "set X banned --effective x", "ban"]:
        assert "\n" not in parse_error(text)


# --- is_command --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Set Claude Code banned",
        "set cursor allowed",
        "  list",
        "HELP",
        "alias cody sourcegraph-cody",
        "unanswered",
        "acks Claude Code",
    ],
)
def test_is_command_for_commands(text: str) -> None:
    assert is_command(text)


@pytest.mark.parametrize(
    "text",
    [
        "can I use Claude Code?",
        "is Cursor allowed",
        "what about DeepSeek",
        "settings for Copilot?",  # starts with a verb's prefix, not the verb
        "help?",
        "",
    ],
)
def test_is_command_is_false_for_questions(text: str) -> None:
    assert not is_command(text)


# --- usage and ADMIN_COMMANDS ------------------------------------------------------------------


def test_usage_of_one_verb_is_one_line() -> None:
    assert usage("alias") == "alias <tool> <alias>"
    assert usage("SET") == SET_USAGE.removeprefix("Usage: ")


def test_usage_without_a_verb_lists_every_command() -> None:
    text = usage()
    for verb in ["set", "alias", "remove", "history", "list", "unanswered", "help"]:
        assert f"\n  {usage(verb)}  " in text
    for verb in ["edit", "add", "announce", "acks"]:
        assert f"\n  {verb} <tool>  " in text


def test_usage_of_an_unknown_verb_raises() -> None:
    with pytest.raises(CommandError, match="unknown command 'ban'"):
        usage("ban")


def test_admin_commands_are_every_command_but_help_list_and_the_staff_desk() -> None:
    assert ShowHelp not in ADMIN_COMMANDS and ListTools not in ADMIN_COMMANDS
    # Staff may ask for reviews and exceptions, watch tools and list their own exceptions;
    # deciding is checked per request (admins, or a tool's owner for exceptions).
    staff = {FileRequest, AskException, ListExceptions, WatchTool, ListWatches, Decide}
    assert not staff & ADMIN_COMMANDS
    assert {
        ListRequests,
        Revoke,
        ShowFeedback,
        ShowAudit,
        AnswerTerm,
        SetPolicy,
        AddAlias,
        RemoveTool,
        CancelScheduled,
        UnsetRule,
        ShowHistory,
        ShowUnanswered,
        EditTool,
        Announce,
        ShowAcks,
        ShowDraft,
        StageChange,
        PublishDraft,
        DiscardDraft,
    } == ADMIN_COMMANDS


def test_commands_are_immutable() -> None:
    command = parse_command("remove Cursor")
    with pytest.raises(AttributeError):
        command.tool = "Other"  # type: ignore[misc,union-attr]


# -- the draft of the next version ---------------------------------------------------------------


def test_draft_alone_shows_the_draft_and_draft_with_a_change_stages_it() -> None:
    assert parse_command("draft") == ShowDraft()
    assert parse_command("draft set Claude Code banned --reason x") == StageChange(
        SetPolicy("Claude Code", Status.BANNED, reason="x")
    )
    assert parse_command("DRAFT remove Cursor") == StageChange(RemoveTool("Cursor"))
    assert parse_command("draft edit Cursor") == StageChange(EditTool("Cursor"))
    assert parse_command("draft add Kiro") == StageChange(EditTool("Kiro", create=True))
    assert parse_command("publish") == PublishDraft()
    assert parse_command("discard") == DiscardDraft()
    assert parse_command("discard 2") == DiscardDraft(2)


def test_draft_refuses_what_it_cannot_stage_with_its_usage() -> None:
    for text, problem in [
        ("draft list", "'list' cannot be staged: draft stages set, alias, add, edit or remove"),
        ("draft set Cursor", "missing status for 'Cursor'"),
        ("discard two", "name one staged change by its number in `draft`"),
        ("discard 0", "name one staged change by its number in `draft`"),
        ("publish now", "publish takes no arguments, got 'now'"),
    ]:
        with pytest.raises(CommandError, match=problem):
            parse_command(text, is_tool=lambda name: name == "Cursor")


# -- the command table ---------------------------------------------------------------------


def test_every_command_type_is_made_by_some_verb_of_the_table() -> None:
    from typing import get_args

    from bot.domain.commands import COMMANDS, Command

    made = {kind for spec in COMMANDS for kind in spec.makes}

    assert set(get_args(Command)) == made


def test_the_help_lists_every_verb_of_the_table_in_its_order() -> None:
    from bot.domain.commands import COMMANDS

    text = usage()
    positions = [text.index(spec.usage) for spec in COMMANDS]

    assert positions == sorted(positions)


def test_a_type_is_admin_only_when_every_verb_making_it_is() -> None:
    from bot.domain.commands import ADMIN_COMMANDS, ADMIN_VERBS, Decide, Revoke, SetPolicy

    assert SetPolicy in ADMIN_COMMANDS and Revoke in ADMIN_COMMANDS
    assert Decide not in ADMIN_COMMANDS  # a tool's owners approve its exceptions too
    assert "revoke" in ADMIN_VERBS and "approve" not in ADMIN_VERBS

"""The admin command grammar: one line of text -> one typed command. No I/O.

The console chat and Slack's `/aipolicy` slash command share this parser. `parse_command`
returns one of the frozen dataclasses below or raises `CommandError`, whose message is a
single line for the person who typed the command: what is wrong, then the usage.
Tool names are not checked here; the store resolves them against the registry.

Tokenising is `shlex` (POSIX rules) after curly quotes are straightened, so
`set "Claude Code" banned`, `set “Claude Code” banned`, `set 'Claude Code' banned` and
`set Claude Code banned` all name the same tool. An option's value runs up to the next
option, so `--reason collects metadata` needs no quotes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

from bot.domain.policy import DataClass, Status, audience_problem, parse_day


class CommandError(ValueError):
    """A command a person typed is malformed; `str(error)` is the one-line reply."""


@dataclass(frozen=True)
class SetPolicy:
    """Set a tool's status and, optionally, other policy fields.

    `None` means "leave unchanged"; `alternatives=()`, `reason=""` and `conditions=""`
    clear the field, as does a field named in `clear` (`--max-data none`). `quiet` records
    the change without announcing it.
    """

    tool: str
    status: Status
    reason: str | None = None
    alternatives: tuple[str, ...] | None = None
    effective: date | None = None
    conditions: str | None = None
    max_data: DataClass | None = None
    quiet: bool = False
    clear: frozenset[str] = frozenset()
    # `--for AUDIENCE`: the rule for that audience, not the default (the fields given
    # override the default's for its members; the rest stay the default's).
    audience: str | None = None


@dataclass(frozen=True)
class UnsetRule:
    """`unset <tool> --for AUDIENCE`: drop the audience's rule; its members get the default."""

    tool: str
    audience: str


@dataclass(frozen=True)
class AddAlias:
    tool: str
    alias: str


@dataclass(frozen=True)
class RemoveTool:
    tool: str


@dataclass(frozen=True)
class CancelScheduled:
    """`unschedule <tool>`: drop the tool's scheduled change; today's policy stays."""

    tool: str


@dataclass(frozen=True)
class ShowHistory:
    tool: str


@dataclass(frozen=True)
class ListTools:
    status: Status | None = None


@dataclass(frozen=True)
class ShowUnanswered:
    """List the questions the bot could not answer."""


@dataclass(frozen=True)
class ShowHelp:
    command: str | None = None


@dataclass(frozen=True)
class EditTool:
    """Open a tool's policy for editing; `create` is True for `add <tool>`."""

    tool: str
    create: bool = False


@dataclass(frozen=True)
class Announce:
    tool: str


@dataclass(frozen=True)
class ShowAcks:
    tool: str  # or a version, "v7"


@dataclass(frozen=True)
class ShowChanges:
    """The policy versions, newest first; or one version's changes."""

    version: int | None = None


# -- the draft of the next policy version (issue 14) -----------------------------------------


@dataclass(frozen=True)
class ShowDraft:
    """`draft`: what is staged for the next version, and who staged it."""


@dataclass(frozen=True)
class StageChange:
    """`draft set …` / `draft alias …` / `draft add …` / `draft remove …`: stage a change;
    `draft edit <tool>` shows (console) or edits in the form (Slack) the tool as drafted."""

    command: SetPolicy | AddAlias | RemoveTool | EditTool


@dataclass(frozen=True)
class PublishDraft:
    """`publish`: every staged change as one policy version, announced once."""


@dataclass(frozen=True)
class DiscardDraft:
    """`discard` drops the whole draft; `discard 2` only its second change."""

    number: int | None = None


# -- when the answer is no (issue 16): requests, exceptions, watches, the queue -------------


@dataclass(frozen=True)
class FileRequest:
    """Ask for a review of a tool that has no policy."""

    tool: str
    why: str | None = None


@dataclass(frozen=True)
class AskException:
    tool: str
    purpose: str
    data_class: str
    days: int
    why: str


@dataclass(frozen=True)
class ListExceptions:
    """`exceptions [active|pending|expired|all]`: admins see everyone's, staff their own."""

    status: str | None = None


@dataclass(frozen=True)
class ListRequests:
    pass


@dataclass(frozen=True)
class Decide:
    """Approve or decline a request (R12) or an exception (E7)."""

    subject: str
    approve: bool
    reason: str | None = None
    until: date | None = None


@dataclass(frozen=True)
class Revoke:
    subject: str
    reason: str


@dataclass(frozen=True)
class WatchTool:
    tool: str
    watch: bool = True


@dataclass(frozen=True)
class ListWatches:
    pass


@dataclass(frozen=True)
class ShowFeedback:
    pass


@dataclass(frozen=True)
class ShowAudit:
    subject: str | None = None


@dataclass(frozen=True)
class AnswerTerm:
    term: str
    text: str


DeskCommand: TypeAlias = (
    FileRequest
    | AskException
    | ListExceptions
    | ListRequests
    | Decide
    | Revoke
    | WatchTool
    | ListWatches
    | ShowFeedback
    | ShowAudit
    | AnswerTerm
    | ShowUnanswered
)

Command: TypeAlias = (
    SetPolicy
    | UnsetRule
    | AddAlias
    | RemoveTool
    | CancelScheduled
    | ShowHistory
    | ListTools
    | ShowHelp
    | EditTool
    | Announce
    | ShowAcks
    | ShowChanges
    | ShowDraft
    | StageChange
    | PublishDraft
    | DiscardDraft
    | DeskCommand
)

_SET_USAGE = (
    "set <tool> <status> [--reason TEXT] [--alternatives A,B] [--effective YYYY-MM-DD]"
    " [--conditions TEXT] [--max-data CLASS] [--for AUDIENCE] [--quiet]"
)
_UNSET_USAGE = "unset <tool> --for AUDIENCE"

# option name -> does it take a value
_SET_OPTIONS: dict[str, bool] = {
    "reason": True,
    "alternatives": True,
    "effective": True,
    "conditions": True,
    "max-data": True,
    "for": True,
    "quiet": False,
}
_UNSET_OPTIONS: dict[str, bool] = {"for": True}

_ALIAS_SEPARATORS = frozenset({"=", "->", "→"})
# Smart quotes from Slack/macOS: curly doubles are always quotes; a curly single pair is a
# quote only at word edges, so an apostrophe inside a word (Devin's) survives.
_CURLY_DOUBLE = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00a0": " "})
_CURLY_SINGLE_PAIR = re.compile(r"(?<!\w)[\u2018\u2019](.*?)[\u2018\u2019](?!\w)")
_DASHES = "\u2014\u2013"  # em and en dash


def staff_usage() -> list[str]:
    """The usage lines of the commands anyone may run (read-only or their own requests)."""
    return [
        spec.usage
        for spec in COMMANDS
        if spec.verb in ("list", "help") or spec.summary.startswith("anyone:")
    ]


def usage(verb: str | None = None) -> str:
    """The usage line for `verb`, or the full help text listing every command."""
    if verb is not None:
        key = verb.strip().lower()
        if key not in SPECS:
            raise CommandError(f"unknown command '{verb}': use {_or_list(SPECS)}")
        return SPECS[key].usage
    lines = ["Admin commands (in the console, or after /aipolicy in Slack):"]
    lines += [f"  {spec.usage}  — {spec.summary}" for spec in COMMANDS]
    lines += [
        f"Statuses: {_or_list(Status.choices())}. Data classes: {_or_list(DataClass)}.",
        'Quote names with spaces when in doubt: set "Claude Code" banned;'
        " alias Claude Code = claude cli.",
        "Anything that does not start with a command is treated as a question.",
    ]
    return "\n".join(lines)


def is_command(text: str) -> bool:
    """True if the first word is a command verb (any case); everything else is a question."""
    return command_verb(text) is not None


def command_verb(text: str) -> str | None:
    """The command word `text` starts with (lower case), or None for a question."""
    words = _normalise(text).split(maxsplit=1)
    return words[0].lower() if words and words[0].lower() in SPECS else None


def parse_command(text: str, is_tool: Callable[[str], bool] | None = None) -> Command:
    """Parse one admin command; raise `CommandError` with a one-line message if it is malformed.

    `is_tool` says whether some words name a tool in the registry; with it, `set Claude Code`
    is known to lack its status rather than to name the status 'Code'.
    """
    normalised = _normalise(text)
    words = normalised.split(maxsplit=1)
    if not words:
        raise CommandError(f"empty command: use {_or_list(SPECS)}. Usage: {usage('help')}")
    verb = words[0].lower()
    if verb not in SPECS:
        raise CommandError(
            f"unknown command '{words[0]}': use {_or_list(SPECS)}. Usage: {usage('help')}"
        )
    rest = words[1] if len(words) > 1 else ""
    return SPECS[verb].parse(verb, rest, is_tool)


def _shell_words(verb: str, text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise _error(
            verb, "unclosed quote: close it, or put a name with an apostrophe in double quotes"
        ) from None


def _parse_set(verb: str, rest: str, is_tool: Callable[[str], bool] | None) -> SetPolicy:
    positionals, options = _split_options(verb, rest)
    status, tool_words = _split_status(verb, positionals, is_tool)
    tool = _join_name(tool_words)
    if not tool:
        raise _error(verb, "missing tool")
    clear: set[str] = set()
    texts: dict[str, str | None] = {}
    for name in ("reason", "conditions"):
        value = options.get(name)
        texts[name] = None if value is None else ("" if _is_none(value) else value.strip())
    alternatives = options.get("alternatives")
    effective = options.get("effective")
    max_data = options.get("max-data")
    if max_data is not None and _is_none(max_data):
        clear.add("max_data")
        max_data = None
    audience = options.get("for")
    if audience is not None:
        audience = _parse_audience(verb, audience)
    return SetPolicy(
        tool=tool,
        status=status,
        audience=audience,
        reason=texts["reason"],
        alternatives=_parse_alternatives(alternatives) if alternatives is not None else None,
        effective=_parse_date(verb, effective) if effective is not None else None,
        conditions=texts["conditions"],
        max_data=_parse_data_class(verb, max_data) if max_data is not None else None,
        quiet="quiet" in options,
        clear=frozenset(clear),
    )


def _parse_audience(verb: str, value: str) -> str:
    name = _unquote(value).strip()
    if not name:
        raise _error(verb, "--for needs an audience, such as --for china-engineering")
    problem = audience_problem(name)
    if problem:
        raise _error(verb, problem)
    return name


def _parse_unset(verb: str, rest: str) -> UnsetRule:
    positionals, options = _split_options(verb, rest, _UNSET_OPTIONS)
    tool = _join_name(positionals)
    if not tool:
        raise _error(verb, "missing tool")
    if "for" not in options:
        raise _error(verb, f"say whose rule to drop with --for AUDIENCE (for '{tool}')")
    return UnsetRule(tool=tool, audience=_parse_audience(verb, options["for"]))


def _is_none(value: str) -> bool:
    return value.strip().lower() in ("", "none")


def _split_status(
    verb: str, positionals: list[str], is_tool: Callable[[str], bool] | None
) -> tuple[Status, list[str]]:
    """The status is the last bare word before the options; the words before it name the tool."""
    if not positionals:
        raise _error(verb, "missing tool and status")
    # "under review" typed as two words is still one status.
    if len(positionals) >= 3 and [w.lower() for w in positionals[-2:]] == ["under", "review"]:
        return Status.UNDER_REVIEW, positionals[:-2]
    *tool_words, word = positionals
    try:
        status = Status.parse(word)
    except ValueError:
        whole = _join_name(positionals)
        if not tool_words or (is_tool is not None and is_tool(whole)):
            raise _error(verb, f"missing status for '{whole}'") from None
        raise _error(verb, f"unknown status '{word}': use {_or_list(Status.choices())}") from None
    if not _join_name(tool_words):
        raise _error(verb, "missing tool")
    return status, tool_words


def _parse_alias(verb: str, args: list[str]) -> AddAlias:
    words = _no_options(verb, args)
    separators = [i for i, word in enumerate(words) if word in _ALIAS_SEPARATORS]
    if len(separators) > 1:
        raise _error(verb, "more than one '=' between the tool and the alias")
    if separators:
        tool, alias = _join_name(words[: separators[0]]), _join_name(words[separators[0] + 1 :])
    elif len(words) == 2:
        tool, alias = _join_name(words[:1]), _join_name(words[1:])
    elif len(words) > 2:
        # Without quotes or '=', "alias Claude Code claude cli" could split anywhere.
        raise _error(
            verb,
            f"can't tell where the tool ends and the alias begins in '{' '.join(words)}':"
            ' write alias "Claude Code" "claude cli" or alias Claude Code = claude cli',
        )
    else:
        tool, alias = _join_name(words), ""
    if not tool:
        raise _error(verb, "missing tool")
    if not alias:
        raise _error(verb, f"missing alias for '{tool}'")
    if alias.casefold() == tool.casefold():
        raise _error(verb, f"the alias '{alias}' is the tool's own name")
    return AddAlias(tool=tool, alias=alias)


def _parse_list(verb: str, args: list[str]) -> ListTools:
    word = _join_name(_no_options(verb, args))
    if not word or word.lower() == "all":
        return ListTools()
    try:
        return ListTools(status=Status.parse(word))
    except ValueError:
        raise _error(verb, f"unknown status '{word}': use {_or_list(Status.choices())}") from None


def _parse_unanswered(verb: str, args: list[str]) -> ShowUnanswered:
    if args:
        raise _error(verb, f"unanswered takes no arguments, got '{' '.join(args)}'")
    return ShowUnanswered()


def _parse_help(verb: str, args: list[str]) -> ShowHelp:
    words = _no_options(verb, args)
    if not words:
        return ShowHelp()
    if len(words) > 1:
        raise _error(verb, f"help takes one command, got '{' '.join(words)}'")
    topic = words[0].lower()
    if topic not in SPECS:
        raise _error(verb, f"unknown command '{words[0]}': use {_or_list(SPECS)}")
    return ShowHelp(command=topic)


def _parse_changes(verb: str, args: list[str]) -> ShowChanges:
    words = _no_options(verb, args)
    if not words:
        return ShowChanges()
    digits = words[0].lower().removeprefix("v")
    if len(words) != 1 or not digits.isdigit():
        raise _error(verb, "name one version, e.g. v7, or nothing for the latest")
    return ShowChanges(version=int(digits))


# What `draft` stages: the changes a command makes (and `edit`, the form's).
_STAGED_VERBS = ("set", "alias", "add", "edit", "remove")


def _parse_draft(verb: str, rest: str, is_tool: Callable[[str], bool] | None) -> Command:
    if not rest.strip():
        return ShowDraft()
    inner = rest.split(maxsplit=1)[0].lower()
    if inner not in _STAGED_VERBS:
        raise _error(
            verb,
            f"'{rest.split()[0]}' cannot be staged: draft stages {_or_list(_STAGED_VERBS)},"
            " e.g. draft set Cursor banned --reason …",
        )
    staged = parse_command(rest, is_tool)
    assert isinstance(staged, SetPolicy | AddAlias | RemoveTool | EditTool)
    return StageChange(staged)


def _parse_discard(verb: str, args: list[str]) -> DiscardDraft:
    words = _no_options(verb, args)
    if not words:
        return DiscardDraft()
    if len(words) != 1 or not words[0].isdigit() or int(words[0]) < 1:
        raise _error(verb, "name one staged change by its number in `draft`, or nothing for all")
    return DiscardDraft(int(words[0]))


def _tool_parser(make: Callable[[str], Command]) -> Callable[[str, list[str]], Command]:
    """A parser for `<verb> <tool>` commands: every remaining word is the tool's name."""

    def parse(verb: str, args: list[str]) -> Command:
        tool = _join_name(_no_options(verb, args))
        if not tool:
            raise _error(verb, "missing tool")
        return make(tool)

    return parse


_SUBJECT = re.compile(r"^[RrEe]\d{1,9}$")


def _subject(verb: str, word: str, kinds: str = "RE") -> str:
    subject = word.strip().upper()
    if not _SUBJECT.match(subject) or subject[0] not in kinds:
        shown = " or ".join(f"{k}12" for k in kinds)
        raise _error(verb, f"'{word}' is not a request or exception number such as {shown}")
    return subject


def _parse_request(verb: str, args: list[str]) -> FileRequest:
    if not args:
        raise _error(verb, "missing tool")
    # `request "Kiro IDE" because…`, `request Kiro IDE: because…` or `request Kiro because…`.
    text = " ".join(args)
    if ":" in text:
        tool, _, why = text.partition(":")
    else:
        tool, why = args[0], " ".join(args[1:])
    tool = _join_name([tool])
    if not tool:
        raise _error(verb, "missing tool")
    return FileRequest(tool=tool, why=why.strip() or None)


_EXCEPTION_OPTIONS = {"purpose": True, "data": True, "days": True, "why": True}


def _parse_exception(verb: str, rest: str) -> AskException:
    positionals, options = _split_options(verb, rest, _EXCEPTION_OPTIONS)
    tool = _join_name(positionals)
    if not tool:
        raise _error(verb, "missing tool")
    missing = [f"--{name}" for name in _EXCEPTION_OPTIONS if not options.get(name)]
    if missing:
        raise _error(verb, f"missing {_or_list(missing)}")
    try:
        days = int(options["days"])
    except ValueError:
        raise _error(
            verb, f"--days takes a whole number of days, got '{options['days']}'"
        ) from None
    return AskException(
        tool=tool,
        purpose=options["purpose"].strip(),
        data_class=options["data"].strip(),
        days=days,
        why=options["why"].strip(),
    )


_EXCEPTION_STATES = ("active", "pending", "expired", "declined", "revoked", "ended", "all")


def _parse_exceptions(verb: str, args: list[str]) -> ListExceptions:
    word = _join_name(_no_options(verb, args)).lower()
    if not word:
        return ListExceptions()
    if word not in _EXCEPTION_STATES:
        raise _error(verb, f"unknown state '{word}': use {_or_list(_EXCEPTION_STATES)}")
    return ListExceptions(status=None if word == "all" else word)


def _no_arguments(make: Callable[[], Command]) -> Callable[[str, list[str]], Command]:
    def parse(verb: str, args: list[str]) -> Command:
        if args:
            raise _error(verb, f"{verb} takes no arguments, got '{' '.join(args)}'")
        return make()

    return parse


def _parse_approve(verb: str, rest: str) -> Decide:
    positionals, options = _split_options(verb, rest, {"until": True, "note": True})
    if len(positionals) != 1:
        raise _error(verb, "name one request or exception, e.g. R12 or E7")
    until = options.get("until")
    return Decide(
        subject=_subject(verb, positionals[0]),
        approve=True,
        reason=options.get("note"),
        until=_parse_date(verb, until, "--until") if until else None,
    )


def _parse_decline(verb: str, rest: str) -> Decide | Revoke:
    positionals, options = _split_options(verb, rest, {"reason": True})
    if len(positionals) != 1:
        raise _error(verb, "name one request or exception, e.g. R12 or E7")
    reason = (options.get("reason") or "").strip()
    if not reason:
        raise _error(verb, "missing --reason (the person who asked is told it)")
    if verb == "revoke":
        return Revoke(subject=_subject(verb, positionals[0], "E"), reason=reason)
    return Decide(subject=_subject(verb, positionals[0]), approve=False, reason=reason)


def _parse_audit(verb: str, args: list[str]) -> ShowAudit:
    words = _no_options(verb, args)
    return ShowAudit(subject=_join_name(words) or None)


def _parse_answer(verb: str, args: list[str]) -> AnswerTerm:
    term, colon, text = " ".join(args).partition(":")
    if not colon or not term.strip() or not text.strip():
        raise _error(verb, "give the term, a colon, then the answer")
    return AnswerTerm(term=_join_name([term]), text=text.strip())


IsTool = Callable[[str], bool]
Parser = Callable[[str, str, IsTool | None], Command]


@dataclass(frozen=True)
class CommandSpec:
    """One row of the command table: everything about a verb, in one place.

    `parse(verb, rest, is_tool)` reads what follows the verb. `makes` are the command types
    it can produce. `admin` says only policy admins may run it (checked before the grammar,
    so nobody learns a command's usage from their mistakes). `desk` says the "when the
    answer is no" desk runs it rather than the admin commands. The console, the slash
    command, mentions and `help` all read this table.
    """

    verb: str
    usage: str
    summary: str
    parse: Parser
    makes: tuple[type[Command], ...]
    admin: bool = False
    desk: bool = False


def _words(parse: Callable[[str, list[str]], Command]) -> Parser:
    """A parser of shell-like words (quotes group a name with spaces)."""
    return lambda verb, rest, _is_tool: parse(verb, _shell_words(verb, rest))


def _as_typed(parse: Callable[[str, str], Command]) -> Parser:
    """A parser of the text as typed: free-text options keep their apostrophes."""
    return lambda verb, rest, _is_tool: parse(verb, rest)


# The order is the order of the help text.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "set",
        _SET_USAGE,
        "set a tool's policy; an option given as none clears that field, a future --effective"
        " schedules the change, --quiet skips the announcement",
        lambda verb, rest, is_tool: _parse_set(verb, rest, is_tool),
        (SetPolicy,),
        admin=True,
    ),
    CommandSpec(
        "alias",
        "alias <tool> <alias>",
        "add another name for a tool",
        _words(lambda verb, args: _parse_alias(verb, args)),
        (AddAlias,),
        admin=True,
    ),
    CommandSpec(
        "remove",
        "remove <tool>",
        "delete a tool from the registry",
        _words(_tool_parser(RemoveTool)),
        (RemoveTool,),
        admin=True,
    ),
    CommandSpec(
        "unschedule",
        "unschedule <tool>",
        "cancel a tool's scheduled change (set with a future --effective); today's policy stays",
        _words(_tool_parser(CancelScheduled)),
        (CancelScheduled,),
        admin=True,
    ),
    CommandSpec(
        "unset",
        _UNSET_USAGE,
        "drop a tool's rule for an audience; its members get the tool's default policy",
        _as_typed(_parse_unset),
        (UnsetRule,),
        admin=True,
    ),
    CommandSpec(
        "history",
        "history <tool>",
        "show every change to a tool's policy",
        _words(_tool_parser(ShowHistory)),
        (ShowHistory,),
        admin=True,
    ),
    CommandSpec(
        "list",
        "list [status]",
        "list the tools, or only those with one status",
        _words(lambda verb, args: _parse_list(verb, args)),
        (ListTools,),
    ),
    CommandSpec(
        "unanswered",
        "unanswered",
        "show questions the bot could not answer, by the term they asked about",
        _words(lambda verb, args: _parse_unanswered(verb, args)),
        (ShowUnanswered,),
        admin=True,
        desk=True,  # the queue by term, which the desk keeps (issue 27)
    ),
    CommandSpec(
        "help",
        "help [command]",
        "show this help, or one command's usage",
        _words(lambda verb, args: _parse_help(verb, args)),
        (ShowHelp,),
    ),
    CommandSpec(
        "edit",
        "edit <tool>",
        "edit a tool's policy in a form",
        _words(_tool_parser(EditTool)),
        (EditTool,),
        admin=True,
    ),
    CommandSpec(
        "add",
        "add <tool>",
        "add a new tool in a form",
        _words(_tool_parser(lambda tool: EditTool(tool=tool, create=True))),
        (EditTool,),
        admin=True,
    ),
    CommandSpec(
        "announce",
        "announce <tool>",
        "announce a tool's current policy to staff",
        _words(_tool_parser(Announce)),
        (Announce,),
        admin=True,
    ),
    CommandSpec(
        "acks",
        "acks <tool>",
        "show who has acknowledged a tool's announcement (acks v7: a version's)",
        _words(_tool_parser(ShowAcks)),
        (ShowAcks,),
        admin=True,
    ),
    CommandSpec(
        "changes",
        "changes [vN]",
        "the policy versions, newest first, or one version's changes",
        _words(lambda verb, args: _parse_changes(verb, args)),
        (ShowChanges,),
    ),
    CommandSpec(
        "draft",
        "draft [set …|alias …|add <tool>|edit <tool>|remove <tool>]",
        "stage a change for the next version (staff see nothing until publish);"
        " draft alone shows what is staged and by whom",
        lambda verb, rest, is_tool: _parse_draft(verb, rest, is_tool),
        (ShowDraft, StageChange),
        admin=True,
    ),
    CommandSpec(
        "publish",
        "publish",
        "publish every staged change as one policy version, announced once",
        _words(_no_arguments(PublishDraft)),
        (PublishDraft,),
        admin=True,
    ),
    CommandSpec(
        "discard",
        "discard [N]",
        "drop the whole draft, or only its change N",
        _words(lambda verb, args: _parse_discard(verb, args)),
        (DiscardDraft,),
        admin=True,
    ),
    CommandSpec(
        "request",
        "request <tool> [why]",
        "anyone: ask for a review of a tool with no policy",
        _words(lambda verb, args: _parse_request(verb, args)),
        (FileRequest,),
        desk=True,
    ),
    CommandSpec(
        "exception",
        "exception <tool> --purpose TEXT --data CLASS --days N --why TEXT",
        "anyone: ask for an exception to a banned or conditional tool's policy",
        _as_typed(lambda verb, rest: _parse_exception(verb, rest)),
        (AskException,),
        desk=True,
    ),
    CommandSpec(
        "exceptions",
        "exceptions [active|pending|expired|all]",
        "list exceptions (staff see their own)",
        _words(lambda verb, args: _parse_exceptions(verb, args)),
        (ListExceptions,),
        desk=True,
    ),
    CommandSpec(
        "watch",
        "watch <tool>",
        "anyone: get a DM when a tool's policy changes",
        _words(_tool_parser(WatchTool)),
        (WatchTool,),
        desk=True,
    ),
    CommandSpec(
        "unwatch",
        "unwatch <tool>",
        "anyone: stop watching a tool",
        _words(_tool_parser(lambda tool: WatchTool(tool=tool, watch=False))),
        (WatchTool,),
        desk=True,
    ),
    CommandSpec(
        "watching",
        "watching",
        "anyone: list the tools you watch",
        _words(_no_arguments(ListWatches)),
        (ListWatches,),
        desk=True,
    ),
    CommandSpec(
        "requests",
        "requests",
        "list open tool requests with how many asked",
        _words(_no_arguments(ListRequests)),
        (ListRequests,),
        admin=True,
        desk=True,
    ),
    CommandSpec(
        "approve",
        "approve <R12|E7> [--until YYYY-MM-DD]",
        "add a requested tool for review, or approve an exception (optionally shorter)",
        _as_typed(lambda verb, rest: _parse_approve(verb, rest)),
        (Decide,),
        desk=True,  # admins, and a tool's owners for its exceptions: the desk checks
    ),
    CommandSpec(
        "decline",
        "decline <R12|E7> --reason TEXT",
        "decline a request or an exception",
        _as_typed(lambda verb, rest: _parse_decline(verb, rest)),
        (Decide,),
        desk=True,  # as approve
    ),
    CommandSpec(
        "revoke",
        "revoke <E7> --reason TEXT",
        "end an active exception now",
        _as_typed(lambda verb, rest: _parse_decline(verb, rest)),
        (Revoke,),
        admin=True,
        desk=True,
    ),
    CommandSpec(
        "feedback",
        "feedback",
        "answers people marked not helpful",
        _words(_no_arguments(ShowFeedback)),
        (ShowFeedback,),
        admin=True,
        desk=True,
    ),
    CommandSpec(
        "audit",
        "audit [R12|E7|tool]",
        "who filed and decided requests and exceptions, and when",
        _words(lambda verb, args: _parse_audit(verb, args)),
        (ShowAudit,),
        admin=True,
        desk=True,
    ),
    CommandSpec(
        "answer",
        "answer <term>: <text>",
        "answer the people who asked about an unanswered term",
        _words(lambda verb, args: _parse_answer(verb, args)),
        (AnswerTerm,),
        admin=True,
        desk=True,
    ),
)

SPECS: dict[str, CommandSpec] = {spec.verb: spec for spec in COMMANDS}
# Derived from the table, for the permission check and the dispatch:
ADMIN_VERBS = frozenset(spec.verb for spec in COMMANDS if spec.admin)
# A type is admin-only when every verb that makes it is (approve and decline make `Decide`
# for a tool's owners too; the desk checks those).
ADMIN_COMMANDS: frozenset[type[Command]] = frozenset(
    kind
    for spec in COMMANDS
    for kind in spec.makes
    if all(other.admin for other in COMMANDS if kind in other.makes)
)
DESK_COMMANDS: frozenset[type[Command]] = frozenset(
    kind for spec in COMMANDS if spec.desk for kind in spec.makes
)


def _split_options(
    verb: str, rest: str, allowed: dict[str, bool] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The words before the first option, and each option's value ("" for a flag).

    Values are taken as typed, up to the next option: free text needs no quotes and may hold
    apostrophes ("--reason reads the user's environment"); a value in quotes loses them.
    """
    allowed = _SET_OPTIONS if allowed is None else allowed
    starts = [(m, _as_option(m.group(), allowed)) for m in re.finditer(r"\S+", rest)]
    marks = [(m, option) for m, option in starts if option is not None]
    head = rest[: marks[0][0].start()] if marks else rest
    options: dict[str, str] = {}
    for number, (match, (name, inline)) in enumerate(marks):
        end = marks[number + 1][0].start() if number + 1 < len(marks) else len(rest)
        tail = rest[match.end() : end].strip()
        if name not in allowed:
            names = _or_list(f"--{n}" for n in allowed)
            raise _error(verb, f"unknown option '--{name}': use {names}")
        if name in options:
            raise _error(verb, f"--{name} given twice")
        if not allowed[name]:
            if inline is not None:
                raise _error(verb, f"--{name} takes no value")
            if tail:
                raise _error(
                    verb,
                    f"unexpected '{tail.split()[0]}' after --{name}:"
                    " the tool and status come before the options",
                )
            options[name] = ""
            continue
        value = " ".join(part for part in (inline, tail) if part)
        value = _unquote(value)
        if not value and inline is None and not _quoted_empty(tail):
            raise _error(verb, f"--{name} needs a value")
        options[name] = value
    return _shell_words(verb, head), options


def _unquote(value: str) -> str:
    """'"some text"' -> 'some text'; an apostrophe inside the text stays."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _quoted_empty(text: str) -> bool:
    return text in ('""', "''")


def _as_option(token: str, allowed: dict[str, bool] | None = None) -> tuple[str, str | None] | None:
    """(`name`, inline value) if `token` is an option such as `--reason=x`, else None."""
    allowed = _SET_OPTIONS if allowed is None else allowed
    if token.startswith("--"):
        body = token[2:]
    elif token and token[0] in _DASHES:
        # macOS/Slack turn "--" into a dash; accept it only for option names we know.
        body = token.lstrip(_DASHES)
        if body.partition("=")[0].lower().replace("_", "-") not in allowed:
            return None
    else:
        return None
    name, equals, inline = body.partition("=")
    return name.lower().replace("_", "-"), (inline if equals else None)


def _no_options(verb: str, args: list[str]) -> list[str]:
    for token in args:
        option = _as_option(token)
        if option is not None:
            raise _error(verb, f"{verb} takes no options, got '--{option[0]}'")
    return args


def _parse_alternatives(value: str) -> tuple[str, ...]:
    """Comma-separated tool names; "" or "none" clears. Duplicates are dropped."""
    if _is_none(value):
        return ()
    seen: dict[str, str] = {}
    for part in value.split(","):
        name = _join_name([_unquote(part)])
        if name:
            seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def _parse_date(verb: str, value: str, option: str = "--effective") -> date:
    try:
        return parse_day(value)
    except ValueError as error:
        if "does not exist" in str(error):  # the form is right: say why the day is not
            raise _error(verb, f"{option}: {error}") from None
        raise _error(verb, f"bad date '{value}' for {option}: use YYYY-MM-DD") from None


def _parse_data_class(verb: str, value: str) -> DataClass:
    try:
        return DataClass.parse(value)
    except ValueError:
        choices = _or_list(DataClass)
        raise _error(verb, f"unknown data class '{value}' for --max-data: use {choices}") from None


def _normalise(text: str) -> str:
    text = text.translate(_CURLY_DOUBLE)
    return _CURLY_SINGLE_PAIR.sub(r"'\1'", text).strip()


def _join_name(words: list[str]) -> str:
    """Words -> one name with single spaces ("Claude  Code " -> "Claude Code")."""
    return " ".join(" ".join(words).split())


def _or_list(items: Iterable[str]) -> str:
    """["a", "b", "c"] -> "a, b or c"."""
    names = [str(item) for item in items]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _error(verb: str, problem: str) -> CommandError:
    return CommandError(f"{problem}. Usage: {usage(verb)}")

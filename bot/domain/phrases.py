"""The answer renderers' own wording, in English and Chinese. No I/O.

Only the bot's words live here: status words, labels, sentence frames. What admins wrote
(tool names, reasons, conditions, owners, links) is put into the frames as written, and so
are ISO dates. Frames are `str.format` templates; the fields below say which names they take.
"""

# Chinese text takes full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.policy import DataClass, Status

__all__ = ["EN", "LANGUAGES", "STAFF_EXAMPLES", "ZH", "Phrases", "phrases_for", "staff_help"]


@dataclass(frozen=True)
class Phrases:
    """Everything the plain-text and Slack renderers say in one language."""

    language: str

    # -- vocabulary
    status_words: Mapping[Status, str]  # the plain-text status line: "BANNED"
    status_glosses: Mapping[Status, str]  # right after the status word
    status_names: Mapping[Status, str]  # beside an alternative and in "why X is <status>"
    status_labels: Mapping[Status, str]  # the Slack status line and its alternatives
    data_names: Mapping[DataClass, str]

    # -- punctuation
    colon: str  # between a label and its value
    stop: str  # ends a sentence
    list_separator: str
    or_word: str  # before the last name of "a, b or c"

    # -- labels, as "<label><colon><value>" lines and as Slack field titles
    why: str
    instead: str
    conditions: str
    data: str
    data_up_to: str
    owner: str
    vendor: str
    effective: str
    more: str

    # -- plain-text status line: {name}, {word}, {gloss}, {date}
    status_undated: str
    status_undated_date_first: str  # a "since when?" question without a recorded date
    status_from: str  # the effective date is still to come
    status_from_date_first: str
    status_since: str
    status_since_date_first: str
    scheduled: str  # a change decided for a later day: {date}, {word}

    # -- Slack status line: {emoji}, {name}, {label}, {date}
    slack_status_undated: str
    slack_status_from: str
    slack_status_since: str

    # -- data
    no_data: str  # a banned tool without a data limit
    data_within: str  # {asked}, capitalised; follows the "data up to" line directly
    data_beyond: str  # {asked}, {limit}; follows the "data up to" line directly
    data_lead: str  # {name}, {data}: the data line leading a data question

    # -- follow-up leads (plain text): {name} and the part asked for
    why_lead: str  # {name}, {status}, {reason}
    instead_lead: str  # {name}, {alternatives}
    owner_lead: str  # {name}, {owner}
    no_reason: str  # {name}, {contact}
    no_alternatives: str  # {name}, {contact}
    no_owner: str  # {name}, {contact}
    no_data_limit: str  # {name}, {contact}

    # -- the same gaps in Slack, where the status line above names the tool: {contact}
    slack_no_reason: str
    slack_no_alternatives: str
    slack_no_data_limit: str

    # -- alternatives: {name}, {status}
    alternative: str
    not_in_registry: str

    # -- no match, several matches, and Slack extras
    no_policy: str  # {topic}
    did_you_mean: str  # {names}
    ask: str  # {contact}
    ambiguous: str  # {matched}, {names}
    you_asked: str  # {question}
    read_full_policy: str
    more_tools: str  # {count}, {names}
    cut: str  # {words}: only the start of a very long message was read
    catalogue_page: str  # the link to the tool's page in the catalogue

    # -- lists: a heading from its parts, one line per status group
    list_subjects: Mapping[str, str]  # status filter key -> "Tools you may use"
    list_from: str  # {vendors}
    list_categories: Mapping[str, str]  # category concept -> its name in a heading
    list_category: str  # {categories}
    list_data: str  # {data}
    list_heading: str  # {subject}, {filters}, {count}
    list_group: str  # {label}, {count}, {names}
    list_more: str  # {count}: a group cut short
    list_empty: str  # {subject}, {filters}, {contact}

    # -- products of a registered family that are not registered: {product}, {names}
    variant_none: str
    variant_related: str
    variant_aside: str  # beside an answer about other tools

    # -- verdicts, first in a yes/no answer: {word} is one of `verdicts`
    verdicts: Mapping[str, str]  # yes / no / only-if -> "Yes." / "No." / "Only if"
    verdict_conditions: str  # {word}
    verdict_clause: str  # {word}, {clause}: the clause of the policy that decides the case
    verdict_data_beyond: str  # {word}, {name}, {limit}, {asked}, {words} (an aside)
    verdict_data_within: str  # {asked}, {words} (an aside), {limit}
    verdict_personal: str  # {word}, {conditions}
    vendor_yes: str  # {vendors}, {names}
    vendor_no: str  # {vendors}, {count}
    vendor_others: str  # {names}: the vendor's tools that may not be used
    aside: str  # {words}: the question's own words for a data class
    capability_filter: str  # {capability}

    # -- time: what changed, what is scheduled
    changes_heading: str  # {filters}, {start}, {end}, {count}
    changes_latest: str  # {filters}: no period named
    changes_line: str  # {date}, {name}, {status}
    changes_none: str  # {filters}, {start}, {end}
    scheduled_heading: str  # {filters}, {count}
    scheduled_item: str  # {date}, {name}, {status}, {now}
    scheduled_none: str  # {filters}, {period}
    scheduled_year: str  # {year}
    pending_review: str  # {names}

    # -- access: who decides and how to ask
    access_tool: str  # {name}, {owner}
    access_review: str  # {name}, {owner}: a tool under review
    access_general: str  # {contact}
    access_unknown: str  # {topic}, {contact}

    # -- small talk, follow-ups, staff help
    small_talk: str
    follow_up: str  # {names}: the tools the follow-up is taken to be about
    asked_once: str
    asked_times: str  # {count}

    def asked(self, count: int) -> str:
        """ "asked once" / "asked 3 times"."""
        return self.asked_once if count == 1 else self.asked_times.format(count=count)

    def listing(self, names: Sequence[str]) -> str:
        """`names` as a list: "a, b, c" / "a、b、c"."""
        return self.list_separator.join(names)

    def or_list(self, names: Sequence[str]) -> str:
        """`names` as a choice: "a, b or c" / "a、b 或 c"."""
        if len(names) == 1:
            return names[0]
        return f"{self.listing(names[:-1])}{self.or_word}{names[-1]}"

    def label(self, label: str, value: str) -> str:
        """A "Label: value" line."""
        return f"{label}{self.colon}{value}"


EN = Phrases(
    language="en",
    status_words={
        Status.ALLOWED: "ALLOWED",
        Status.CONDITIONAL: "CONDITIONAL",
        Status.UNDER_REVIEW: "UNDER REVIEW",
        Status.BANNED: "BANNED",
    },
    status_glosses={
        Status.ALLOWED: "",
        Status.CONDITIONAL: " (allowed only under the conditions below)",
        Status.UNDER_REVIEW: " (not approved yet: don't use it for work until it is decided)",
        Status.BANNED: "",
    },
    status_names={status: status.value for status in Status},
    # Also the admin layer's labels (bot.app.admin.STATUS_LABEL).
    status_labels={
        Status.ALLOWED: "allowed",
        Status.CONDITIONAL: "allowed with conditions",
        Status.UNDER_REVIEW: "under review",
        Status.BANNED: "banned",
    },
    data_names={data: data.value for data in DataClass},
    colon=": ",
    stop=".",
    list_separator=", ",
    or_word=" or ",
    why="Why",
    instead="Instead use",
    conditions="Conditions",
    data="Data",
    data_up_to="Data up to",
    owner="Owner",
    vendor="Vendor",
    effective="Effective",
    more="More",
    status_undated="{name} is {word}{gloss}.",
    status_undated_date_first="{name} is {word}{gloss}; no effective date is recorded.",
    status_from="{name} will be {word} from {date}{gloss}.",
    status_from_date_first="From {date}, {name} will be {word}{gloss}.",
    status_since="{name} is {word} since {date}{gloss}.",
    status_since_date_first="Since {date}, {name} is {word}{gloss}.",
    scheduled="From {date} it will be {word}.",
    slack_status_undated="{emoji} *{name}* is *{label}*",
    slack_status_from="{emoji} *{name}* will be *{label}* from {date}",
    slack_status_since="{emoji} *{name}* is *{label}* since {date}",
    no_data="none, the tool is banned",
    data_within=" {asked} data is within that limit.",
    data_beyond=" Not {asked} data: that is more sensitive than {limit}.",
    data_lead="{name}: {data}",
    why_lead="Why {name} is {status}: {reason}",
    instead_lead="Instead of {name}, use: {alternatives}.",
    owner_lead="Owner of {name}: {owner}",
    no_reason="No reason is recorded for {name}; ask {contact}.",
    no_alternatives="No alternatives are listed for {name}; ask {contact}.",
    no_owner="No owner is recorded for {name}; ask {contact}.",
    no_data_limit="No data limit is recorded for {name}; ask {contact} first.",
    slack_no_reason="No reason is recorded; ask {contact}.",
    slack_no_alternatives="No alternatives are listed; ask {contact}.",
    slack_no_data_limit="No data limit is recorded; ask {contact} first.",
    alternative="{name} ({status})",
    not_in_registry="not in the registry",
    no_policy="There is no policy for “{topic}” in the registry.",
    did_you_mean="Did you mean {names}?",
    ask="Ask {contact}.",
    ambiguous="“{matched}” matches several tools: {names}. Here is the policy for each:",
    you_asked="You asked: {question}",
    read_full_policy="Read the full policy",
    more_tools="…and {count} more tools: {names}. Ask about one at a time for more.",
    cut="Your message was long: only its first {words} words were read.",
    catalogue_page="Policy page",
    list_subjects={
        "usable": "Tools you may use",
        "not-usable": "Tools you may not use",
        "allowed": "Allowed tools",
        "conditional": "Tools allowed with conditions",
        "under-review": "Tools under review",
        "banned": "Banned tools",
        "any": "Tools",
    },
    list_from=" from {vendors}",
    list_categories={
        "coding": "coding",
        "chat": "chat",
        "image": "images and media",
        "productivity": "productivity",
    },
    list_category=" for {categories}",
    list_data=" with {data} data",
    list_heading="{subject}{filters} ({count}), usable first:",
    list_group="{label} ({count}): {names}",
    list_more="…and {count} more",
    list_empty="No tools match: {subject}{filters}. Ask {contact}.",
    variant_none="There is no policy for “{product}” in the registry.",
    variant_related="Related tools with a policy of their own (not for “{product}”): {names}.",
    variant_aside="There is no policy for “{product}” itself; related: {names}.",
    verdicts={"yes": "Yes.", "no": "No.", "only-if": "Only if"},
    verdict_conditions="{word} you meet its conditions.",
    verdict_clause="{word} The policy says: {clause}.",
    verdict_data_beyond=(
        "{word} {name} takes {limit} data at most, and {asked} data{words} is beyond it."
    ),
    verdict_data_within="{asked} data{words} is within its limit ({limit}).",
    aside=" ({words})",
    verdict_personal="{word} A personal account is not covered: {conditions}",
    vendor_yes="Yes. From {vendors} you may use: {names}.",
    vendor_others=" Not usable: {names}.",
    vendor_no="No. None of the {count} tools from {vendors} may be used.",
    capability_filter=" to {capability}",
    changes_heading="Policy changes{filters} from {start} to {end} ({count}), newest first:",
    changes_latest="The latest policy changes{filters}, newest first:",
    changes_line="{date}: {name} is {status}",
    changes_none="No policy{filters} changed between {start} and {end}.",
    scheduled_heading="Scheduled policy changes{filters} ({count}), soonest first:",
    scheduled_item="{date}: {name} will be {status} (now {now})",
    scheduled_none="No policy changes{filters} are scheduled{period}.",
    scheduled_year=" for {year}",
    pending_review="Under review, so a decision is still to come: {names}.",
    access_tool=(
        "{owner} decides about {name}. To use it outside its policy, ask for an exception: "
        "`exception {name} --purpose … --data … --days … --why …` (or the Request button in "
        "Slack)."
    ),
    access_review=(
        "{name} is under review and {owner} decides. To add your case: `request {name} <why>`; "
        "until it is decided, an exception is the only way: `exception {name} --purpose … "
        "--data … --days … --why …`."
    ),
    access_general=(
        "{contact} decides which AI tools are approved. For a tool with no policy, ask for a "
        "review: `request <tool> <why>` (or the Request button in Slack). For an exception to a "
        "tool's policy: `exception <tool> --purpose … --data … --days … --why …`."
    ),
    access_unknown=(
        "There is no policy for “{topic}” yet. To ask for a review: `request {topic} <why>` "
        "(or the Request button in Slack); {contact} decides."
    ),
    small_talk=(
        "Ask me whether you may use an AI tool, for example “can I use Cursor?”, "
        "“which coding tools are approved?” or “what is banned?”."
    ),
    follow_up="About {names}, from your previous question:",
    asked_once="asked once",
    asked_times="asked {count} times",
)

_ZH_STATUS = {
    Status.ALLOWED: "允许使用",
    Status.CONDITIONAL: "有条件允许",
    Status.UNDER_REVIEW: "评估中",
    Status.BANNED: "禁止使用",
}

# Simplified Chinese with full-width punctuation, and a space between Chinese and Latin text
# or numbers ("Claude Code 自 2026-11-20 起禁止使用。"). In Slack, bold (*…*) keeps a space on
# both sides, since Slack does not render it when it touches Chinese characters.
ZH = Phrases(
    language="zh",
    status_words=_ZH_STATUS,
    status_glosses={
        Status.ALLOWED: "",
        Status.CONDITIONAL: "（须满足下列条件）",
        Status.UNDER_REVIEW: "（尚未批准，有结论之前请勿用于工作）",
        Status.BANNED: "",
    },
    status_names=_ZH_STATUS,
    status_labels=_ZH_STATUS,
    data_names={
        DataClass.PUBLIC: "公开",
        DataClass.INTERNAL: "内部",
        DataClass.CONFIDENTIAL: "机密",
        DataClass.RESTRICTED: "受限",
    },
    colon="：",
    stop="。",
    list_separator="、",
    or_word=" 或 ",
    why="原因",
    instead="替代方案",
    conditions="使用条件",
    data="数据",
    data_up_to="数据级别上限",
    owner="负责人",
    vendor="供应商",
    effective="生效日期",
    more="详情",
    status_undated="{name} {word}{gloss}。",
    status_undated_date_first="{name} {word}{gloss}；未记录生效日期。",
    status_from="{name} 将自 {date} 起{word}{gloss}。",
    status_from_date_first="从 {date} 起，{name} 将{word}{gloss}。",
    status_since="{name} 自 {date} 起{word}{gloss}。",
    status_since_date_first="自 {date} 起，{name} {word}{gloss}。",
    scheduled="自 {date} 起将{word}。",
    slack_status_undated="{emoji} *{name}* *{label}*",
    slack_status_from="{emoji} *{name}* 将自 {date} 起 *{label}*",
    slack_status_since="{emoji} *{name}* 自 {date} 起 *{label}*",
    no_data="无（该工具已禁止使用）",
    data_within="{asked}数据在此上限之内。",
    data_beyond="不可用于{asked}数据：其敏感级别高于{limit}。",
    data_lead="{name} 的{data}",
    why_lead="{name} {status}的原因：{reason}",
    instead_lead="{name} 的替代方案：{alternatives}。",
    owner_lead="{name} 的负责人：{owner}",
    no_reason="{name} 未记录原因；请联系 {contact}。",
    no_alternatives="{name} 未列出替代方案；请联系 {contact}。",
    no_owner="{name} 未记录负责人；请联系 {contact}。",
    no_data_limit="{name} 未记录数据级别上限；请先联系 {contact}。",
    slack_no_reason="未记录原因；请联系 {contact}。",
    slack_no_alternatives="未列出替代方案；请联系 {contact}。",
    slack_no_data_limit="未记录数据级别上限；请先联系 {contact}。",
    alternative="{name}（{status}）",
    not_in_registry="不在登记册中",
    no_policy="登记册中没有关于“{topic}”的政策。",
    did_you_mean="你是不是想问 {names}？",
    ask="请联系 {contact}。",
    ambiguous="“{matched}”对应多个工具：{names}。以下分别是各自的政策：",
    you_asked="你的问题：{question}",
    read_full_policy="查看完整政策",
    more_tools="…另有 {count} 个工具：{names}。请逐个询问以查看详情。",
    cut="你的消息较长：只读取了前 {words} 个词。",
    catalogue_page="政策页面",
    list_subjects={
        "usable": "可以使用的工具",
        "not-usable": "不能使用的工具",
        "allowed": "允许使用的工具",
        "conditional": "有条件允许的工具",
        "under-review": "评估中的工具",
        "banned": "禁止使用的工具",
        "any": "工具",
    },
    list_from="来自 {vendors} 的",
    list_categories={
        "coding": "编程",
        "chat": "聊天助手",
        "image": "图像与媒体",
        "productivity": "办公效率",
    },
    list_category="{categories}类",
    list_data="可处理{data}数据的",
    list_heading="{filters}{subject}（共 {count} 个，可用的在前）：",
    list_group="{label}（{count}）：{names}",
    list_more="…另有 {count} 个",
    list_empty="没有符合条件的工具：{filters}{subject}。请联系 {contact}。",
    variant_none="登记册中没有关于“{product}”的政策。",
    variant_related="同一系列中有各自政策的工具（不适用于“{product}”）：{names}。",
    variant_aside="“{product}”本身没有政策；相关工具：{names}。",
    verdicts={"yes": "可以。", "no": "不可以。", "only-if": "有条件："},
    verdict_conditions="{word}须满足其使用条件。",
    verdict_clause="{word}政策规定：{clause}。",
    verdict_data_beyond="{word}{name} 的数据级别上限是{limit}，{asked}数据{words}超出了上限。",
    verdict_data_within="{asked}数据{words}在其上限（{limit}）之内。",
    aside="（{words}）",
    verdict_personal="{word}个人账号不在许可范围内：{conditions}",
    vendor_yes="可以。来自 {vendors} 的可用工具：{names}。",
    vendor_others="不能使用：{names}。",
    vendor_no="不可以。来自 {vendors} 的 {count} 个工具都不能使用。",
    capability_filter="用于“{capability}”的",
    changes_heading="{filters}政策变化，{start} 至 {end}（共 {count} 项，最新的在前）：",
    changes_latest="{filters}最近的政策变化（最新的在前）：",
    changes_line="{date}：{name} {status}",
    changes_none="{start} 至 {end} 之间{filters}没有政策变化。",
    scheduled_heading="{filters}已排定的政策变化（共 {count} 项，最早的在前）：",
    scheduled_item="{date}：{name} 将{status}（目前{now}）",
    scheduled_none="{period}{filters}没有已排定的政策变化。",
    scheduled_year="{year} 年",
    pending_review="评估中、尚待决定的工具：{names}。",
    access_tool=(
        "{name} 由 {owner} 决定。如需在政策之外使用，请申请例外："
        "`exception {name} --purpose … --data … --days … --why …`（或在 Slack 中点“申请”按钮）。"
    ),
    access_review=(
        "{name} 正在评估中，由 {owner} 决定。补充你的需求：`request {name} <why>`；"
        "在有结论之前，只能申请例外：`exception {name} --purpose … --data … --days … --why …`。"
    ),
    access_general=(
        "AI 工具由 {contact} 审批。登记册中没有的工具，请申请评估：`request <tool> <why>`"
        "（或在 Slack 中点“申请”按钮）；需要政策例外：`exception <tool> --purpose … --data … "
        "--days … --why …`。"
    ),
    access_unknown=(
        "登记册中还没有关于“{topic}”的政策。申请评估：`request {topic} <why>`"
        "（或在 Slack 中点“申请”按钮），由 {contact} 决定。"
    ),
    small_talk=(
        "可以问我某个 AI 工具能不能用，例如“Cursor 能用吗？”、“有哪些编程工具被批准了？”"
        "或“哪些工具被禁止了？”。"
    ),
    follow_up="关于上一个问题中的 {names}：",
    asked_once="问过 1 次",
    asked_times="问过 {count} 次",
)

LANGUAGES: Mapping[str, Phrases] = {"en": EN, "zh": ZH}

# What staff can ask, shown by `help` in the console and in Slack: every kind of question.
STAFF_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("one tool", "can I use Claude Code?"),
    ("why, and what instead", "why is it banned? / what can I use instead?"),
    ("since when, and who decides", "since when? / who owns the Cursor policy?"),
    ("data", "can I paste customer data into ChatGPT?"),
    ("lists", "which coding tools are approved? / what is banned? / anything from Microsoft?"),
    ("data lists", "which tools are approved for confidential data?"),
    ("in Chinese", "有哪些编程工具可以用？ / 为什么？"),
)


def staff_help(contact: str, commands: Sequence[str] = ("list [status]", "help")) -> str:
    """What anyone can ask, and the `commands` anyone can run, as plain text."""
    lines = ["Ask me about AI tools in your own words, in English or Chinese:"]
    lines += [f"  {what}: “{example}”" for what, example in STAFF_EXAMPLES]
    lines += [
        "Follow-ups (“why?”, “what instead?”, “那用什么？”) are about the tools of my last answer.",
        "Commands anyone can use:",
        *(f"  {line}" for line in commands),
        f"Policies are kept by {contact}; ask them to change one.",
    ]
    return "\n".join(lines)


def phrases_for(language: str) -> Phrases:
    """The phrasebook for `language` ("en" or "zh"); ValueError for any other."""
    try:
        return LANGUAGES[language]
    except KeyError:
        raise ValueError(f"no phrasebook for language {language!r}: use en or zh") from None

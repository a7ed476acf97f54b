"""The catalogue's own words in English and Chinese, and the choice between them. No I/O.

Status and data-class names come from the answers' phrasebook, so a page and a Slack answer
call a status the same thing. Policy texts (names, reasons, conditions) stay as written.
"""

# Chinese text takes full-width punctuation, which RUF001 reads as look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.domain.phrases import Phrases, phrases_for

LANGUAGES = ("en", "zh")

_EN: dict[str, str] = {
    "title": "AI-tool catalogue",
    "nav_catalogue": "Catalogue",
    "nav_radar": "Radar",
    "nav_changes": "What changed",
    "nav_exports": "Exports",
    "search_label": "Ask about a tool",
    "search_placeholder": "e.g. can I use Claude Code?",
    "search_button": "Search",
    "results_for": "Results for “{q}”",
    "no_policy": "No policy for “{topic}”.",
    "did_you_mean": "Did you mean:",
    "ambiguous": "“{matched}” names several tools:",
    "clear_search": "Back to the whole catalogue",
    "list_capped": "Showing the first {shown} of {total}.",
    "list_whole": "See them all in the catalogue",
    "filters": "Filter",
    "filter_status": "Status",
    "filter_category": "Category",
    "filter_vendor": "Vendor",
    "filter_data": "Cleared for data",
    "any": "Any",
    "n_chosen": "{count} chosen",
    "apply": "Apply",
    "clear_filters": "Clear filters",
    "showing": "{shown} of {total} tools",
    "page_of": "Page {page} of {pages}",
    "previous": "← Previous",
    "next": "Next →",
    "no_tools": "No tool matches these filters.",
    "col_tool": "Tool",
    "col_vendor": "Vendor",
    "col_category": "Category",
    "col_data": "Data up to",
    "col_effective": "Effective",
    "recent": "changed recently",
    "recent_legend": "Changed in the last {days} days",
    "status": "Status",
    "since": "since {date}",
    "from": "from {date}",
    "scheduled": "Scheduled: {status} from {date}",
    "upcoming": "upcoming",
    "vendor": "Vendor",
    "category": "Category",
    "aliases": "Also called",
    "conditions": "Conditions",
    "data_limit": "Data up to",
    "no_data": "none",
    "not_recorded": "not recorded",
    "reason": "Why",
    "alternatives": "Instead use",
    "alternative_for": "Listed as an alternative to",
    "rules": "For some teams",
    "rules_intro": "Everyone else gets the policy above.",
    "not_in_registry": "not in the catalogue",
    "owner": "Owner",
    "more": "More",
    "history": "History",
    "col_when": "When",
    "col_who": "Who",
    "col_what": "What changed",
    "col_version": "Version",
    "col_change": "Change",
    "action_create": "added",
    "action_update": "changed",
    "action_delete": "removed",
    "action_schedule": "scheduled",
    "no_history": "No recorded changes.",
    "changes_title": "What changed",
    "changes_intro": "The latest {count} changes to the registry, newest first.",
    "no_changes": "Nothing has changed yet.",
    "version_title": "Policy version {label}",
    "version_baseline": "The baseline: the registry as it was first loaded, not announced as news.",
    "version_more": "Showing the first {shown} of its {total} changes.",
    "radar_title": "Radar",
    "radar_intro": (
        "Categories are sectors, statuses are rings (usable in the middle). "
        "Each number is a tool; follow it to the tool's page."
    ),
    "radar_capped": "Showing the first {shown} of {total} tools: filter to see the others.",
    "exports_title": "Exports",
    "exports_intro": "The tools shown here (with the filter, if any), for other programs:",
    "export_json": "JSON",
    "export_csv": "CSV (build-your-own-radar columns)",
    "export_yaml": "YAML (policies as code)",
    "not_found": "No tool here.",
    "not_found_hint": "It may have been renamed or removed. Search the catalogue:",
    "no_version": "There is no version v{number}.",
    "no_version_hint": "The policy versions there are are listed on",
    "bad_filter": "Unknown {field} “{value}”.",
    "bad_filter_hint": "Use one of: {choices}. Or see",
    "col_status": "Status",
    "tool_removed": "{name} was removed from the registry.",
    "footer": "Policy only: this catalogue never shows who asked what.",
    "skip": "Skip to the content",
    "uncategorised": "uncategorised",
    "empty": "—",
}

_ZH: dict[str, str] = {
    "title": "AI 工具目录",
    "nav_catalogue": "目录",
    "nav_radar": "雷达图",
    "nav_changes": "最近变更",
    "nav_exports": "导出",
    "search_label": "查询工具",
    "search_placeholder": "例如：可以用 Claude Code 吗？",
    "search_button": "搜索",
    "results_for": "“{q}”的结果",
    "no_policy": "没有关于“{topic}”的政策。",
    "did_you_mean": "你是不是想找：",
    "ambiguous": "“{matched}”对应多个工具：",
    "clear_search": "返回完整目录",
    "list_capped": "共 {total} 个，显示前 {shown} 个。",
    "list_whole": "在目录中查看全部",
    "filters": "筛选",
    "filter_status": "状态",
    "filter_category": "类别",
    "filter_vendor": "供应商",
    "filter_data": "允许的数据级别",
    "any": "全部",
    "n_chosen": "已选 {count} 项",
    "apply": "应用",
    "clear_filters": "清除筛选",
    "showing": "共 {total} 个工具，显示 {shown} 个",
    "page_of": "第 {page} 页，共 {pages} 页",
    "previous": "← 上一页",
    "next": "下一页 →",
    "no_tools": "没有符合筛选条件的工具。",
    "col_tool": "工具",
    "col_vendor": "供应商",
    "col_category": "类别",
    "col_data": "数据级别上限",
    "col_effective": "生效日期",
    "recent": "最近有变更",
    "recent_legend": "最近 {days} 天内有变更",
    "status": "状态",
    "since": "自 {date} 起",
    "from": "将自 {date} 起",
    "scheduled": "计划变更：自 {date} 起{status}",
    "upcoming": "即将生效",
    "vendor": "供应商",
    "category": "类别",
    "aliases": "别名",
    "rules": "特定团队的规定",
    "rules_intro": "其他人适用上述政策。",
    "conditions": "使用条件",
    "data_limit": "数据级别上限",
    "no_data": "无",
    "not_recorded": "未记录",
    "reason": "原因",
    "alternatives": "替代方案",
    "alternative_for": "是以下工具的替代方案",
    "not_in_registry": "不在目录中",
    "owner": "负责人",
    "more": "详情",
    "history": "变更记录",
    "col_when": "时间",
    "col_who": "操作人",
    "col_what": "变更内容",
    "col_version": "版本",
    "col_change": "变更",
    "action_create": "新增",
    "action_update": "修改",
    "action_delete": "移除",
    "action_schedule": "计划变更",
    "no_history": "没有变更记录。",
    "changes_title": "最近变更",
    "changes_intro": "登记册最近的 {count} 条变更，最新的在前。",
    "no_changes": "尚无变更。",
    "version_title": "政策版本 {label}",
    "version_baseline": "基线版本：首次载入时的登记册，不作为新变更公布。",
    "version_more": "共 {total} 条变更，显示前 {shown} 条。",
    "radar_title": "雷达图",
    "radar_intro": (
        "扇区是类别，圆环是状态（可用的在中心）。每个数字代表一个工具，点击可打开其页面。"
    ),
    "radar_capped": "仅显示 {total} 个工具中的前 {shown} 个：请用筛选查看其余工具。",
    "exports_title": "导出",
    "exports_intro": "此处显示的工具（含筛选条件）可导出给其他程序：",
    "export_json": "JSON",
    "export_csv": "CSV（build-your-own-radar 格式）",
    "export_yaml": "YAML（政策即代码）",
    "not_found": "没有这个工具。",
    "not_found_hint": "它可能已改名或被移除。请搜索目录：",
    "no_version": "没有版本 v{number}。",
    "no_version_hint": "现有的政策版本列在",
    "bad_filter": "未知的{field}“{value}”。",
    "bad_filter_hint": "请使用：{choices}。或查看",
    "col_status": "状态",
    "tool_removed": "{name} 已从登记册中移除。",
    "footer": "仅显示政策：本目录从不显示谁问了什么。",
    "skip": "跳到正文",
    "uncategorised": "未分类",
    "empty": "—",
}

assert _EN.keys() == _ZH.keys(), "the two languages name the same strings"

_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": MappingProxyType(_EN),
    "zh": MappingProxyType(_ZH),
}


def words(language: str) -> Mapping[str, str]:
    """The catalogue's strings in `language` ("en" or "zh")."""
    return _WORDS[language]


# The shipped registry's categories as people read them; another category is shown from its
# value ("image-and-media" -> "Image and media").
_CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "coding-assistant": "Coding assistants",
        "chat-assistant": "Chat assistants",
        "image-and-media": "Image and media",
        "productivity": "Productivity",
    },
    "zh": {
        "coding-assistant": "编程助手",
        "chat-assistant": "聊天助手",
        "image-and-media": "图像与媒体",
        "productivity": "办公效率",
    },
}


def category_name(category: str, language: str) -> str:
    """A category value as a title in `language`: `coding-assistant` -> "Coding assistants"
    (编程助手); one the catalogue has no name for, from its value: "Image and media"."""
    known = _CATEGORY_NAMES[language].get(category.strip().casefold())
    if known:
        return known
    text = " ".join(category.replace("-", " ").replace("_", " ").split())
    return text[:1].upper() + text[1:] if text else category


def phrases(language: str) -> Phrases:
    """The answers' phrasebook for `language`: status and data-class names."""
    return phrases_for(language)


def negotiate(accept_language: str | None) -> str:
    """ "zh" when the browser prefers Chinese over English, else "en" (RFC 9110 q-values)."""
    best, best_q = "en", 0.0
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        # Earlier tags win ties, as browsers list them in order of preference.
        score = q - position * 1e-6
        if score > best_q:
            best, best_q = primary, score
    return best

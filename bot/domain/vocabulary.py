"""The words a question frame is read with, English and Chinese, as data. No I/O.

`SHIPPED` is the vocabulary policybot ships with; admins add words in
`policies/vocabulary.yaml` (same shape, every list optional), which `check` validates and
the registry reload picks up. `Vocabulary.build` compiles a mapping (the shipped one merged
with the admins') into patterns, once per registry snapshot.

Each entry is a list of phrases. English phrases match as whole words ("contract" also matches
"contracts": a trailing `s` is optional); Chinese phrases match as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.policy import DataClass

__all__ = ["FACETS", "SHIPPED", "Vocabulary", "vocabulary_problems"]

# What a question may ask; each facet's phrases say the question asks it.
FACETS = (
    "access",  # how to get a tool approved or an exception, who to ask for it
    "changed",  # what changed (a period in the past)
    "will_change",  # what will change (scheduled, soon, next month)
    "vendor",  # who makes a tool
    "personal",  # a personal account, key, licence or free plan
)

# fmt: off
SHIPPED: Mapping[str, Any] = {
    "facets": {
        "access": [
            "request",
            "requesting",
            "exception",
            "exceptions",
            "get it approved",
            "get approved",
            "get approval",
            "approval process",
            "how do i get",
            "how can i get",
            "how do we get",
            "how can we get",
            "getting approved",
            "who approves",
            "who do i ask",
            "who should i ask",
            "who can approve",
            "review of",
            "a review",
            "evaluate",
            "evaluated",
            "apply for",
            "get access",
            "access to",
            "onboard",
            "申请",
            "例外",
            "开通",
            "报批",
            "审批流程",
            "找谁批",
            "怎么批",
            "评估一下",
        ],
        "changed": [
            "changed",
            "change",
            "changes",
            "what's new",
            "whats new",
            "new rules",
            "anything new",
            "new in the rules",
            "new in the policy",
            "updated",
            "updates",
            "got banned",
            "got approved",
            "was banned",
            "were banned",
            "was approved",
            "were approved",
            "recently",
            "lately",
            "latest",
            "变化",
            "变更",
            "更新",
            "改了",
            "调整",
        ],
        "will_change": [
            "going to",
            "gonna",
            "will be",
            "will get",
            "will change",
            "scheduled",
            "upcoming",
            "coming up",
            "planned",
            "plans to",
            "soon",
            "next week",
            "next month",
            "next quarter",
            "next year",
            "in the future",
            "接下来",
            "即将",
            "将要",
            "将会",
            "会被",
            "计划",
            "未来",
            "下个月",
            "下周",
            "明年",
            "下季度",
        ],
        "vendor": [
            "what vendor",
            "which vendor",
            "who makes",
            "who made",
            "who built",
            "who owns it",
            "which company makes",
            "what company makes",
            "made by",
            "供应商",
            "哪家公司",
            "谁家的",
            "哪个公司",
        ],
        "personal": [
            "personal account",
            "personal accounts",
            "personal plan",
            "personal licence",
            "personal license",
            "personal key",
            "personal api key",
            "personal gmail",
            "personal subscription",
            "personal seat",
            "personal aws",
            "my personal",
            "my own",
            "our own",
            "own account",
            "own key",
            "own api key",
            "own licence",
            "own license",
            "free plan",
            "free tier",
            "free version",
            "free account",
            "free website",
            "copilot free",
            "the free",
            "个人账号",
            "个人账户",
            "个人版",
            "私人账号",
            "自己的账号",
            "自己的账户",
            "免费版",
        ],
    },
    # Everyday words for data -> the data class they are. The most sensitive one named wins.
    "data": {
        "public": [
            "public",
            "fake data",
            "made-up data",
            "made up data",
            "dummy data",
            "synthetic data",
            "test data",
            "公开",
            "假数据",
            "虚构数据",
        ],
        "internal": [
            "internal",
            "company code",
            "our code",
            "your code",
            "source code",
            "codebase",
            "our repo",
            "your repo",
            "company repo",
            "internal docs",
            "work data",
            "内部",
            "公司代码",
            "源代码",
            "内部文档",
        ],
        "confidential": [
            "confidential",
            "customer data",
            "customer",
            "customers",
            "client data",
            "client",
            "contract",
            "nda",
            "personal data",
            "pii",
            "privileged",
            "roadmap",
            "unreleased",
            "launch plan",
            "strategy doc",
            "financials",
            "salary",
            "salaries",
            "legal memo",
            "employee data",
            "hr data",
            "sensitive",
            "机密",
            "客户",
            "合同",
            "个人信息",
            "隐私",
            "未发布",
            "敏感",
            "薪资",
            "员工数据",
        ],
        "restricted": [
            "restricted",
            "secret",
            "secrets",
            "credentials",
            "password",
            "passwords",
            "health data",
            "medical",
            "受限",
            "绝密",
            "密钥",
            "密码",
        ],
    },
    # Capabilities: what a person wants done -> the words of tools that do it (matched
    # against a tool's name, aliases and category) and the category concept it belongs to.
    "capabilities": {
        "write code": {
            "asked": [
                "write code",
                "writing code",
                "code completion",
                "coding",
                "to code",
                "program",
                "refactor",
                "debug",
                "写代码",
                "编程",
                "写程序",
                "代码补全",
            ],
            "category": "coding",
        },
        "meeting notes": {
            "asked": [
                "meeting notes",
                "take notes",
                "notes in my meetings",
                "note taker",
                "note takers",
                "notetaker",
                "meeting note",
                "transcribe",
                "transcription",
                "record meetings",
                "take minutes",
                "meeting minutes",
                "minutes of our meetings",
                "meeting summaries",
                "meeting summary",
                "会议纪要",
                "会议记录",
                "记笔记",
                "转录",
            ],
            "tool_words": ["meeting", "notetaker", "notes", "huddle", "recaps", "zoom ai"],
        },
        "slides": {
            "asked": [
                "slide",
                "slides",
                "slide deck",
                "slide decks",
                "presentation",
                "presentations",
                "deck",
                "decks",
                "powerpoint",
                "幻灯片",
                "演示文稿",
                "做PPT",
            ],
            "tool_words": ["microsoft 365 copilot", "canva", "gamma"],
        },
        "writing": {
            "asked": [
                "press release",
                "press releases",
                "write copy",
                "copywriting",
                "draft emails",
                "write emails",
                "blog post",
                "blog posts",
                "marketing copy",
                "写文案",
                "写稿",
                "写邮件",
            ],
            "tool_words": [
                "chatgpt enterprise",
                "microsoft 365 copilot",
                "notion ai",
                "grammarly",
                "canva magic write",
            ],
        },
        "translation": {
            "asked": ["translate", "translation", "translations", "翻译"],
            "tool_words": ["deepl", "microsoft 365 copilot", "chatgpt enterprise"],
        },
        "images": {
            "asked": [
                "make images",
                "generate images",
                "create images",
                "image generation",
                "illustrations",
                "生成图片",
                "画图",
                "做图",
            ],
            "category": "image",
        },
        "video": {
            "asked": ["video", "videos", "avatar videos", "视频", "做视频"],
            "tool_words": ["synthesia", "runway", "sora", "kling", "video"],
        },
        "voice": {
            "asked": ["voiceover", "voice over", "narration", "text to speech", "配音"],
            "tool_words": ["elevenlabs"],
        },
    },
    # Vendors as people call them in Chinese -> the vendor word the registry uses.
    "vendors": {
        "阿里巴巴": "alibaba",
        "阿里云": "alibaba",
        "阿里": "alibaba",
        "百度": "baidu",
        "腾讯": "tencent",
        "字节跳动": "bytedance",
        "字节": "bytedance",
        "谷歌": "google",
        "微软": "microsoft",
        "智谱": "zhipu",
        "讯飞": "iflytek",
        "科大讯飞": "iflytek",
        "月之暗面": "moonshot",
        "快手": "kuaishou",
        "金山": "kingsoft",
        "亚马逊": "amazon",
    },
    # Edition words: "X Enterprise" is another product when it is not registered itself.
    "editions": {
        "enterprise": ["enterprise", "企业版"],
        "team": ["team", "teams", "团队版"],
        "business": ["business", "商业版"],
        "pro": ["pro", "专业版"],
        "personal": ["personal", "individual", "个人版"],
        "education": ["edu", "education", "教育版"],
    },
    # Time words -> days back from today ("changed") or ahead ("will change").
    "periods": {
        "recently": {
            "days": 90,
            "words": ["recently", "lately", "recent", "latest", "最近", "近期"],
        },
        "last week": {"days": 7, "words": ["last week", "past week", "this week", "上周", "本周"]},
        "last month": {
            "days": 31,
            "words": ["last month", "past month", "this month", "上个月", "本月"],
        },
        "last quarter": {"days": 92, "words": ["last quarter", "past quarter", "上季度"]},
        "this year": {"days": 366, "words": ["this year", "last year", "past year", "今年"]},
    },
}
# fmt: on


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    latin: list[str] = []
    other: list[str] = []
    for phrase in sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True):
        if phrase.isascii():
            body = r"\s+".join(re.escape(word) for word in phrase.split())
            latin.append(body + ("s?" if phrase[-1].isalpha() and not phrase.endswith("s") else ""))
        else:
            other.append(re.escape(phrase))
    parts = []
    if latin:
        parts.append(r"(?<![\w-])(?:" + "|".join(latin) + r")(?![\w-])")
    if other:
        parts.append("|".join(other))
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class Capability:
    name: str
    asked: re.Pattern[str]
    category: str | None
    tool_words: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The compiled vocabulary: one pattern per facet, data class, capability and period."""

    facets: Mapping[str, re.Pattern[str]]
    data: tuple[tuple[DataClass, re.Pattern[str]], ...]  # least sensitive first
    capabilities: tuple[Capability, ...]
    vendors: Mapping[str, str]
    editions: re.Pattern[str] | None
    periods: tuple[tuple[int, re.Pattern[str]], ...]  # shortest period first

    @classmethod
    def build(cls, extra: Mapping[str, Any] | None = None) -> Vocabulary:
        """The shipped vocabulary, with `extra` (the admins' additions) merged in."""
        data = _merged(SHIPPED, extra or {})
        facets = {name: _phrase_pattern(data["facets"].get(name, ())) for name in FACETS}
        classes = tuple(
            (dc, pattern)
            for dc in DataClass
            if (pattern := _phrase_pattern(data["data"].get(dc.value, ()))) is not None
        )
        capabilities = tuple(
            Capability(
                name,
                pattern,
                entry.get("category"),
                tuple(w.lower() for w in entry.get("tool_words", ())),
            )
            for name, entry in data["capabilities"].items()
            if (pattern := _phrase_pattern(entry.get("asked", ()))) is not None
        )
        editions = _phrase_pattern(w for words in data["editions"].values() for w in words)
        periods = sorted(
            (int(entry["days"]), pattern)
            for entry in data["periods"].values()
            if (pattern := _phrase_pattern(entry.get("words", ()))) is not None
        )
        return cls(
            facets={k: v for k, v in facets.items() if v is not None},
            data=classes,
            capabilities=capabilities,
            vendors={k: str(v).lower() for k, v in data["vendors"].items()},
            editions=editions,
            periods=tuple((days, pattern) for days, pattern in periods),
        )

    def asks(self, facet: str, lower: str) -> bool:
        pattern = self.facets.get(facet)
        return pattern is not None and pattern.search(lower) is not None

    def data_named(self, lower: str) -> tuple[DataClass | None, str]:
        """The most sensitive data class the words name, and the words that named it."""
        found: tuple[DataClass | None, str] = (None, "")
        for data_class, pattern in self.data:
            match = pattern.search(lower)
            if match is not None:
                found = (data_class, match.group())
        return found

    def capability(self, lower: str) -> Capability | None:
        return next((c for c in self.capabilities if c.asked.search(lower)), None)

    def period_days(self, lower: str) -> int | None:
        return next((days for days, pattern in self.periods if pattern.search(lower)), None)

    def vendor_words(self, text: str) -> list[str]:
        """The registry's vendor words for vendors named in Chinese ("阿里的工具" -> alibaba)."""
        found = []
        for word, vendor in sorted(self.vendors.items(), key=lambda kv: -len(kv[0])):
            if word in text and vendor not in found:
                found.append(vendor)
                text = text.replace(word, " ")
        return found


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` added: lists are extended, mappings merged, values replaced."""
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = _merged(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        else:
            merged[key] = value
    return merged


_SECTIONS = ("facets", "data", "capabilities", "vendors", "editions", "periods")


def vocabulary_problems(extra: Any) -> list[str]:
    """Sentences saying what is wrong with an admin's vocabulary file; empty when it is fine."""
    if not isinstance(extra, Mapping):
        return ["the vocabulary file must be a mapping of sections: " + ", ".join(_SECTIONS)]
    problems = []
    for section, value in extra.items():
        if section not in _SECTIONS:
            problems.append(f"unknown vocabulary section '{section}': use {', '.join(_SECTIONS)}")
        elif not isinstance(value, Mapping):
            problems.append(f"vocabulary section '{section}' must be a mapping")
        elif section == "facets":
            problems += [
                f"unknown facet '{k}': use {', '.join(FACETS)}" for k in value if k not in FACETS
            ]
            problems += _lists_of_words(section, value)
        elif section == "data":
            known = [d.value for d in DataClass]
            problems += [
                f"unknown data class '{k}': use {', '.join(known)}" for k in value if k not in known
            ]
            problems += _lists_of_words(section, value)
        elif section == "editions":
            problems += _lists_of_words(section, value)
    return problems


def _lists_of_words(section: str, value: Mapping[str, Any]) -> list[str]:
    return [
        f"vocabulary '{section}.{k}' must be a list of words"
        for k, words in value.items()
        if not isinstance(words, Sequence)
        or isinstance(words, str)
        or not all(isinstance(w, str) for w in words)
    ]

"""Questions staff ask, answered against the shipped registry in policies/.

Written apart from the answer-quality sample in ../shared/eval/ (different tools, phrasings
and traps), so that quality is checked on questions the matcher was not tuned to.
"""

from __future__ import annotations

import pytest

from bot.adapters.files.policyfile import load_policies
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.domain.answers import Registry, answer_question
from tests.conftest import REPO

COPILOTS = [
    "GitHub Copilot",
    "GitHub Copilot Enterprise",
    "Microsoft 365 Copilot",
    "Microsoft Copilot",
]

CASES: list[tuple[str, list[str]]] = [
    ("is midjourney ok for marketing visuals?", ["Midjourney"]),
    ("can i use chat gpt for drafting emails", ["ChatGPT"]),
    ("Can we use Copilot on internal repos?", COPILOTS),
    ("what about gemini code assist", ["Gemini Code Assist"]),
    ("is tabnine allowed", ["Tabnine"]),
    ("anyone know if perplexity is approved", ["Perplexity"]),
    ("can i use notion ai to summarise meeting notes", ["Notion AI"]),
    ("ok to use grammarly", ["Grammarly"]),
    ("is it fine to use DALL·E for slides", ["DALL-E"]),
    ("can I use bolt.new for a prototype", ["Bolt.new"]),
    ("is lovable ok", ["Lovable"]),
    ("Replit ok?", ["Replit"]),
    ("any policy on aider", ["Aider"]),
    ("豆包可以用吗", ["Doubao"]),
    ("文心一言能用吗", ["ERNIE Bot"]),
    ("能用kimi吗", ["Kimi"]),
    ("deepseek能用来写代码吗", ["DeepSeek"]),
    ("what should I use instead of windsurf", ["Windsurf"]),
    ("since when is cursor allowed", ["Cursor"]),
    ("can I paste customer data into chatgpt", ["ChatGPT"]),
    ("claude vs claude code", ["Claude", "Claude Code"]),
    ("is Claude allowed", ["Claude"]),
    ("is slack ai ok", ["Slack AI"]),
    ("can I use amazon q", ["Amazon Q Developer"]),
    ("codewhisperer?", ["Amazon Q Developer"]),
    ("jetbrains ai assistant allowed?", ["JetBrains AI Assistant"]),
    ("marscode?", ["Trae"]),
    ("can i use mistral", ["Mistral Le Chat"]),
    ("otter for meeting notes", ["Otter.ai"]),
    ("adobe firefly for images", ["Adobe Firefly"]),
    ("fireflies ok?", ["Fireflies"]),
    ("is chatgpt enterprise allowed for confidential data", ["ChatGPT Enterprise"]),
    ("讯飞星火可以用吗", ["iFlytek Spark"]),
    ("智谱清言呢", ["Zhipu ChatGLM"]),
    ("microsoft copilot?", ["Microsoft Copilot"]),
    # Not about any tool in the registry, or a common word used as a word.
    ("should I continue with this PR?", []),
    ("I'll continue tomorrow", []),
    ("move the cursor to the left", []),
    ("the bolt on the door is loose", []),
    ("I need to warp this image", []),
    ("what's the weather today", []),
    ("can I use Excel", []),
    ("can I use Jira", []),
    ("thanks!", []),
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(load_policies(REPO / "policies"), shipped_vocabulary())


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_question_is_about_exactly_these_tools(
    registry: Registry, question: str, expected: list[str]
) -> None:
    answer = answer_question(question, registry)
    assert sorted(t.policy.name for t in answer.tools) == sorted(expected)


@pytest.mark.parametrize(
    "question",
    [
        "is the magic number ok?",
        "is the companion app allowed?",
        "can I use spark for data processing?",
        "is office 365 ok?",
        # A brand's AI feature is not the brand itself.
        "is zoom allowed for client calls",
        "is slack allowed on my phone",
        "can I use canva for a poster",
        "can I use miro for workshops",
        "can I use wps office",
        "is notion allowed",
    ],
)
def test_a_word_from_a_longer_tool_name_alone_is_not_that_tool(
    registry: Registry, question: str
) -> None:
    assert answer_question(question, registry).tools == ()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("magic studio ok?", "Canva Magic Studio"),
        ("zoom ai summary ok?", "Zoom AI Companion"),
        ("iflytek spark?", "iFlytek Spark"),
    ],
)
def test_the_distinctive_part_of_a_long_name_still_finds_it(
    registry: Registry, question: str, expected: str
) -> None:
    assert [t.policy.name for t in answer_question(question, registry).tools] == [expected]

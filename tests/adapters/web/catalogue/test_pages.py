"""The catalogue over HTTP, without a browser: pages, filters, search, exports, headers."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import yaml

from bot.adapters.files.policyfile import load_policies
from bot.adapters.web.catalogue.exports import CSV_COLUMNS
from bot.app.changes import Actor
from bot.domain.commands import SetPolicy
from bot.domain.policy import Status
from tests.adapters.web.catalogue.conftest import ADMIN, HOSTILE, Site, serving
from tests.conftest import FakeClock
from tests.factories import make_policy
from tests.wiring import apply, runtime_on, seed

PAGES = (
    "/catalogue/",
    "/catalogue/?status=banned",
    "/catalogue/?q=calude+code",
    "/catalogue/radar",
    "/catalogue/changes",
    "/catalogue/tools/claude-code",
    "/catalogue/tools/evil-tool",
    "/catalogue/no-such-page",
)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <h2> group heading."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def tool_links(html: str) -> list[str]:
    """The tool pages a page links to, in order."""
    return re.findall(r'href="/catalogue/tools/([^"]+)"', html)


def chosen_filters(html: str) -> dict[str, list[str]]:
    """What the filter form has chosen: ticked checkboxes and selected options, by field."""
    start = html.index('<form class="filters"')
    form = html[start : html.index("</form>", start)]
    chosen: dict[str, list[str]] = {}
    select = ""
    for tag, attrs in tags(form):
        if tag == "select":
            select = attrs.get("name") or ""
        ticked = tag == "input" and attrs.get("type") == "checkbox" and "checked" in attrs
        if ticked:
            chosen.setdefault(attrs.get("name") or "", []).append(attrs.get("value") or "")
        if tag == "option" and "selected" in attrs and attrs.get("value"):
            chosen.setdefault(select, []).append(attrs.get("value") or "")
    return chosen


def group_order(html: str) -> list[str]:
    return re.findall(r'<section class="group group-([a-z-]+)"', html)


# -- the catalogue -------------------------------------------------------------------------------


def test_the_catalogue_groups_every_tool_by_status_usable_first(site: Site) -> None:
    reply = site.get("/catalogue/")
    assert reply.status == 200
    assert group_order(reply.text) == ["allowed", "conditional", "under-review", "banned"]
    links = tool_links(reply.text)
    for slug in ("qoder", "microsoft-copilot", "github-copilot", "cursor", "claude-code"):
        assert slug in links
    assert links.index("qoder") < links.index("claude-code")


def test_a_status_filter_in_the_url_shows_only_that_status(site: Site) -> None:
    reply = site.get("/catalogue/?status=banned")
    assert group_order(reply.text) == ["banned"]
    assert set(tool_links(reply.text)) >= {"claude-code", "windsurf"}
    assert "qoder" not in tool_links(reply.text)
    # The form shows the filter that is on, so the page and its URL agree.
    assert chosen_filters(reply.text) == {"status": ["banned"]}


def test_a_link_with_two_statuses_shows_both_ticked_in_the_form(site: Site) -> None:
    reply = site.get("/catalogue/?status=allowed&status=banned")
    assert group_order(reply.text) == ["allowed", "banned"]
    assert chosen_filters(reply.text) == {"status": ["allowed", "banned"]}
    # The closed list says what is chosen, without a script.
    summary = re.search(r'id="f-status".*?<summary>(.*?)</summary>', reply.text, re.S)
    assert summary is not None and summary.group(1) == "allowed, banned"


def test_every_multi_value_filter_keeps_all_its_values_in_the_form(site: Site) -> None:
    query = urlencode(
        [
            ("category", "coding-assistant"),
            ("category", "chat-assistant"),
            ("vendor", "Microsoft"),
            ("vendor", "Anthropic"),
            ("vendor", "Nobody Inc"),  # no tool has it: still shown, so the link reads true
            ("data", "internal"),
        ]
    )
    reply = site.get("/catalogue/?" + query)
    assert chosen_filters(reply.text) == {
        "category": ["chat-assistant", "coding-assistant"],
        "vendor": ["Anthropic", "Microsoft", "Nobody Inc"],
        "data": ["internal"],
    }
    summary = re.search(r'id="f-vendor".*?<summary>(.*?)</summary>', reply.text, re.S)
    assert summary is not None and summary.group(1) == "3 chosen"


def test_category_vendor_and_data_filters_combine(site: Site) -> None:
    by_category = tool_links(site.get("/catalogue/?category=coding-assistant").text)
    assert {"qoder", "claude-code", "windsurf"} <= set(by_category)
    assert "github-copilot" not in by_category
    by_vendor = tool_links(site.get("/catalogue/?vendor=Microsoft").text)
    assert set(by_vendor) == {"microsoft-copilot"}
    # Cleared for confidential data: a public-only tool is not.
    cleared = tool_links(site.get("/catalogue/?data=confidential").text)
    assert "microsoft-copilot" in cleared
    assert "github-copilot" not in cleared
    both = tool_links(site.get("/catalogue/?category=coding-assistant&status=allowed").text)
    assert both == ["qoder"]


def test_a_page_number_that_is_no_number_is_ignored(site: Site) -> None:
    reply = site.get("/catalogue/?page=abc")
    assert reply.status == 200
    assert "claude-code" in tool_links(reply.text)


@pytest.mark.parametrize(
    ("query", "said", "choice"),
    [
        ("status=bannned", "Unknown status “bannned”.", "under-review"),
        ("status=banned&status=forbidden", "Unknown status “forbidden”.", "conditional"),
        ("data=secret", "Unknown cleared for data “secret”.", "confidential"),
    ],
)
def test_an_unknown_filter_value_says_so_instead_of_showing_every_tool(
    site: Site, query: str, said: str, choice: str
) -> None:
    reply = site.get(f"/catalogue/?{query}")

    assert reply.status == 400
    assert said in reply.text
    assert choice in reply.text
    assert tool_links(reply.text) == []


def test_a_large_catalogue_is_paginated_and_the_next_page_keeps_the_filter(
    store: object, clock: FakeClock
) -> None:
    from bot.adapters.db.store import Store

    assert isinstance(store, Store)
    seed(runtime_on(store), [make_policy(f"Tool {n:03}", category="bulk") for n in range(250)])
    with serving(store, clock) as site:
        first = site.get("/catalogue/?category=bulk")
        assert len(tool_links(first.text)) == 100
        assert 'href="/catalogue/?category=bulk&amp;page=2"' in first.text
        third = site.get("/catalogue/?category=bulk&page=3")
        assert len(tool_links(third.text)) == 50
        assert tool_links(third.text)[-1] == "tool-249"


# -- search --------------------------------------------------------------------------------------


def test_search_finds_a_tool_through_a_typo(site: Site) -> None:
    reply = site.get("/catalogue/?q=calude+code")
    assert reply.status == 200
    assert tool_links(reply.text)[:1] == ["claude-code"]


def test_search_for_copilot_shows_both_copilots(site: Site) -> None:
    links = tool_links(site.get("/catalogue/?q=copilot").text)
    assert {"github-copilot", "microsoft-copilot"} <= set(links)


def test_search_understands_chinese_and_aliases(site: Site) -> None:
    question = urlencode({"q": "我可以用claude cli吗"})
    assert tool_links(site.get(f"/catalogue/?{question}").text)[:1] == ["claude-code"]


def test_search_for_whats_banned_shows_the_list(site: Site) -> None:
    reply = site.get("/catalogue/?" + urlencode({"q": "what's banned?"}))
    assert reply.status == 200
    assert set(tool_links(reply.text)) == {"claude-code", "windsurf"}
    assert group_order(reply.text) == ["banned"]


def test_a_list_asked_in_chinese_is_the_same_list(site: Site) -> None:
    reply = site.get("/catalogue/?" + urlencode({"q": "有哪些工具被禁止了？"}))  # noqa: RUF001
    assert set(tool_links(reply.text)) == {"claude-code", "windsurf"}


def test_a_long_list_shows_its_first_page_and_links_to_the_whole_filter(
    store: object, clock: FakeClock
) -> None:
    from bot.adapters.db.store import Store

    assert isinstance(store, Store)
    seed(
        runtime_on(store),
        [make_policy(f"Tool {n:03}", category="coding-assistant") for n in range(150)],
    )
    with serving(store, clock) as site:
        reply = site.get("/catalogue/?" + urlencode({"q": "which coding tools are allowed?"}))
        assert len(tool_links(reply.text)) == 100
        assert "Showing the first 100 of 150." in reply.text
        whole = "/catalogue/?status=allowed&amp;status=conditional&amp;category=coding-assistant"
        assert f'href="{whole}"' in reply.text


def test_search_without_a_match_says_so_and_offers_close_names(site: Site) -> None:
    reply = site.get("/catalogue/?q=figma")
    assert reply.status == 200
    assert "No policy for" in reply.text


def test_the_matcher_a_search_builds_is_frozen_with_the_snapshot_at_the_next_request(
    site: Site,
) -> None:
    site.get("/catalogue/")  # the page needs no matcher: the snapshot is frozen without it
    registry = site.runtime.service.registry()
    site.get("/catalogue/?q=calude+code")  # builds the matcher
    site.get("/catalogue/")
    assert site.runtime.service.registry() is registry
    # Frozen objects are out of the collector's generations (gc.get_objects lists those).
    assert id(registry.matcher) not in {id(item) for item in gc.get_objects()}


def test_search_does_not_log_the_question_nor_show_who_asked(store: object, site: Site) -> None:
    from bot.adapters.db.store import Store

    assert isinstance(store, Store)
    runtime = runtime_on(store, log_askers=True)
    runtime.service.ask("is secret-project-zeta allowed?", asker="U0NOSY", channel="slack")
    site.get("/catalogue/?q=calude+code")
    unanswered = runtime.questions.unanswered()
    assert unanswered and all("calude" not in q.question for q in unanswered)
    for path in PAGES:
        text = site.get(path).text
        assert "secret-project-zeta" not in text
        assert "U0NOSY" not in text


# -- a tool's page -------------------------------------------------------------------------------


def test_a_tool_page_shows_its_whole_policy(site: Site) -> None:
    reply = site.get("/catalogue/tools/claude-code")
    assert reply.status == 200
    text = reply.text
    assert "<h1" in text and "Claude Code" in text
    assert "since 2026-11-20" in text
    assert "Sends environment metadata with every request." in text
    assert "#ai-governance" in text
    assert 'href="https://intranet.example.com/ai-policy/claude-code"' in text
    # The alternative links to its own page, with its status.
    assert re.search(r'<a href="/catalogue/tools/qoder">Qoder</a>\s*<span class="badge', text)


def test_a_tool_page_shows_the_history_newest_first_with_who_and_old_to_new(site: Site) -> None:
    text = site.get("/catalogue/tools/claude-code").text
    history = text[text.index('class="history"') :]
    rows = re.findall(r'<time datetime="([^"]+)"', history)
    assert rows == sorted(rows, reverse=True) and len(rows) == 3
    assert ADMIN in history and "seed" in history
    assert re.search(r'under review</span> → <span class="new">banned', history)


def test_each_change_in_a_tools_history_names_its_version_and_links_to_it(site: Site) -> None:
    newer, older, baseline = site.runtime.announcements.versions.latest(3)
    text = site.get("/catalogue/tools/claude-code").text
    history = text[text.index('class="history"') :]
    cells = re.findall(r'<td class="version"><a href="([^"]+)">(v[0-9]+)</a></td>', history)
    # Newest first: the ban, the review, then the import that added it.
    assert cells == [
        (f"/catalogue/changes/v{v.number}", f"v{v.number}") for v in (newer, older, baseline)
    ]


def test_a_version_page_shows_who_made_it_and_everything_it_changed(site: Site) -> None:
    latest = site.runtime.announcements.versions.latest(1)[0]
    reply = site.get(f"/catalogue/changes/v{latest.number}")
    assert reply.status == 200
    assert f"Policy version v{latest.number}" in reply.text
    assert ADMIN in reply.text
    assert tool_links(reply.text) == ["claude-code"]
    assert re.search(r'under review</span> → <span class="new">banned', reply.text)


def test_what_changed_names_each_changes_version(site: Site) -> None:
    latest = site.runtime.announcements.versions.latest(1)[0]
    text = site.get("/catalogue/changes").text
    first = re.search(r'<td class="version"><a href="([^"]+)">', text)
    assert first is not None and first.group(1) == f"/catalogue/changes/v{latest.number}"


def test_an_unknown_version_is_a_404_page(site: Site) -> None:
    latest = site.runtime.announcements.versions.latest(1)[0]
    reply = site.get(f"/catalogue/changes/v{latest.number + 1000}")
    assert reply.status == 404


def test_a_version_of_many_changes_shows_its_first_and_counts_the_rest(
    store: object, clock: FakeClock
) -> None:
    from bot.adapters.db.store import Store

    assert isinstance(store, Store)
    runtime = runtime_on(store)
    seed(runtime, [make_policy(f"Tool {n:03}", category="bulk") for n in range(250)])
    baseline = runtime.announcements.versions.latest(1)[0]
    with serving(store, clock) as site:
        text = site.get(f"/catalogue/changes/v{baseline.number}").text
    assert len(tool_links(text)) == 200
    assert "Showing the first 200 of its 250 changes." in text
    assert "The baseline" in text


def test_a_scheduled_change_is_shown_with_its_date(site: Site) -> None:
    text = site.get("/catalogue/tools/windsurf").text
    assert "Scheduled: banned from 2026-12-15" in text
    assert "from 2026-12-15" in text


def test_a_change_scheduled_through_the_write_path_is_shown_beside_todays_policy(
    site: Site,
) -> None:
    apply(
        site.runtime,
        SetPolicy("Cursor", Status.BANNED, effective=dt.date(2026, 12, 31)),
        Actor(ADMIN, "console", trusted=True),
    )
    text = site.get("/catalogue/tools/cursor").text
    assert re.search(r'class="status-line"><span class="badge badge-under-review"', text)
    assert "Scheduled: banned from 2026-12-31" in text
    listing = site.get("/catalogue/?status=under-review").text
    assert '<span class="soon">upcoming</span>' in listing
    exported = json.loads(site.get("/catalogue/export.json").body)
    cursor = next(t for t in exported["tools"] if t["name"] == "Cursor")
    assert cursor["scheduled"] == {"status": "banned", "effective": "2026-12-31"}


def test_a_tool_page_lists_the_tools_it_is_an_alternative_to(site: Site) -> None:
    text = site.get("/catalogue/tools/qoder").text
    assert "Listed as an alternative to" in text
    assert {"claude-code", "windsurf"} <= set(tool_links(text))


def test_an_unknown_tool_is_a_404_page(site: Site) -> None:
    reply = site.get("/catalogue/tools/no-such-tool")
    assert reply.status == 404
    assert "No tool here." in reply.text


def test_what_changed_lists_the_latest_changes_newest_first(site: Site) -> None:
    site.clock.advance(hours=2)
    apply(
        site.runtime,
        SetPolicy("Cursor", Status.ALLOWED),
        Actor(ADMIN, "console", trusted=True),
    )
    reply = site.get("/catalogue/changes")
    assert reply.status == 200
    stamps = re.findall(r'<time datetime="([^"]+)"', reply.text)
    assert stamps == sorted(stamps, reverse=True)
    assert tool_links(reply.text)[0] == "cursor"


# -- radar ---------------------------------------------------------------------------------------


def test_the_radar_draws_each_tool_as_a_point_linking_to_its_page(site: Site) -> None:
    reply = site.get("/catalogue/radar")
    assert reply.status == 200
    svg = reply.text[reply.text.index("<svg") : reply.text.index("</svg>")]
    points = re.findall(r'<a href="/catalogue/tools/([^"]+)" class="point"', svg)
    assert len(points) == len(site.runtime.policies.policies())
    # Sectors are the categories; a tool without one goes to "uncategorised".
    # Each is titled as people read it, a long title on two lines so it fits beside the circle.
    assert re.search(r">Coding</tspan><tspan [^>]*>assistants</tspan></text>", svg)
    assert re.search(r">Chat</tspan><tspan [^>]*>assistants</tspan></text>", svg)
    assert re.search(r">Uncategorised</tspan></text>", svg)
    assert "coding-assistant</t" not in svg
    # Claude Code changed today: its point carries the "recent" mark.
    claude = svg[svg.index('href="/catalogue/tools/claude-code"') :]
    assert "stroke-dasharray" in claude[: claude.index("</a>")]


def test_the_radar_is_also_a_standalone_svg(site: Site) -> None:
    reply = site.get("/catalogue/radar.svg?status=banned")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("image/svg+xml")
    assert reply.text.lstrip().startswith("<?xml")
    assert set(re.findall(r'href="/catalogue/tools/([^"]+)"', reply.text)) == {
        "claude-code",
        "windsurf",
    }


# -- exports -------------------------------------------------------------------------------------


def test_the_json_export_lists_every_tool_with_its_page(site: Site) -> None:
    reply = site.get("/catalogue/export.json")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "attachment" in reply.headers["Content-Disposition"]
    data = json.loads(reply.body)
    names = {tool["name"] for tool in data["tools"]}
    assert names == {p.name for p in site.runtime.policies.policies()}
    claude = next(t for t in data["tools"] if t["name"] == "Claude Code")
    assert claude["url"] == "https://policybot.example.com/catalogue/tools/claude-code"
    assert claude["status"] == "banned" and claude["recently_changed"] is True


def test_the_json_export_has_one_tool_a_line_and_an_empty_one_is_still_json(site: Site) -> None:
    text = site.get("/catalogue/export.json").text
    lines = [line for line in text.splitlines() if line.startswith('  {"name": ')]
    assert len(lines) == len(site.runtime.policies.policies())
    empty = json.loads(site.get("/catalogue/export.json?vendor=Nobody").body)
    assert empty["count"] == 0 and empty["tools"] == []


def test_the_csv_export_has_build_your_own_radars_columns(site: Site) -> None:
    reply = site.get("/catalogue/export.csv?status=banned")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row["name"] for row in rows} == {"Claude Code", "Windsurf"}
    claude = next(row for row in rows if row["name"] == "Claude Code")
    assert (claude["ring"], claude["quadrant"], claude["isNew"]) == (
        "banned",
        "coding-assistant",
        "TRUE",
    )


def test_the_csv_export_escapes_html_for_the_radar_that_shows_it(site: Site) -> None:
    rows = list(csv.DictReader(io.StringIO(site.get("/catalogue/export.csv").text)))
    evil = next(row for row in rows if row["name"] == "Evil Tool")
    assert "<script>" not in evil["description"]
    assert "&lt;script&gt;" in evil["description"]


def test_the_yaml_export_imports_back_as_the_same_registry(site: Site, tmp_path: Path) -> None:
    reply = site.get("/catalogue/export.yaml")
    assert reply.status == 200
    assert "tools" in yaml.safe_load(reply.body)
    path = tmp_path / "export.yaml"
    # The hostile tool's `javascript:` link, seeded around the rules, is one the files refuse.
    path.write_bytes(reply.body.replace(b"javascript:alert(1)", b"https://example.com/evil"))
    assert load_policies(path) == sorted(
        (
            replace(p, link="https://example.com/evil") if p.link == "javascript:alert(1)" else p
            for p in site.runtime.policies.policies()
        ),
        key=lambda p: p.name.casefold(),
    )


# -- safety --------------------------------------------------------------------------------------


def test_admin_written_text_is_escaped_on_every_page(site: Site) -> None:
    for path in (*PAGES, "/catalogue/?q=evil+tool", "/catalogue/?vendor=" + quote(HOSTILE)):
        text = site.get(path).text
        assert "<script>alert" not in text, path
        assert "<img src=x" not in text, path
        assert "<b>bold</b>" not in text, path
    page = site.get("/catalogue/tools/evil-tool").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # A link that is not http(s) is shown as text, never followed.
    assert 'href="javascript:' not in page


def test_a_search_is_escaped_as_well(site: Site) -> None:
    text = site.get("/catalogue/?q=%3Cscript%3Ealert(1)%3C/script%3E").text
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)" in text


def test_every_response_carries_the_security_headers(site: Site) -> None:
    for path in (*PAGES, "/catalogue/export.csv", "/catalogue/static/catalogue.css"):
        reply = site.get(path)
        csp = reply.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["X-Frame-Options"] == "DENY", path


def test_pages_have_no_inline_script_style_or_handler(site: Site) -> None:
    for path in PAGES:
        for tag, attrs in tags(site.get(path).text):
            if tag == "script":
                assert attrs.get("src", "").startswith("/catalogue/static/"), path
            assert "style" not in attrs, (path, tag)
            assert not any(name.startswith("on") for name in attrs), (path, tag)
            assert tag != "style", path


def test_pages_load_nothing_from_elsewhere(site: Site) -> None:
    for path in PAGES:
        for tag, attrs in tags(site.get(path).text):
            if tag in ("script", "img", "iframe") or (tag == "link"):
                source = attrs.get("src") or attrs.get("href") or ""
                assert source.startswith("/catalogue/"), (path, tag, source)


def test_only_get_and_head_are_answered(site: Site) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        reply = site.get("/catalogue/", method=method)
        assert reply.status == 405, method
        assert reply.headers["Allow"] == "GET, HEAD"
    get = site.get("/catalogue/tools/claude-code")
    head = site.get("/catalogue/tools/claude-code", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_static_files_are_served_only_by_name(site: Site) -> None:
    assert site.get("/catalogue/static/catalogue.js").status == 200
    assert site.get("/catalogue/static/../app.py").status == 404
    assert site.get("/catalogue/static/%2e%2e/app.py").status == 404


# -- languages -----------------------------------------------------------------------------------


def test_chinese_browsers_get_chinese_pages_with_policy_texts_as_written(site: Site) -> None:
    reply = site.get(
        "/catalogue/tools/claude-code", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    )
    assert '<html lang="zh-Hans">' in reply.text
    assert "变更记录" in reply.text and "禁止使用" in reply.text
    assert "Sends environment metadata with every request." in reply.text
    assert reply.headers["Vary"] == "Accept-Language"


def test_english_is_the_default_and_wins_when_preferred(site: Site) -> None:
    assert '<html lang="en">' in site.get("/catalogue/").text
    preferred = site.get("/catalogue/", headers={"Accept-Language": "en-GB,zh;q=0.5"})
    assert '<html lang="en">' in preferred.text


def test_a_tool_with_a_chinese_name_has_its_own_page(site: Site) -> None:
    seed(site.runtime, [make_policy("通义灵码", vendor="阿里云", category="coding-assistant")])
    listing = site.get("/catalogue/?category=coding-assistant").text
    path = "/catalogue/tools/%E9%80%9A%E4%B9%89%E7%81%B5%E7%A0%81"
    assert f'href="{path}"' in listing
    page = site.get(path)
    assert page.status == 200
    assert "通义灵码" in page.text and "阿里云" in page.text


def test_a_tool_page_is_found_by_its_name_too(site: Site) -> None:
    assert site.get("/catalogue/tools/Claude%20Code").status == 200

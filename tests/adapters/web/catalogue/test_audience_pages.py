"""The catalogue shows each tool's default and its audiences' rules (titles only, never
members), in Chinese where the policy texts are written in Chinese; its exports carry the
rules and translations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import load_audiences, load_policies
from bot.adapters.web.catalogue.app import CatalogueApp
from bot.app.changes import Actor, ImportPolicies
from bot.domain.links import tool_path
from tests.adapters.web.catalogue.conftest import Site, serve
from tests.conftest import REPO, FakeClock
from tests.wiring import runtime_on

SHIPPED = Path(REPO / "policies")


@pytest.fixture
def site(store: Store, clock: FakeClock) -> Iterator[Site]:
    runtime = runtime_on(store)
    runtime.changes.import_policies(
        ImportPolicies(tuple(load_policies(SHIPPED)), audiences=load_audiences(SHIPPED)),
        Actor("seed", "import", trusted=True),
    )
    app = CatalogueApp(
        runtime.service,
        runtime.policies,
        clock=clock,
        audience_titles=runtime.service.audience_titles,
    )
    url, server, thread = serve(app)
    try:
        yield Site(url, runtime, clock)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_tool_page_shows_the_default_and_each_rule_by_title_never_members(site: Site) -> None:
    page = site.get(tool_path("Tongyi Lingma"), headers={"Accept-Language": "en"})

    assert page.status == 200
    assert "For some teams" in page.text and "China engineering" in page.text
    assert "Signed in with the company Alibaba Cloud account." in page.text
    assert "U0CHINA1" not in page.text and "china-eng" not in page.text


def test_the_chinese_page_uses_the_chinese_texts_and_titles(site: Site) -> None:
    page = site.get(tool_path("Tongyi Lingma"), headers={"Accept-Language": "zh-CN"})
    claude = site.get(tool_path("Claude Code"), headers={"Accept-Language": "zh-CN"})
    cursor = site.get(tool_path("Cursor"), headers={"Accept-Language": "zh-CN"})

    assert "中国工程团队" in page.text and "使用公司的阿里云账号登录。" in page.text
    assert "会收集用户的运行环境信息" in claude.text
    assert "Privacy Mode" in cursor.text  # no Chinese text: the default, nothing missing


def test_the_yaml_export_reads_back_as_the_registry_rules_and_translations_included(
    site: Site, tmp_path: Path
) -> None:
    exported = site.get("/catalogue/export.yaml")
    (tmp_path / "export.yaml").write_bytes(exported.body)

    assert load_policies(tmp_path / "export.yaml") == [
        p for p in sorted(site.runtime.policies.policies(), key=lambda p: p.name.casefold())
    ]
    again = site.get("/catalogue/export.yaml")
    assert again.body == exported.body


def test_the_json_export_names_audiences_but_not_their_members(site: Site) -> None:
    body = site.get("/catalogue/export.json").text

    assert '"audience": "china-engineering"' in body
    assert "U0CHINA1" not in body

"""The catalogue in a real headless chromium (Debian's, through chromedriver and Selenium).

Skipped, with the reason printed, where no browser can be had; `make test` installs one
when it runs as root.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from bot.adapters.web.catalogue.exports import CSV_COLUMNS
from tests.adapters.web.catalogue.browser import browser_problem, open_browser
from tests.adapters.web.catalogue.conftest import Site

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

_PROBLEM = browser_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=f"no browser: {_PROBLEM}")

WAIT = 10.0  # seconds a page may take to load or a download to finish


@pytest.fixture(scope="module")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's browser's folder: its profile, and downloads/ where it saves files."""
    return tmp_path_factory.mktemp("chromium")


@pytest.fixture(scope="module")
def browser(browser_home: Path) -> Iterator[WebDriver]:
    with open_browser(browser_home) as driver:
        yield driver


def wait_for(driver: WebDriver, condition: object) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(condition)  # type: ignore[arg-type]


def texts(driver: WebDriver, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, css)]


def csp_reports(driver: WebDriver) -> list[str]:
    """Console messages about the Content-Security-Policy (none when no rule was broken)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_the_catalogue_loads_grouped_with_its_script_and_no_csp_report(
    browser: WebDriver, site: Site
) -> None:
    browser.get_log("browser")  # start with an empty console
    browser.get(f"{site.url}/catalogue/")
    assert browser.title == "AI-tool catalogue"
    headings = texts(browser, "section.group h2 .badge")
    assert headings == ["allowed", "allowed with conditions", "under review", "banned"]
    # The progressive script ran: it marks the page, which hides the Apply button.
    assert "js" in (browser.find_element("css selector", "html").get_attribute("class") or "")
    assert not browser.find_element("css selector", "form.filters button").is_displayed()
    assert csp_reports(browser) == []


def ticked(driver: WebDriver, field: str) -> list[str]:
    """The values ticked in one multi-value filter of the form."""
    from selenium.webdriver.common.by import By

    boxes = driver.find_elements(By.CSS_SELECTOR, f"#f-{field} input[type=checkbox]")
    return [box.get_attribute("value") or "" for box in boxes if box.is_selected()]


def choose(driver: WebDriver, field: str, value: str) -> None:
    """Open a multi-value filter's list and tick (or untick) one value, as a person does."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#f-{field} summary").click()
    driver.find_element(By.CSS_SELECTOR, f'#f-{field} input[value="{value}"]').click()


def test_choosing_a_filter_applies_it_and_puts_it_in_the_url(
    browser: WebDriver, site: Site
) -> None:
    from selenium.webdriver.support import expected_conditions

    browser.get(f"{site.url}/catalogue/")
    choose(browser, "status", "banned")
    wait_for(browser, expected_conditions.url_contains("status=banned"))
    assert "category=" not in browser.current_url  # empty filters stay out of the link
    assert "data=" not in browser.current_url
    assert texts(browser, "section.group h2 .badge") == ["banned"]
    assert "Claude Code" in texts(browser, "table.tools tbody th a")
    # The link keeps the filter: opening it again shows the same.
    browser.get(browser.current_url)
    assert texts(browser, "section.group h2 .badge") == ["banned"]
    assert ticked(browser, "status") == ["banned"]


def test_a_link_with_two_statuses_shows_both_and_a_third_can_be_added(
    browser: WebDriver, site: Site
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    browser.get(f"{site.url}/catalogue/?status=allowed&status=banned")
    assert ticked(browser, "status") == ["allowed", "banned"]
    summary = browser.find_element(By.CSS_SELECTOR, "#f-status summary").text
    assert summary == "allowed, banned"
    assert texts(browser, "section.group h2 .badge") == ["allowed", "banned"]
    choose(browser, "status", "under-review")
    wait_for(browser, expected_conditions.url_contains("status=under-review"))
    assert ticked(browser, "status") == ["allowed", "under-review", "banned"]
    assert texts(browser, "section.group h2 .badge") == ["allowed", "under review", "banned"]


def test_a_search_with_a_typo_finds_the_tool(browser: WebDriver, site: Site) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions

    browser.get(f"{site.url}/catalogue/")
    box = browser.find_element("id", "q")
    box.send_keys("calude code", Keys.ENTER)
    wait_for(browser, expected_conditions.url_contains("q=calude"))
    assert texts(browser, "table.tools tbody th a")[:1] == ["Claude Code"]


def test_open_a_tool_see_its_history_and_follow_an_alternative(
    browser: WebDriver, site: Site
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    browser.get(f"{site.url}/catalogue/?status=banned")
    browser.find_element(By.LINK_TEXT, "Claude Code").click()
    wait_for(browser, expected_conditions.url_contains("/catalogue/tools/claude-code"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Claude Code")
    history = texts(browser, "section.history tbody tr")
    assert len(history) == 3
    assert "U0ADMIN" in history[0] and "under review → banned" in history[0]
    browser.find_element(By.CSS_SELECTOR, "dd.alternatives a").click()
    wait_for(browser, expected_conditions.url_contains("/catalogue/tools/qoder"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Qoder")


def test_a_change_in_the_history_opens_its_version(browser: WebDriver, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    latest = site.runtime.announcements.versions.latest(1)[0]
    browser.get(f"{site.url}/catalogue/tools/claude-code")
    newest = browser.find_element(By.CSS_SELECTOR, "section.history tbody tr td.version a")
    assert newest.text == f"v{latest.number}"
    newest.click()
    wait_for(browser, expected_conditions.url_contains(f"/catalogue/changes/v{latest.number}"))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Policy version v{latest.number}"
    assert texts(browser, "table.changes-table tbody th a") == ["Claude Code"]


def test_the_radar_points_open_tool_pages(browser: WebDriver, site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    browser.get(f"{site.url}/catalogue/radar")
    points = browser.find_elements(By.CSS_SELECTOR, "svg.radar a.point")
    assert len(points) == len(site.runtime.policies.policies())
    target = browser.find_element(By.CSS_SELECTOR, 'svg.radar a[href="/catalogue/tools/qoder"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
    target.click()
    wait_for(browser, expected_conditions.url_contains("/catalogue/tools/qoder"))


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_each_export_downloads_and_parses(
    fmt: str, browser: WebDriver, browser_home: Path, site: Site
) -> None:
    from selenium.webdriver.common.by import By

    path = browser_home / "downloads" / f"policybot-catalogue.{fmt}"
    path.unlink(missing_ok=True)  # so the file checked is this test's download
    browser.get(f"{site.url}/catalogue/?status=banned")
    browser.find_element(By.CSS_SELECTOR, f'a[href^="/catalogue/export.{fmt}"]').click()
    wait_for(
        browser,
        lambda _d: path.exists() and not list(path.parent.glob("*.crdownload")),
    )
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        names = {tool["name"] for tool in json.loads(text)["tools"]}
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_COLUMNS
        names = {row["name"] for row in rows}
    else:
        names = {tool["name"] for tool in yaml.safe_load(text)["tools"]}
    # The export link carried the page's filter.
    assert names == {"Claude Code", "Windsurf"}


def test_a_chinese_browser_gets_the_chinese_catalogue(site: Site, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with open_browser(tmp_path, language="zh-CN") as driver:
        driver.get(f"{site.url}/catalogue/tools/claude-code")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
        assert "变更记录" in driver.find_element(By.CSS_SELECTOR, "section.history h2").text
        assert "禁止使用" in driver.find_element(By.CSS_SELECTOR, ".status-line .badge").text


def test_without_javascript_the_apply_button_filters(site: Site, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    with open_browser(tmp_path, javascript=False) as driver:
        driver.get(f"{site.url}/catalogue/?category=chat-assistant")
        # The list of choices opens without a script (a native <details>).
        choose(driver, "category", "coding-assistant")
        assert ticked(driver, "category") == ["chat-assistant", "coding-assistant"]
        button = driver.find_element(By.CSS_SELECTOR, "form.filters button")
        assert button.is_displayed()
        button.click()
        wait_for(driver, expected_conditions.url_contains("category=coding-assistant"))
        assert "category=chat-assistant" in driver.current_url
        names = texts(driver, "table.tools tbody th a")
        assert {"Qoder", "Microsoft Copilot"} <= set(names)
        assert "GitHub Copilot" not in names  # no category


def test_on_a_phone_no_table_header_runs_into_the_next(site: Site, tmp_path: Path) -> None:
    """390 px wide (issue 27: "VENDORCATEGORY"): every header cell's text fits in its cell."""
    from selenium.webdriver.common.by import By

    with open_browser(tmp_path, width=390, height=844) as phone:
        phone.get(f"{site.url}/catalogue/")
        headers = phone.find_elements(By.CSS_SELECTOR, "table.tools thead th")
        assert headers
        for header in headers:
            overflow = phone.execute_script(
                "return arguments[0].scrollWidth - arguments[0].clientWidth;", header
            )
            assert overflow <= 0, header.text


def test_every_radar_label_is_inside_the_picture_at_1400_px(site: Site, tmp_path: Path) -> None:
    """Issue 27: with an "uncategorised" sector the coding assistants' label was cut."""
    from selenium.webdriver.common.by import By

    with open_browser(tmp_path, width=1400, height=1000) as wide:
        wide.get(f"{site.url}/catalogue/radar")
        svg = wide.find_element(By.CSS_SELECTOR, "svg.radar")
        box = svg.rect
        labels = wide.find_elements(By.CSS_SELECTOR, "svg.radar text[font-size='15']")
        assert any("Coding" in label.text for label in labels)
        for label in labels:
            rect = label.rect
            assert rect["x"] >= box["x"] - 0.5, label.text
            assert rect["x"] + rect["width"] <= box["x"] + box["width"] + 0.5, label.text

"""The catalogue a new user meets (issue 27): a fresh install shows no tool as changed, search
results say each tool's status, categories read as titles (in Chinese too), and a version or
filter that does not exist is said, over HTTP from the real catalogue app."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest

from bot.adapters.db.store import Store
from bot.app.changes import Actor
from bot.domain.commands import SetPolicy
from bot.domain.policy import Status
from tests.adapters.web.catalogue.conftest import ADMIN, Site, catalogue_registry, serving
from tests.conftest import FakeClock
from tests.wiring import apply, runtime_on, seed

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def fresh(store: Store, clock: FakeClock) -> Iterator[Site]:
    """The catalogue right after the first load into an empty registry, the same day."""
    seed(runtime_on(store), catalogue_registry())
    with serving(store, clock) as served:
        yield served


def recent_marks(html: str) -> int:
    return html.count('class="recent"')


def test_the_baseline_load_is_not_a_change(fresh: Site) -> None:
    index = fresh.get("/catalogue/").text
    radar = fresh.get("/catalogue/radar.svg").text
    rows = list(csv.DictReader(io.StringIO(fresh.get("/catalogue/export.csv").text)))

    assert recent_marks(index) == 0
    assert "stroke-dasharray" not in radar
    assert rows and {row["isNew"] for row in rows} == {"FALSE"}


def test_a_change_after_the_baseline_is_one(fresh: Site) -> None:
    apply(fresh.runtime, SetPolicy("Cursor", Status.BANNED), Actor(ADMIN, "slack", trusted=True))

    rows = list(csv.DictReader(io.StringIO(fresh.get("/catalogue/export.csv").text)))

    assert {row["name"] for row in rows if row["isNew"] == "TRUE"} == {"Cursor"}


def test_search_results_show_each_tools_status(fresh: Site) -> None:
    page = fresh.get("/catalogue/?q=can+I+use+calude+code").text

    table = page[page.index('<table class="tools with-status">') : page.index("</table>")]
    assert '<th scope="col">Status</th>' in table
    assert re.search(
        r'<td class="status"><span class="badge badge-banned">[^<]+</span></td>', table
    )


def test_categories_read_as_titles_not_values(fresh: Site) -> None:
    index = fresh.get("/catalogue/").text
    tool = fresh.get("/catalogue/tools/windsurf").text

    assert "<td>Coding assistants</td>" in index
    assert "<td>coding-assistant</td>" not in index
    assert ">Coding assistants</a>" in tool
    # The filter keeps the value in the URL and shows the title.
    assert re.search(r'value="coding-assistant"[^>]*>\s*Coding assistants', index)


def test_categories_are_translated_on_the_chinese_page(fresh: Site) -> None:
    index = fresh.get("/catalogue/", headers=CHINESE).text

    assert "<td>编程助手</td>" in index
    assert "<td>coding-assistant</td>" not in index


def test_a_version_that_does_not_exist_is_said_so(fresh: Site) -> None:
    reply = fresh.get("/catalogue/changes/v99")

    assert reply.status == 404
    assert "There is no version v99." in reply.text
    assert "No tool here." not in reply.text
    assert 'href="/catalogue/changes"' in reply.text


# Bold 15-unit text is at most about 9 units a character wide (0.6 em).
CHAR_WIDTH = 9.0


def test_every_radar_label_fits_in_the_margin_beside_the_circle(fresh: Site) -> None:
    svg = fresh.get("/catalogue/radar.svg").text
    left, _top, width, _height = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg)[1].split())
    labels = re.findall(
        r'<text x="([\d.]+)" [^>]*text-anchor="(\w+)" font-size="15"[^>]*>(.*?)</text>', svg
    )
    assert len(labels) == 3  # coding and chat assistants, and the uncategorised tool

    for x, anchor, inner in labels:
        for line in re.findall(r">([^<]+)</tspan>", inner):
            extent = len(line) * CHAR_WIDTH
            start = {"start": 0.0, "middle": extent / 2, "end": extent}[anchor]
            assert float(x) - start >= left, line
            assert float(x) - start + extent <= left + width, line

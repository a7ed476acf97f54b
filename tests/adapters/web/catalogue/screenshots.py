"""Screenshots of the catalogue for docs/ and the README, taken in headless chromium.

    .venv/bin/python -m tests.adapters.web.catalogue.screenshots [--out docs]

Serves the shipped policies/ (with a little history) exactly as the browser tests do, and
writes catalogue.png, catalogue-tool-page.png and catalogue-radar.png.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bot.adapters.db import engines as db
from bot.adapters.db.store import Store
from bot.adapters.files.policyfile import load_policies
from tests.adapters.web.catalogue.browser import browser_problem, open_browser
from tests.adapters.web.catalogue.conftest import seed_with_history, serving
from tests.conftest import REPO, FakeClock

WIDTH = 1280


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    problem = browser_problem()
    if problem:
        raise SystemExit(f"no screenshots: {problem}")
    workdir = Path(tempfile.mkdtemp(prefix="catalogue-shots-"))
    engine: sa.Engine = db.make_engine(f"sqlite:///{workdir / 'policybot.db'}")
    db.upgrade(engine)
    clock = FakeClock()
    store = Store(engine, clock=clock)
    seed_with_history(store, clock, load_policies(REPO / "policies"))
    shots = (
        ("catalogue.png", "/catalogue/", None, 1500),
        ("catalogue-tool-page.png", "/catalogue/tools/claude-code", None, None),
        ("catalogue-radar.png", "/catalogue/radar", "main", None),
    )
    with (
        serving(store, clock) as site,
        open_browser(workdir, width=WIDTH, height=1000, extra_flags=("--hide-scrollbars",)) as b,
    ):
        for name, path, element, height in shots:
            b.get(site.url + path)
            full = int(b.execute_script("return document.documentElement.scrollHeight"))
            b.set_window_size(WIDTH, height or full)
            target = args.out / name
            if element:
                b.find_element("css selector", element).screenshot(str(target))
            else:
                b.save_screenshot(str(target))
            print(f"wrote {target}")


if __name__ == "__main__":
    main()

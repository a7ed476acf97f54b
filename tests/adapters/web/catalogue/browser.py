"""Debian's chromium driven through chromedriver with Selenium, for the browser tests.

`browser_problem()` says why no browser can be had (so the tests skip with that reason);
`open_browser()` starts a fresh headless chromium with its own profile and download folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def browser_problem() -> str | None:
    """None when chromium, chromedriver and Selenium are all here; else what is missing."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists() and shutil.which(path.name) is None:
            return (
                f"no {path.name} at {path}: install Debian's chromium and chromium-driver "
                "(make test does when run as root)"
            )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed: pip install -e '.[dev]'"
    return None


def _binary(path: Path) -> str:
    return str(path) if path.exists() else str(shutil.which(path.name))


@contextmanager
def open_browser(
    workdir: Path,
    *,
    language: str = "en-GB",
    width: int = 1280,
    height: int = 900,
    javascript: bool = True,
    extra_flags: tuple[str, ...] = (),
) -> Iterator[WebDriver]:
    """A headless chromium with a fresh profile in `workdir`, downloading into workdir/downloads.

    Its console is kept, so tests can check that no Content-Security-Policy report appeared."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = workdir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = _binary(CHROMIUM)
    for flag in (*FLAGS, *extra_flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={workdir / 'profile'}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={language}")
    prefs: dict[str, object] = {
        "intl.accept_languages": language,
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    }
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_binary(CHROMEDRIVER)))
    try:
        # Headless chromium saves downloads only when told where, through DevTools.
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        yield driver
    finally:
        driver.quit()

"""Debian's headless Chromium for the pages people open (`make test` installs it): the DOM
after the page rendered, a screenshot, and the page's local links, which must resolve."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Headless, and nothing that reaches for the network (closed here) at start-up.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,2400")


def render(page: Path, screenshot: Path, profile: Path) -> str:
    """Open `page` in Chromium: save a screenshot, return the rendered DOM."""
    url = Path(page).resolve().as_uri()
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}"]
    subprocess.run([*common, f"--screenshot={screenshot}", url], check=True, timeout=120,
                   capture_output=True)
    return subprocess.run([*common, "--dump-dom", url], check=True, timeout=120,
                          capture_output=True, text=True).stdout


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def local_links(page: Path) -> list[Path]:
    """Every href and src of the page that points into its folder, as paths."""
    parser = _Links()
    parser.feed(Path(page).read_text(encoding="utf-8"))
    return [Path(page).parent / unquote(urlparse(link).path) for link in parser.found
            if not urlparse(link).scheme and not link.startswith("#")]


def colours(screenshot: Path) -> int:
    """How many distinct colours the screenshot has: a page of text has a few dozen, one with
    figures drawn has thousands."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(screenshot)[..., :3].reshape(-1, 3)
    return len(np.unique((pixels * 255).astype(np.uint8), axis=0))

"""The copy-paste page and snippet line of docs/web-frontend.md, ready for a test to load.

The browser tests load exactly these, with only the emulator's address and the write key
filled in, so the doc cannot drift from what is tested.
"""

from __future__ import annotations

import json
import re

from tests.support import ROOT

__all__ = ["DOC", "WRITE_KEY", "doc_page", "doc_snippet_lines", "fenced"]

DOC = ROOT / "docs" / "web-frontend.md"
WRITE_KEY = "browser-write-key"
DOC_EMULATOR = "http://localhost:8765"
DOC_WRITE_KEY = "YOUR_WRITE_KEY"
PAGE_EMULATOR_LINE = f'const EMULATOR = "{DOC_EMULATOR}";'
PAGE_WRITE_KEY_LINE = f'const WRITE_KEY = "{DOC_WRITE_KEY}";'
PAGE_LOAD_LINE = (
    # One line of the page, split here only for the line length.
    "const analytics = AnalyticsNext.AnalyticsBrowser.load("
    "{ writeKey: WRITE_KEY, cdnURL: EMULATOR });"
)


def fenced(language: str) -> list[str]:
    """Every ```language block of the doc, in order."""
    pattern = rf"^```{language}\n(.*?)^```$"
    return re.findall(pattern, DOC.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)


def doc_page(emulator_url: str, *, inline: bool) -> str:
    """The doc's page with this emulator's address; ``inline``: the doc's inline-settings load."""
    (page,) = fenced("html")
    for line in (PAGE_EMULATOR_LINE, PAGE_WRITE_KEY_LINE, PAGE_LOAD_LINE):
        assert page.count(line) == 1, f"the page in {DOC.name} no longer has {line!r}"
    page = page.replace(PAGE_EMULATOR_LINE, f"const EMULATOR = {json.dumps(emulator_url)};")
    page = page.replace(PAGE_WRITE_KEY_LINE, f"const WRITE_KEY = {json.dumps(WRITE_KEY)};")
    if inline:
        (load,) = [block for block in fenced("js") if "cdnSettings" in block]
        page = page.replace(PAGE_LOAD_LINE, load.strip().replace("\n", "\n  "))
    return page


def doc_snippet_lines(emulator_url: str) -> str:
    """The lines the doc adds to Segment's snippet, with this emulator's address."""
    (lines,) = [block for block in fenced("js") if "analytics._cdn" in block]
    assert lines.count(json.dumps(DOC_EMULATOR)) == 1, f"{DOC.name}: the _cdn line changed"
    assert lines.count(json.dumps(DOC_WRITE_KEY)) == 1, f"{DOC.name}: the load line changed"
    lines = lines.replace(json.dumps(DOC_EMULATOR), json.dumps(emulator_url))
    return lines.replace(json.dumps(DOC_WRITE_KEY), json.dumps(WRITE_KEY))

"""docs/assumptions.md and docs/sources.md against the registry and the repository's citations."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from emulator.assumptions import ASSUMPTIONS
from emulator.assumptions.document import render_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# What must never be cited as a source: research notes and specs outside the repository, and
# issue numbers of the tracker (facts live in docs/sources.md, decisions in the registry).
OUTSIDE = re.compile(
    r"reference/[\w-]+\.md|segment-semantics(\.md)?|refersion-api\.md|peer-features"
    r"|/work/shared|SPEC\.md|SPEC\s*§|\([^)]*\bSPEC\)|\b[Ii]ssue \d+\b"
    # Bare section numbers of those notes: "(§3.3)", "reference §2.10".
    r"|\(§\d|, §\d|reference §"
)


def test_the_assumptions_page_is_the_registry_rendered() -> None:
    page = (DOCS / "assumptions.md").read_text(encoding="utf-8")
    assert page == render_markdown(), (
        "docs/assumptions.md is stale: python -m emulator.assumptions.document > "
        "docs/assumptions.md"
    )


def test_every_assumption_has_a_section_and_sources_names_it() -> None:
    page = (DOCS / "assumptions.md").read_text(encoding="utf-8")
    sources = (DOCS / "sources.md").read_text(encoding="utf-8")
    for assumption_id in ASSUMPTIONS:
        assert f"### `{assumption_id}`" in page
        assert f"`{assumption_id}`" in sources, f"docs/sources.md never names {assumption_id}"


def test_the_web_frontend_assumptions_are_registry_ids() -> None:
    page = (DOCS / "web-frontend.md").read_text(encoding="utf-8")
    section = page[page.index("### Assumptions") : page.index("## Sources")]
    linked = re.findall(r"\[`([a-z0-9-]+)`\]\(assumptions\.md#", section)
    assert set(linked) == {"cors-origin", "cors-headers", "browser-channel"}
    assert set(linked) <= set(ASSUMPTIONS)


def _anchors(page: str) -> set[str]:
    """GitHub's anchors for the page's headings (lower case, punctuation dropped, - for spaces)."""
    headings = re.findall(r"^#+ (.+)$", page, re.MULTILINE)
    return {re.sub(r"[^\w -]", "", h).strip().lower().replace(" ", "-") for h in headings}


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    skipped = (".png", ".ico", "package-lock.json")
    return [
        ROOT / name for name in listed if not name.endswith(skipped) and (ROOT / name).is_file()
    ]


def test_every_cited_section_exists() -> None:
    anchors = {
        name: _anchors((DOCS / name).read_text(encoding="utf-8"))
        for name in ("sources.md", "assumptions.md")
    }
    # A citation by path, or a Markdown link from one docs page to another.
    cited = re.compile(r"(?:docs/|\]\()(sources|assumptions)\.md#([a-z0-9-]+)")
    missing = []
    for path in _tracked_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for page, anchor in cited.findall(text):
            if anchor not in anchors[f"{page}.md"]:
                missing.append(f"{path.relative_to(ROOT)}: docs/{page}.md#{anchor}")
    assert missing == []


def test_nothing_cites_a_source_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    paths = [p for p in _tracked_files() if p.resolve() != this]
    found = []
    for path in paths:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            match = OUTSIDE.search(line)
            if match:
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert found == []

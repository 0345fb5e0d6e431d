"""Headless Chromium for the inspector: Debian's ``chromium`` package driven by Playwright.

Playwright only drives the browser here; it never downloads one (``.ci/run`` installs
Debian's chromium with apt). Used by the browser tests and by ``make_inspector_screenshot``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, ViewportSize, async_playwright

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LAPTOP",
    "browser_test_marks",
    "chromium",
    "chromium_missing",
]

CHROMIUM = Path(os.environ.get("INSPECTOR_CHROMIUM", "/usr/bin/chromium"))
# Quiet and offline: no first-run UI, no background calls home, no QUIC, no GPU. Playwright
# adds --headless and a fresh --user-data-dir (the temporary profile below).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAPTOP: ViewportSize = {"width": 1440, "height": 900}


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or ``None`` when it can."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return f"{CHROMIUM} not found; install Debian's chromium (`apt-get install chromium`)"


def browser_test_marks() -> list[pytest.MarkDecorator]:
    """The ``pytestmark`` of a browser test module: skipped where Chromium is missing, except
    where ``INSPECTOR_BROWSER_REQUIRED=1`` (CI) makes a missing browser an error instead."""
    missing = chromium_missing()
    if missing is not None and os.environ.get("INSPECTOR_BROWSER_REQUIRED") == "1":
        raise RuntimeError(f"browser tests are required here, but {missing}")
    return [
        pytest.mark.browser,
        pytest.mark.skipif(missing is not None, reason=missing or ""),
        pytest.mark.asyncio(loop_scope="module"),
    ]


@asynccontextmanager
async def chromium(*, viewport: ViewportSize = LAPTOP) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a fresh profile, closed (and the profile removed) on exit."""
    async with async_playwright() as playwright:
        with tempfile.TemporaryDirectory(prefix="inspector-chromium-") as profile:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=list(CHROMIUM_ARGS),
                viewport=viewport,
            )
            try:
                yield context
            finally:
                await context.close()

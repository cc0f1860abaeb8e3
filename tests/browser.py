"""Debian's Chromium driven by Playwright; never a downloaded browser build."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "no `chromium` on PATH (Debian: apt-get install chromium); browser tests skipped"
        if os.environ.get("EVENTREG_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@contextmanager
def browser_page(
    *, javascript: bool = True, phone: bool = True, locale: str = "ru-RU", bypass_csp: bool = False
):
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        viewport = {"width": 375, "height": 740} if phone else {"width": 1280, "height": 900}
        # bypass_csp lets a test inject its own tool (axe-core) into pages whose policy forbids scripts.
        context = browser.new_context(
            viewport=viewport, java_script_enabled=javascript, locale=locale, bypass_csp=bypass_csp
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()

"""axe-core (npm package, installed by `make install-dev` into node_modules/) injected into a page.

The pages themselves carry no JavaScript; the browser runs with it on only so axe can inspect them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eventreg.config import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1/2.2 A and AA, and axe's best practices (landmarks, heading order, unique ids …).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_or_skip() -> Path:
    if not AXE.exists():
        reason = "axe-core is not installed: run `make install-dev` (it runs `npm ci`)"
        if os.environ.get("EVENTREG_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE


def violations(page) -> list[str]:
    """axe's violations on the page as it is now, one readable line per rule and element."""
    page.add_script_tag(path=str(axe_or_skip()))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            lines.append(f"{violation['id']}: {', '.join(map(str, node['target']))} — {violation['help']}")
    return lines

"""Headless Chromium (Debian's, through Playwright) and axe-core for the browser tests.

The fixtures ``browser`` and ``axe_source`` live in conftest.py (session-wide: one Chromium for
every browser test module); the helpers here run axe on a page and describe its violations.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def run_axe(page, axe_source: str, rules: dict[str, dict[str, bool]] | None = None, *,
            iframes: bool = True) -> list[dict]:
    """axe's WCAG 2.1 A/AA violations of the page. ``iframes=False`` for a page whose frames
    are sandboxed without scripts (axe cannot run inside and would wait for them)."""
    page.evaluate(axe_source)
    options: dict[str, object] = {"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                  "resultTypes": ["violations"], "iframes": iframes}
    if rules:
        options["rules"] = rules
    result = page.evaluate("options => axe.run(document, options)", options)
    # Guard against a silently empty run (axe not injected, wrong tags): rules must have passed.
    assert len(result["passes"]) >= 10, "axe ran almost no rules"
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')[:300]}")
    return "\n".join(lines)


def horizontal_overflow(page) -> tuple[int, int]:
    return page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")

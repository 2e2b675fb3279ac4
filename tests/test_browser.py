"""Real-browser checks: the email and the archive pages in headless Chromium, with axe-core."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.content.source import read_issue
from digiweetjes.render import RecipientData, compile_issue, personalize
from digiweetjes.site import build_site
from tests.browser_support import describe as _describe
from tests.browser_support import horizontal_overflow as _horizontal_overflow
from tests.browser_support import run_axe as _axe
from tests.figures import report_figure
from tests.release_support import SAMPLE_ID, sent_in

pytestmark = pytest.mark.browser

WIDTHS = (375, 800)
EMAIL_WIDTHS = (375, 800, 1280)
#: A phone screen (iPhone SE/8: 375 × 667 CSS px); the issue asks for at most five of them.
PHONE = (375, 667)
MAX_PHONE_SCREENS = 5
SAMPLE = PROJECT_ROOT / "issues" / "2026-12-05-overzicht-projectoproepen.md"
# An email is shown inside the mail client's own page, which provides the landmarks, the main
# region and the page heading; the email body cannot (and should not) declare them itself.
EMAIL_DISABLED_RULES = {
    "region": {"enabled": False},             # all content must sit in landmarks: client's job
    "landmark-one-main": {"enabled": False},  # the client's page has the <main>, not the email
}
SCREENSHOTS = Path(os.environ.get("DIGIWEETJES_SCREENSHOT_DIR", "/tmp/digiweetjes-screenshots"))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("browser-site")
    settings = Settings(root=root, issues_dir=PROJECT_ROOT / "issues",
                        templates_dir=PROJECT_ROOT / "templates", site_dir=root / "site",
                        base_url="https://digiweetjes.example.be",
                        database_url=f"sqlite:///{root / 'subscribers.db'}")
    sent_in(settings, SAMPLE_ID)  # the archive publishes sent issues only
    build_site(settings)
    return settings, settings.site_dir


@pytest.fixture(scope="session")
def email_html(site: tuple[Settings, Path]) -> str:
    settings, _ = site
    compiled = compile_issue(read_issue(settings.issues_dir, SAMPLE), settings)
    recipient = RecipientData(
        email="lezer@example.be", name='Jan <De> Smet & "Zonen"', subregion="west",
        unsubscribe_url="https://digiweetjes.example.be/uitschrijven?t=abc&x=1",
        preferences_url="https://digiweetjes.example.be/voorkeuren?t=abc&x=1")
    return personalize(compiled, recipient).html


def _page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    # No network beyond the files under test: anything remote is refused.
    context.route("http*://**/*", lambda route: route.abort())
    return context, context.new_page()


@pytest.mark.parametrize("width", EMAIL_WIDTHS)
def test_email_has_no_axe_violations(browser, axe_source: str, email_html: str,
                                     width: int) -> None:
    context, page = _page(browser, width)
    try:
        page.set_content(email_html, wait_until="load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"email-{width}.png"), full_page=True)
        # The escaped name shows as written, not as markup.
        assert 'Beste Jan <De> Smet & "Zonen",' in page.inner_text("body")
        violations = _axe(page, axe_source, EMAIL_DISABLED_RULES)
        assert not violations, "axe found violations in the email:\n" + _describe(violations)
        scroll_width, viewport = _horizontal_overflow(page)
        assert scroll_width <= viewport + 1, f"email scrolls sideways at {width} px"
    finally:
        context.close()


def test_email_fits_five_phone_screens(browser, email_html: str) -> None:
    width, screen = PHONE
    context, page = _page(browser, width)
    try:
        page.set_content(email_html, wait_until="load")
        height = page.evaluate("document.documentElement.scrollHeight")
        size = len(email_html.encode("utf-8"))
        report_figure(f"sample email at {width} px: {height} px tall "
                      f"({height / screen:.1f} phone screens of {screen} px), {size / 1024:.1f} KB")
        assert height <= MAX_PHONE_SCREENS * screen, (
            f"the sample email is {height} px tall at {width} px: more than "
            f"{MAX_PHONE_SCREENS} screens of {screen} px")
        # The reader's own Digibank is on the first screen.
        top = page.evaluate("document.getElementById('digibank').getBoundingClientRect().top")
        assert top < screen, f"the Digibank block starts at {top} px"
    finally:
        context.close()


# Words that a line break cut in two: a word's text spans more than one line box.
_BROKEN_WORDS = r"""() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (const match of node.data.matchAll(/[^\s]+/g)) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
      if (tops.size > 1 && !match[0].includes("-") && !match[0].includes("@")) {
        broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", (320, 375))
def test_email_breaks_no_word_and_stacks_its_rows(browser, email_html: str,
                                                  width: int) -> None:
    context, page = _page(browser, width)
    try:
        page.set_content(email_html, wait_until="load")
        assert page.evaluate(_BROKEN_WORDS) == []
        # Dates stay whole: "5 december 2026" on one line.
        tops = page.evaluate("""() => Array.from(document.querySelectorAll('.dw-nowrap'),
            el => el.getClientRects().length)""")
        assert tops and max(tops) == 1
        # The rows of the other project calls stack: name above status, not side by side.
        cell = page.locator("table.dw-rows tbody tr[id] td").first
        header = page.locator("table.dw-rows tbody tr[id] th").first
        assert cell.bounding_box()["y"] > header.bounding_box()["y"]
        assert cell.bounding_box()["width"] > width * 0.7
    finally:
        context.close()


ARCHIVE_PAGES = ("index.html", "projectoproepen.html",
                 "archief/2026-12-05-overzicht-projectoproepen.html")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_path", ARCHIVE_PAGES)
def test_archive_page_has_no_axe_violations(browser, axe_source: str, site, page_path: str,
                                            width: int) -> None:
    _, site_dir = site
    context, page = _page(browser, width)
    try:
        page.goto((site_dir / page_path).as_uri(), wait_until="load")
        # The stylesheet must have loaded (relative links work from disk too).
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(238, 242, 245)"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = page_path.replace("/", "-").removesuffix(".html")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        violations = _axe(page, axe_source)
        assert not violations, f"axe found violations in {page_path}:\n" + _describe(violations)
        scroll_width, viewport = _horizontal_overflow(page)
        assert scroll_width <= viewport + 1, f"{page_path} scrolls sideways at {width} px"
        assert page.locator("h1").count() == 1
    finally:
        context.close()


def test_skip_link_moves_focus_to_main(browser, site) -> None:
    _, site_dir = site
    context, page = _page(browser, 375)
    try:
        page.goto((site_dir / "projectoproepen.html").as_uri())
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused == "Naar de inhoud"
        assert page.locator(".skip-link").is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "inhoud"
    finally:
        context.close()

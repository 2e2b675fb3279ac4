"""Rasterize the favicon and the logo in ``templates/web/assets/`` with Chromium.

A tool for when ``favicon.svg`` or the logo's design changes (the PNGs are committed: mail
clients do not show SVG): ``.venv/bin/python -m digiweetjes.devtools.make_assets``. It uses
Debian's Chromium through Playwright, as the browser tests do.
"""

from __future__ import annotations

from pathlib import Path

from digiweetjes.config import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "templates" / "web" / "assets"
CHROMIUM = "/usr/bin/chromium"
#: The logo: the favicon's mark beside the name, white on the email's dark blue.
LOGO_HTML = """<html><body style="margin:0;background:transparent">
<div id="logo" style="display:inline-flex;align-items:center;gap:10px;background:#123c4a;
 padding:4px 10px 4px 4px;font-family:'Liberation Sans',Arial,sans-serif;font-weight:bold;
 font-size:25px;color:#fff;height:32px;white-space:nowrap">
 <span style="width:32px;height:32px;display:inline-block">{icon}</span>
 <span style="letter-spacing:0.2px">Digi-weetjes</span></div></body></html>"""


def _sized(icon: str, size: int) -> str:
    return icon.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)


def make_assets(out: Path = ASSETS) -> list[Path]:
    """Write favicon.png (32 px), apple-touch-icon.png (180 px) and logo.png (2× for sharp
    screens) from favicon.svg; returns the files written."""
    from playwright.sync_api import sync_playwright

    icon = (out / "favicon.svg").read_text(encoding="utf-8")
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for name, size in (("favicon.png", 32), ("apple-touch-icon.png", 180)):
                page = browser.new_page(viewport={"width": size, "height": size})
                page.set_content(f'<html><body style="margin:0">{_sized(icon, size)}</body></html>')
                page.locator("svg").screenshot(path=str(out / name), omit_background=True)
                written.append(out / name)
            page = browser.new_page(viewport={"width": 400, "height": 100}, device_scale_factor=2)
            page.set_content(LOGO_HTML.format(icon=_sized(icon, 32)))
            page.locator("#logo").screenshot(path=str(out / "logo.png"))
            written.append(out / "logo.png")
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    for path in make_assets():
        print(f"wrote {path}")

"""The demo's web step: the public web app under uvicorn on loopback, used as a reader would.

A demo reader signs up through the form, the confirmation mail is read from the outbox and its
link confirmed (the page's button, with its CSRF token), and a reader of the sent issue leaves
with the RFC 8058 one-click POST that the newsletter's List-Unsubscribe header points to. The
links in the mails carry the configured public address; the demo follows their paths on the
local server.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvicorn

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import open_database
from digiweetjes.errors import DigiweetjesError
from digiweetjes.subscribers.places import region
from digiweetjes.web import create_app

DEMO_READER = "nieuwe.lezer@example.org"


@contextlib.contextmanager
def _serving(settings: Settings, clock: Clock) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    db = open_database(settings.database_url)
    url = f"http://127.0.0.1:{port}"
    # The app's own links (the confirmation mail, the CSRF cookie) name the local server: over
    # plain http a browser (or httpx) would not send back a cookie marked Secure for https.
    app = create_app(settings.with_(base_url=url), clock=clock, db=db)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="demo-web-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the demo web app did not start")
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        db.dispose()


def _mails(outbox: Path) -> Iterator[EmailMessage]:
    for path in sorted(outbox.rglob("*.eml")):
        yield BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _path(url: str) -> str:
    return urlsplit(url).path


def _confirm_link(outbox: Path, address: str) -> str:
    for message in _mails(outbox):
        if address in str(message["To"]):
            body = message.get_body(preferencelist=("html",))
            found = re.search(r'href="([^"]*/bevestigen/[^"]+)"', body.get_content()
                              if body else "")
            if found:
                return _path(found.group(1))
    raise RuntimeError(f"no confirmation mail for {address} in {outbox}")


def _one_click_target(outbox: Path) -> tuple[str, str]:
    """(address, one-click path) of a reader who received the newsletter."""
    for message in _mails(outbox):
        header = str(message["List-Unsubscribe"] or "")
        found = re.search(r"<(https?://[^>]+)>", header)
        if found:
            return str(message["To"]), _path(found.group(1))
    raise RuntimeError(f"no newsletter with List-Unsubscribe in {outbox}")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("the confirm page has no CSRF field")
    return found.group(1)


def use_the_web_app(settings: Settings, clock: Clock) -> str:
    """Sign up, confirm and one-click unsubscribe through the running app; lines back."""
    lines = []
    with _serving(settings, clock) as url, httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/inschrijven", data={
            "email": DEMO_READER, "naam": "Nieuwe Lezer",
            "gemeente": region(settings).municipalities[0], "toestemming": "ja"})
        lines.append(f"{url}/inschrijven: sign-up of {DEMO_READER} → HTTP {answer.status_code} "
                     f"{answer.headers.get('location', '')}")
        confirm = _confirm_link(settings.outbox_dir, DEMO_READER)
        page = client.get(confirm)
        answer = client.post(confirm, data={"csrftoken": _csrf(page.text)})
        if answer.status_code != 200 or "bevestigd" not in answer.text:
            raise DigiweetjesError(f"demo: confirming {DEMO_READER} failed (HTTP "
                                   f"{answer.status_code})")
        lines.append(f"confirmation link from the outbox, button pressed → HTTP "
                     f"{answer.status_code}: {DEMO_READER} is confirmed")
        reader, target = _one_click_target(settings.outbox_dir)
        with httpx.Client(base_url=url, timeout=30) as mail_client:   # no cookies, as a client
            answer = mail_client.post(target, data={"List-Unsubscribe": "One-Click"})
        if answer.status_code != 200:
            raise DigiweetjesError(f"demo: one-click unsubscribe failed (HTTP "
                                   f"{answer.status_code})")
        lines.append(f"one-click unsubscribe of {reader} (List-Unsubscribe-Post) → HTTP "
                     f"{answer.status_code}")
    lines.append("run `.venv/bin/digiweetjes serve` and open http://127.0.0.1:8000/inschrijven")
    return "\n   ".join(lines)

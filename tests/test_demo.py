"""The main job: `make demo` runs `digiweetjes demo` on embedded defaults."""

from __future__ import annotations

import email
import os
import subprocess
import sys

from digiweetjes.config import PROJECT_ROOT


def run_demo(root) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIWEETJES_")}
    env.update(DIGIWEETJES_ROOT=str(root), DIGIWEETJES_ISSUES_DIR=str(PROJECT_ROOT / "issues"),
               DIGIWEETJES_TEMPLATES_DIR=str(PROJECT_ROOT / "templates"))
    return subprocess.run([sys.executable, "-m", "digiweetjes", "demo"], capture_output=True,
                          text=True, env=env, cwd=root, timeout=300, check=False)


def test_demo_checks_renders_builds_seeds_and_sends_once(tmp_path):
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    issue = "2026-12-05-overzicht-projectoproepen"
    assert (tmp_path / "rendered" / f"{issue}.html").exists()
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "archief" / f"{issue}.html").exists()
    assert (tmp_path / "subscribers.db").exists()
    assert (tmp_path / ".digiweetjes-secret").exists()  # generated, git-ignored
    emls = sorted((tmp_path / "outbox" / issue).glob("*.eml"))
    assert len(emls) == 40
    message = email.message_from_bytes(emls[0].read_bytes())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["To"].endswith("@example.org>")
    secret = (tmp_path / ".digiweetjes-secret").read_text().strip()
    assert secret not in first.stdout + first.stderr

    # The schedule step: scheduled, and the scheduler's due job sent it (its Dutch log line).
    assert "ingepland voor zaterdag 5 december 2026 om 09:00" in first.stdout
    assert "verstuurd: 2026-12-05-overzicht-projectoproepen naar 40 abonnees" in first.stdout

    # The web step: a reader signed up and confirmed through the app, another left by one click.
    assert "→ HTTP 303 /inschrijven/verstuurd" in first.stdout
    assert "nieuwe.lezer@example.org is confirmed" in first.stdout
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'subscribers.db'}")
    with engine.connect() as connection:
        statuses = dict(connection.execute(text(
            "SELECT email, status FROM subscribers WHERE email IN "
            "('nieuwe.lezer@example.org', 'demo.deelnemer01@example.org')")).all())
    engine.dispose()
    assert statuses == {"nieuwe.lezer@example.org": "active",
                        "demo.deelnemer01@example.org": "unsubscribed"}

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "is al verstuurd: de planner verstuurt het niet opnieuw" in second.stdout
    assert len(list((tmp_path / "outbox" / issue).glob("*.eml"))) == 40  # nothing sent twice

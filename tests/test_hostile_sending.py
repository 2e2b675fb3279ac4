"""Hostile sends through ``digiweetjes send`` (issue 9): a failed send never looks like a success.

Two tables, both through the CLI's error boundary (``digiweetjes.cli.main``):

- header values refused before anything is written (sender name, reply-to, addresses in the
  settings; the draft's title): the exact Dutch message naming the setting or the draft field,
  the exit code, and an untouched ledger and outbox;
- runs that could not send (a full outbox disk, an outbox that cannot be made, a provider that
  cannot be reached or refuses every request) pause with everything queued, and the same
  command finishes once the cause is fixed; failed or uncertain deliveries are a non-zero
  exit with one sentence saying what to do; hostile subscriber names never add a recipient.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digiweetjes.cli import main
from digiweetjes.clock import SystemClock
from digiweetjes.config import PROJECT_ROOT, Secret, Settings
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.models import Campaign, Delivery
from digiweetjes.providers import outbox as outbox_module
from tests.cli_support import sending_env
from tests.sending_support import add_subscriber

_REAL_FDOPEN = os.fdopen

ISSUE = "2026-12-05-overzicht-projectoproepen"
SECRET_KEY = "hostile-send-secret-key-abcdefgh"
API_KEY = "xkeysib-HOSTILE-8c1d2e3f4a-must-not-leak"
N = 12
TITLE_LINE = 2
DONE_SENTENCE = "los de oorzaak op en start hetzelfde commando opnieuw om verder te gaan"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    issues = tmp_path / "issues"
    issues.mkdir()
    for name in ("projects.yaml", f"{ISSUE}.md"):
        (issues / name).write_bytes((PROJECT_ROOT / "issues" / name).read_bytes())
    values = sending_env(monkeypatch, tmp_path, secret=SECRET_KEY, subscribers=N,
                         issues_dir=issues, outbox_dir=tmp_path / "outbox")
    assert main(["approve", ISSUE, "--by", "Test Nalezer"]) == 0
    return values


def _ledger(env: dict[str, str]) -> tuple[str | None, dict[str, int]]:
    """(the campaign's state or None, deliveries by state)."""
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    try:
        with db.session() as session:
            state = session.scalar(select(Campaign.state))
            counts = dict(session.execute(select(Delivery.state, func.count())
                                          .group_by(Delivery.state)).all())
        return state, counts
    finally:
        db.dispose()


def _outbox_files(env: dict[str, str]) -> list[Path]:
    folder = Path(env["DIGIWEETJES_OUTBOX_DIR"])
    return sorted(folder.rglob("*.eml")) if folder.is_dir() else []


def _set_title(env: dict[str, str], yaml_scalar: str) -> None:
    draft = Path(env["DIGIWEETJES_ISSUES_DIR"]) / f"{ISSUE}.md"
    lines = draft.read_text(encoding="utf-8").split("\n")
    assert lines[TITLE_LINE - 1].startswith("title:")
    lines[TITLE_LINE - 1] = f"title: {yaml_scalar}"
    draft.write_text("\n".join(lines), encoding="utf-8")


def _send(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["send", ISSUE, "--yes", *args])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


# -- refused before anything is written -------------------------------------------------------

SETTING = 78   # ConfigError
DRAFT = 65     # ContentError

REFUSED = {
    "sender-name-crlf": ({"DIGIWEETJES_SENDER_NAME": "Werk\r\nBcc: x@example.org"}, None,
                         SETTING, "DIGIWEETJES_SENDER_NAME bevat een regeleinde (U+000D) op "
                                  "positie 5: de afzendernaam komt in de kop van elke mail"),
    "sender-name-lf": ({"DIGIWEETJES_SENDER_NAME": "Werk\nBcc: x@example.org"}, None, SETTING,
                       "DIGIWEETJES_SENDER_NAME bevat een regeleinde (U+000A) op positie 5"),
    "sender-name-u2028": ({"DIGIWEETJES_SENDER_NAME": "Werk\u2028kracht"}, None, SETTING,
                          "DIGIWEETJES_SENDER_NAME bevat een regeleinde (U+2028) op positie 5"),
    "sender-name-u2029": ({"DIGIWEETJES_SENDER_NAME": "Werk\u2029kracht"}, None, SETTING,
                          "DIGIWEETJES_SENDER_NAME bevat een regeleinde (U+2029) op positie 5"),
    "sender-name-u0085": ({"DIGIWEETJES_SENDER_NAME": "Werk\x85kracht"}, None, SETTING,
                          "DIGIWEETJES_SENDER_NAME bevat een regeleinde (U+0085) op positie 5"),
    "sender-name-tab": ({"DIGIWEETJES_SENDER_NAME": "Werk\tkracht"}, None, SETTING,
                        "DIGIWEETJES_SENDER_NAME bevat een stuurteken (U+0009) op positie 5"),
    "sender-name-bidi": ({"DIGIWEETJES_SENDER_NAME": "\u202eWerkkracht"}, None, SETTING,
                         "DIGIWEETJES_SENDER_NAME bevat een onzichtbaar richtingsteken (U+202E) "
                         "op positie 1"),
    "sender-name-encoded-word": (
        {"DIGIWEETJES_SENDER_NAME": "=?utf-8?q?Bcc=3A_victim@example.org?="}, None, SETTING,
        "DIGIWEETJES_SENDER_NAME bevat een gecodeerd woord ('=?') op positie 1"),
    "reply-to-two-addresses": ({"DIGIWEETJES_REPLY_TO": "info@werkkracht10.be, x@example.org"},
                               None, SETTING, "DIGIWEETJES_REPLY_TO is geen enkel, gewoon "
                                              "e-mailadres: het antwoordadres komt in de kop"),
    "reply-to-crlf": ({"DIGIWEETJES_REPLY_TO": "info@werkkracht10.be\r\nBcc: x@example.org"},
                      None, SETTING,
                      "DIGIWEETJES_REPLY_TO bevat een regeleinde (U+000D) op positie 21"),
    "sender-email-with-name": ({"DIGIWEETJES_SENDER_EMAIL": "Digi <digi@werkkracht10.be>"},
                               None, SETTING,
                               "DIGIWEETJES_SENDER_EMAIL is geen enkel, gewoon e-mailadres"),
    "unsubscribe-mailto-two": (
        {"DIGIWEETJES_UNSUBSCRIBE_MAILTO": "uit@werkkracht10.be>, <https://evil.example"},
        None, SETTING, "DIGIWEETJES_UNSUBSCRIBE_MAILTO is geen enkel, gewoon e-mailadres"),
    "title-u2028": ({}, '"Digi-weetje\\u2028Bcc: x@example.org"', DRAFT,
                    "title: bevat een regeleinde (U+2028) op positie 12: de titel wordt het "
                    "onderwerp van elke mail. Pas de titel aan; er werd niets verstuurd."),
    "title-u2029": ({}, '"Digi\\u2029weetje"', DRAFT,
                    "title: bevat een regeleinde (U+2029) op positie 5"),
    "title-nel": ({}, '"Digi-weetje\\x85 1"', DRAFT,
                  "title: bevat een regeleinde (U+0085) op positie 12"),
    "title-encoded-word": ({}, '"=?utf-8?b?QmNjOiB4QHk=?="', DRAFT,
                           "title: bevat een gecodeerd woord ('=?') op positie 1"),
    "title-bidi": ({}, '"Digi-weetje \\u202e1"', DRAFT,
                   "title: bevat een onzichtbaar richtingsteken (U+202E) op positie 13"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize("how", [(), ("--to", "redactie@example.be")], ids=["list", "test"])
def test_a_bad_header_value_is_refused_before_anything_is_written(
        env, monkeypatch, capsys, case, how) -> None:
    settings, title, exit_code, message = REFUSED[case]
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    if title is not None:
        _set_title(env, title)
    code, out, err = _send(capsys, *how)
    assert code == exit_code, err
    assert err.startswith("Fout: ") and message in err, err
    if title is not None:
        assert f"{ISSUE}.md:{TITLE_LINE}: title: " in err
    assert "er werd niets verstuurd" in err
    assert _ledger(env) == (None, {}) and _outbox_files(env) == []
    assert "sent" not in out


# -- runs that could not send, failed or uncertain deliveries ---------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _use_provider(monkeypatch, name: str, url: str) -> None:
    key = "SERVER_TOKEN" if name == "postmark" else "API_KEY"
    monkeypatch.setenv("DIGIWEETJES_PROVIDER", name)
    monkeypatch.setenv(f"DIGIWEETJES_PROVIDER_{key}", API_KEY)
    monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", url)


def _paused_then_resumed(env, monkeypatch, capsys, *, cause: Callable[[], None],
                         fix: Callable[[], None], says: str) -> None:
    """The send pauses with everyone queued, and the same command finishes after the fix."""
    cause()
    code, out, err = _send(capsys)
    assert code == 1, out + err
    assert f"Fout: verzending van {ISSUE} gepauzeerd: " in err
    assert says in err and DONE_SENTENCE in err
    assert "Deze beurt: 0 verstuurd, 0 mislukt, 0 onzeker" in out
    assert _ledger(env) == ("paused", {"queued": N})
    assert main(["status", ISSUE]) == 0
    status = capsys.readouterr().out
    assert "gepauzeerd via" in status and says in status
    fix()
    code, out, err = _send(capsys)
    assert code == 0, out + err
    assert f"Deze beurt: {N} verstuurd, 0 mislukt" in out
    assert _ledger(env) == ("done", {"sent": N})
    assert API_KEY not in out + err


def test_a_full_outbox_disk_pauses_and_the_same_command_resumes(env, monkeypatch,
                                                                capsys) -> None:
    def full(fd: int, *args, **kwargs):
        os.close(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    _paused_then_resumed(
        env, monkeypatch, capsys,
        cause=lambda: monkeypatch.setattr(outbox_module.os, "fdopen", full),
        fix=lambda: monkeypatch.setattr(outbox_module.os, "fdopen", _REAL_FDOPEN),
        says="No space left on device")
    assert len(_outbox_files(env)) == N
    assert not list(Path(env["DIGIWEETJES_OUTBOX_DIR"]).rglob(".tmp-*"))


def test_an_outbox_that_cannot_be_made_pauses(env, monkeypatch, capsys) -> None:
    blocker = Path(env["DIGIWEETJES_ROOT"]) / "not-a-folder"
    blocker.write_text("a file where the outbox should be")
    _paused_then_resumed(
        env, monkeypatch, capsys,
        cause=lambda: monkeypatch.setenv("DIGIWEETJES_OUTBOX_DIR", str(blocker / "outbox")),
        fix=lambda: monkeypatch.setenv("DIGIWEETJES_OUTBOX_DIR", env["DIGIWEETJES_OUTBOX_DIR"]),
        says=" niet aanmaken: ")


@pytest.mark.parametrize("provider", ["brevo", "postmark"])
def test_an_unreachable_provider_pauses_and_the_same_command_resumes(
        env, monkeypatch, capsys, provider) -> None:
    monkeypatch.setenv("DIGIWEETJES_SEND_MAX_ATTEMPTS", "2")
    with FakeProviderServer() as fake:
        _paused_then_resumed(
            env, monkeypatch, capsys,
            cause=lambda: _use_provider(monkeypatch, provider,
                                        f"http://127.0.0.1:{_free_port()}"),
            fix=lambda: monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", fake.url),
            says="2 pogingen na elkaar mislukt")
        assert fake.state.deliveries()["total"] == N


def test_a_provider_refusing_every_request_pauses_and_the_same_command_resumes(
        env, monkeypatch, capsys) -> None:
    with FakeProviderServer(faults=Faults(reject_pattern=".")) as fake:
        _paused_then_resumed(
            env, monkeypatch, capsys,
            cause=lambda: _use_provider(monkeypatch, "sendgrid", fake.url),
            fix=lambda: fake.state.faults.update({"reject_pattern": None}),
            says="niets verstuurd: sendgrid weigerde elke aanvraag (sendgrid: HTTP 400")
        assert fake.state.deliveries()["total"] == N


def test_refused_recipients_are_a_non_zero_exit_saying_what_to_do(env, monkeypatch,
                                                                  capsys) -> None:
    with FakeProviderServer(faults=Faults(reject_pattern=r"^lezer000000[12]@")) as fake:
        _use_provider(monkeypatch, "postmark", fake.url)
        code, out, err = _send(capsys)
        state, counts = _ledger(env)
        failed = counts.get("failed", 0)
        assert failed == 2 and code == 3, (out, err, counts)
        assert err == (f"Fout: {failed} berichten mislukten: zie `digiweetjes status {ISSUE}`; "
                       "los de oorzaak op en verstuur opnieuw met --retry-failed.\n")
        assert state == "done" and counts["sent"] == N - failed
        # The same command again: nothing left to send, and still not a success.
        code, out, err = _send(capsys)
        assert code == 3 and "is al volledig verstuurd: niets meer te doen." in out
        assert f"{failed} berichten mislukten" in err
        fake.state.faults.update({"reject_pattern": None})
        code, out, err = _send(capsys, "--retry-failed")
        assert code == 0, out + err
    assert _ledger(env) == ("done", {"sent": N})


def test_uncertain_deliveries_are_a_non_zero_exit_saying_what_to_do(env, monkeypatch,
                                                                    capsys) -> None:
    # Postmark has no idempotency key: a connection dropped after the request left is
    # uncertain, and never resent without --include-uncertain.
    with FakeProviderServer(faults=Faults(drop_after_rate=1.0)) as fake:
        _use_provider(monkeypatch, "postmark", fake.url)
        code, out, err = _send(capsys)
    assert code == 3, out + err
    assert err == (f"Fout: {N} berichten zijn onzeker (misschien toch aangekomen): zie "
                   f"`digiweetjes status {ISSUE}`; verstuur ze enkel opnieuw met "
                   "--include-uncertain als een tweede exemplaar geen kwaad kan.\n")
    assert _ledger(env) == ("done", {"uncertain": N})


HOSTILE_NAMES = {
    "encoded-word-q": "=?utf-8?q?Bcc=3A_victim@example.org?=",
    "encoded-word-b": "=?utf-8?b?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=",
    "bcc-text": "Bcc: victim@example.org",
    "crlf": "Jan\r\nBcc: victim@example.org",
    "nel": "Jan\x85Bcc: victim@example.org",
    "angle": "Jan <victim@example.org>, Piet",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_NAMES))
def test_a_hostile_subscriber_name_never_adds_a_recipient(env, capsys, case) -> None:
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    settings = Settings(secret_key=Secret(SECRET_KEY))
    add_subscriber(db, settings, "echt@voorbeeld.be", now=SystemClock().now(),
                   name=HOSTILE_NAMES[case])
    db.dispose()
    code, out, err = _send(capsys)
    assert code == 0, out + err
    assert _ledger(env) == ("done", {"sent": N + 1})
    found = []
    for path in _outbox_files(env):
        raw = path.read_bytes()
        message = BytesParser(policy=policy.default).parsebytes(raw)
        [to] = message["To"].addresses
        found.append(to.addr_spec)
        assert "victim" not in to.addr_spec and message["Bcc"] is None
        head = raw.split(b"\r\n\r\n", 1)[0]  # the body may quote the name in its greeting
        assert b"\nBcc:" not in head and b"\nCc:" not in head
    assert "echt@voorbeeld.be" in found and len(found) == N + 1



@pytest.mark.parametrize("provider", ["outbox", "brevo", "postmark"])
def test_links_a_mail_service_would_refuse_stop_the_send_before_the_freeze(
        env, monkeypatch, capsys, provider) -> None:
    """An http base URL makes links the release gate refuses (and unsubscribe links every
    mail service refuses, recipient by recipient): said before anything is written."""
    monkeypatch.setenv("DIGIWEETJES_BASE_URL", "http://digiweetjes.example.be")
    with FakeProviderServer() as fake:
        if provider != "outbox":
            _use_provider(monkeypatch, provider, fake.url)
        code, _out, err = _send(capsys)
        assert fake.state.deliveries()["total"] == 0
    assert code == 1
    assert "does not pass `digiweetjes check`" in err
    assert "link 'http://digiweetjes.example.be/' is geen https://- of mailto:-link" in err
    assert _ledger(env) == (None, {}) and _outbox_files(env) == []

"""The outbox provider (.eml files), the provider registry, and the service-mail templates."""

from __future__ import annotations

import re
from dataclasses import replace
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock, SystemClock
from digiweetjes.config import Settings
from digiweetjes.errors import ConfigError, PermanentProviderError
from digiweetjes.providers.base import Batch, BatchContent, Provider, Recipient
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.providers.registry import get_provider
from digiweetjes.render.placeholders import FillableTemplate, placeholder
from digiweetjes.subscribers.transactional import (
    MailKind,
    ServiceMail,
    render_service_mail,
    send_service_mail,
)


def _content(**overrides) -> BatchContent:
    values = dict(
        issue_id="2026-12-05", subject="Digi-weetjes nr. 1: projectoproepen",
        html=FillableTemplate.parse(
            f"<p>{placeholder('greeting')}</p>"
            f"<a href=\"{placeholder('unsubscribe_url')}\">uitschrijven</a>"),
        text=FillableTemplate.parse(
            f"{placeholder('greeting')}\nUitschrijven: {placeholder('unsubscribe_url')}\n"),
        placeholders=("greeting", "unsubscribe_url"), from_email="digiweetjes@werkkracht10.be",
        from_name="Werkkracht10 Digi-weetjes", reply_to="info@werkkracht10.be",
        unsubscribe_mailto="uitschrijven@werkkracht10.be", tag="issue-1")
    values.update(overrides)
    return BatchContent(**values)


def _recipient(reference: str, email: str, name: str | None = "Jan Peeters") -> Recipient:
    url = f"https://digiweetjes.example.be/uitschrijven/tok-{reference}?a=1&b=2"
    return Recipient(reference=reference, email=email, name=name,
                     html_values={"greeting": "Dag Jan &amp; co,",
                                  "unsubscribe_url": url.replace("&", "&amp;")},
                     text_values={"greeting": "Dag Jan & co,", "unsubscribe_url": url},
                     unsubscribe_url=url)


def _parse(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_outbox_implements_the_protocol(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    assert isinstance(provider, Provider)
    assert provider.capabilities.max_batch == 1000 and provider.capabilities.idempotency is None


def test_writes_one_parseable_eml_per_recipient(tmp_path: Path, clock: FixedClock) -> None:
    provider = OutboxProvider(tmp_path, clock=clock)
    results = provider.send_batch(Batch(_content(), [
        _recipient("d-1", "jan@voorbeeld.be"), _recipient("d/2", "els@voorbeeld.be", None)]))
    assert [r.status for r in results] == ["sent", "sent"]
    assert [r.reference for r in results] == ["d-1", "d/2"]
    files = sorted((tmp_path / "2026-12-05").glob("*.eml"))
    assert [f.name for f in files] == ["d-1.eml", "d_2.eml"]
    assert not list((tmp_path / "2026-12-05").glob(".tmp-*"))
    message = _parse(files[0])
    assert message["To"] == "Jan Peeters <jan@voorbeeld.be>"
    assert message["From"] == "Werkkracht10 Digi-weetjes <digiweetjes@werkkracht10.be>"
    assert message["Reply-To"] == "info@werkkracht10.be"
    assert message["Subject"] == "Digi-weetjes nr. 1: projectoproepen"
    assert message["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    assert re.fullmatch(r"<.+@werkkracht10\.be>", message["Message-ID"])
    assert message["Message-ID"] == results[0].message_id
    assert message["List-Unsubscribe"] == (
        "<https://digiweetjes.example.be/uitschrijven/tok-d-1?a=1&b=2>, "
        "<mailto:uitschrijven@werkkracht10.be?subject=uitschrijven>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Digiweetjes-Tag"] == "issue-1"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Dag Jan & co," in text and "tok-d-1?a=1&b=2" in text
    assert "Dag Jan &amp; co," in html and "tok-d-1?a=1&amp;b=2" in html
    assert "\ue000" not in text + html
    assert _parse(files[1])["To"] == "els@voorbeeld.be"
    # RFC 5322 line endings.
    assert b"\r\n" in files[0].read_bytes()


def test_resending_a_reference_replaces_its_file(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    provider.send_batch(Batch(_content(), [_recipient("d-1", "jan@voorbeeld.be")]))
    provider.send_batch(Batch(_content(subject="Tweede versie"),
                              [_recipient("d-1", "jan@voorbeeld.be")]))
    (only,) = (tmp_path / "2026-12-05").glob("*.eml")
    assert _parse(only)["Subject"] == "Tweede versie"


@pytest.mark.parametrize("field", ["subject", "tag"])
def test_line_breaks_in_headers_are_refused(tmp_path: Path, field: str) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    content = _content(**{field: "Hallo\r\nBcc: everyone@example.org"})
    with pytest.raises(PermanentProviderError, match="line break"):
        provider.send_batch(Batch(content, [_recipient("d-1", "jan@voorbeeld.be")]))
    assert not (tmp_path / "2026-12-05").exists() or \
        not list((tmp_path / "2026-12-05").glob("*.eml"))


def test_bad_recipient_fails_alone(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    results = provider.send_batch(Batch(_content(), [
        _recipient("d-1", "jan@voorbeeld.be", name="Jan\nBcc: x@y.z"),
        _recipient("d-2", "els@voorbeeld.be")]))
    assert [r.status for r in results] == ["failed", "sent"]
    assert "line break" in (results[0].reason or "")


def test_too_large_batch_is_refused(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    provider.capabilities = replace(provider.capabilities, max_batch=1)
    with pytest.raises(PermanentProviderError, match="at most 1"):
        provider.send_batch(Batch(_content(), [_recipient("a", "a@voorbeeld.be"),
                                               _recipient("b", "b@voorbeeld.be")]))


def test_no_list_unsubscribe_without_url(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    recipient = Recipient("c-1", "jan@voorbeeld.be", None, {"greeting": "Dag,",
                          "unsubscribe_url": ""}, {"greeting": "Dag,", "unsubscribe_url": ""},
                          unsubscribe_url="")
    provider.send_batch(Batch(_content(), [recipient]))
    message = _parse(tmp_path / "2026-12-05" / "c-1.eml")
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_registry(settings: Settings) -> None:
    provider = get_provider(settings, SystemClock())
    assert isinstance(provider, OutboxProvider)
    assert provider.outbox_dir == settings.outbox_dir
    with pytest.raises(ConfigError, match=r"onbekende maildienst .pigeon.*kies uit: .*outbox"):
        get_provider(settings.with_(provider="pigeon"), SystemClock())


# ---------------------------------------------------------------- service mails


@pytest.mark.parametrize("kind", list(MailKind))
def test_service_mail_templates_are_dutch_and_accessible(settings: Settings,
                                                         kind: MailKind) -> None:
    content = render_service_mail(settings, kind)
    html = content.html.source
    assert '<html lang="nl-BE"' in html
    for image in re.findall(r"<img\b[^>]*>", html):
        assert re.search(r'\balt="', image), image
    assert "<title>" in html and content.subject in html
    assert set(content.placeholders) <= {"greeting", "confirm_url", "preferences_url",
                                         "unsubscribe_url"}
    for name in content.placeholders:
        assert placeholder(name) in html and placeholder(name) in content.text.source
    assert "\\u{e000}" not in html  # MRML's attribute escapes are turned back into markers


def test_confirmation_eml_end_to_end(settings: Settings, clock: FixedClock) -> None:
    provider = OutboxProvider(settings.outbox_dir, clock=clock)
    url = "https://digiweetjes.example.be/bevestigen/abc.def"
    send_service_mail(provider, settings, MailKind.CONFIRM, ServiceMail(
        reference="confirm-1", email="jan@voorbeeld.be", name="Jan <b>Peeters</b>",
        urls={"confirm_url": url}))
    message = _parse(settings.outbox_dir / "transactional" / "confirm-1.eml")
    assert message["Subject"] == "Bevestig je inschrijving op Digi-weetjes"
    assert message["X-Digiweetjes-Tag"] == "confirm"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert url in text and f'href="{url}"' in html
    assert "Dag Jan <b>Peeters</b>," in text
    assert "Dag Jan &lt;b&gt;Peeters&lt;/b&gt;," in html  # escaped in HTML
    assert "7 dagen geldig" in text and "Ja, schrijf me in" in html
    # Not list mail: no List-Unsubscribe (RFC 8058 is for list mail), the reference kept.
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert message["X-Digiweetjes-Reference"] == "confirm-1"


def test_already_subscribed_eml_has_the_links_in_its_body_not_in_list_headers(
        settings: Settings, clock: FixedClock) -> None:
    provider = OutboxProvider(settings.outbox_dir, clock=clock)
    urls = {"unsubscribe_url": "https://digiweetjes.example.be/uitschrijven/u.1",
            "preferences_url": "https://digiweetjes.example.be/voorkeuren/p.1"}
    send_service_mail(provider, settings, MailKind.ALREADY_SUBSCRIBED, ServiceMail(
        reference="already-1", email="jan@voorbeeld.be", name=None, urls=urls))
    message = _parse(settings.outbox_dir / "transactional" / "already-1.eml")
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    text = message.get_body(("plain",)).get_content()
    assert urls["unsubscribe_url"] in text and urls["preferences_url"] in text


def test_internationalised_address_is_written(tmp_path: Path) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    (result,) = provider.send_batch(Batch(_content(), [_recipient("i-1", "élodie@exemple.be",
                                                                  "Élodie Dupré")]))
    assert result.status == "sent"
    message = _parse(tmp_path / "2026-12-05" / "i-1.eml")
    assert "élodie@exemple.be" in str(message["To"])

"""Signed, purpose-bound tokens: valid, forged, tampered, expired, wrong purpose, wrong key."""

from __future__ import annotations

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import Secret, Settings
from digiweetjes.errors import ConfigError, TokenError
from digiweetjes.links import confirm_url, preferences_url, unsubscribe_url
from digiweetjes.subscribers.tokens import Purpose, make_token, read_token, subscriber_links

HASH = "ab" * 32


def test_round_trip(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.CONFIRM, 42, HASH)
    claims = read_token(settings, clock, token, Purpose.CONFIRM)
    assert claims.subscriber_id == 42
    assert claims.purpose is Purpose.CONFIRM
    assert claims.issued_at == clock.now().replace(microsecond=0)
    assert claims.matches_email_hash(HASH)
    assert not claims.matches_email_hash("cd" * 32)
    assert not claims.matches_email_hash(None)


def test_token_is_url_safe_and_reveals_no_address(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.UNSUBSCRIBE, 7, HASH)
    assert all(c.isalnum() or c in "-_." for c in token)
    assert "@" not in token


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # signature changed
    lambda t: t[:5] + ("A" if t[5] != "A" else "B") + t[6:],  # payload changed
    lambda t: t[: len(t) // 2],                              # truncated
    lambda t: "garbage",
    lambda t: "",
])
def test_tampered_or_forged_token_is_refused(settings: Settings, clock: FixedClock,
                                             mutate) -> None:
    token = make_token(settings, clock, Purpose.CONFIRM, 42, HASH)
    with pytest.raises(TokenError, match="invalid confirm token"):
        read_token(settings, clock, mutate(token), Purpose.CONFIRM)


def test_token_signed_with_another_key_is_refused(settings: Settings, clock: FixedClock) -> None:
    other = settings.with_(secret_key=Secret("another-key"))
    token = make_token(other, clock, Purpose.UNSUBSCRIBE, 42, HASH)
    with pytest.raises(TokenError, match="signature does not match"):
        read_token(settings, clock, token, Purpose.UNSUBSCRIBE)


def test_forged_payload_with_valid_structure_is_refused(settings: Settings,
                                                        clock: FixedClock) -> None:
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps(["unsubscribe", 1, HASH[:16], 0]).encode())
    forged = payload.decode().rstrip("=") + ".c2lnbmF0dXJl"
    with pytest.raises(TokenError):
        read_token(settings, clock, forged, Purpose.UNSUBSCRIBE)


@pytest.mark.parametrize(("made", "used"), [
    (Purpose.UNSUBSCRIBE, Purpose.CONFIRM),
    (Purpose.CONFIRM, Purpose.UNSUBSCRIBE),
    (Purpose.PREFERENCES, Purpose.UNSUBSCRIBE),
    (Purpose.UNSUBSCRIBE, Purpose.PREFERENCES),
])
def test_wrong_purpose_is_refused_and_named(settings: Settings, clock: FixedClock,
                                            made: Purpose, used: Purpose) -> None:
    token = make_token(settings, clock, made, 42, HASH)
    with pytest.raises(TokenError, match=f"wrong token purpose: this is a {made.value} token"):
        read_token(settings, clock, token, used)


def test_confirm_token_expires_after_seven_days(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.CONFIRM, 42, HASH)
    clock.advance(days=7)
    read_token(settings, clock, token, Purpose.CONFIRM)
    clock.advance(seconds=1)
    with pytest.raises(TokenError, match="expired confirm token"):
        read_token(settings, clock, token, Purpose.CONFIRM)


def test_unsubscribe_and_preferences_tokens_do_not_expire(settings: Settings,
                                                          clock: FixedClock) -> None:
    unsubscribe = make_token(settings, clock, Purpose.UNSUBSCRIBE, 42, HASH)
    preferences = make_token(settings, clock, Purpose.PREFERENCES, 42, HASH)
    clock.advance(days=3650)
    assert read_token(settings, clock, unsubscribe, Purpose.UNSUBSCRIBE).subscriber_id == 42
    assert read_token(settings, clock, preferences, Purpose.PREFERENCES).subscriber_id == 42


def test_missing_secret_key_is_a_config_error(settings: Settings, clock: FixedClock) -> None:
    with pytest.raises(ConfigError, match="DIGIWEETJES_SECRET_KEY"):
        make_token(settings.with_(secret_key=Secret("")), clock, Purpose.CONFIRM, 1, HASH)


def test_secret_never_in_error_messages(settings: Settings, clock: FixedClock) -> None:
    key = settings.secret_key.reveal()
    token = make_token(settings, clock, Purpose.CONFIRM, 42, HASH)
    for bad, purpose in ((token + "x", Purpose.CONFIRM), (token, Purpose.UNSUBSCRIBE)):
        with pytest.raises(TokenError) as caught:
            read_token(settings, clock, bad, purpose)
        assert key not in str(caught.value) and key not in repr(caught.value)


def test_links_are_built_in_one_place(settings: Settings, clock: FixedClock) -> None:
    assert confirm_url(settings, "T") == "https://digiweetjes.example.be/bevestigen/T"
    assert preferences_url(settings, "T") == "https://digiweetjes.example.be/voorkeuren/T"
    assert unsubscribe_url(settings, "T") == "https://digiweetjes.example.be/uitschrijven/T"
    urls = subscriber_links(settings, clock, 5, HASH)
    token = urls["unsubscribe_url"].rsplit("/", 1)[1]
    assert read_token(settings, clock, token, Purpose.UNSUBSCRIBE).subscriber_id == 5
    token = urls["preferences_url"].rsplit("/", 1)[1]
    assert read_token(settings, clock, token, Purpose.PREFERENCES).subscriber_id == 5


def test_token_signer_matches_the_serializer_and_reads_either_form(settings: Settings,
                                                                  clock: FixedClock) -> None:
    from digiweetjes.subscribers.tokens import TokenSigner, _serializer

    signer = TokenSigner(settings)
    issued = int(clock.now().timestamp())
    # The second hash makes a payload zlib can shorten: the serializer sends it compressed.
    for sid, email_hash in ((42, HASH), (10**9, "a" * 64), (7, 'é"\\<x>' + "0" * 20)):
        for purpose in Purpose:
            made = signer.make(purpose, sid, email_hash, clock.now())
            assert made == make_token(settings, clock, purpose, sid, email_hash)
            dumped = _serializer(settings).dumps([purpose.value, sid, email_hash[:16], issued])
            if not dumped.startswith("."):  # uncompressed: byte for byte the same token
                assert made == dumped
            for token in (made, dumped):
                claims = read_token(settings, clock, token, purpose)
                assert (claims.subscriber_id, claims.email_hash_prefix) == (sid, email_hash[:16])

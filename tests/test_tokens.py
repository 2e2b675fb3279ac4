"""Signed, purpose-bound tokens: valid, forged, tampered, expired, wrong purpose, wrong key."""

from __future__ import annotations

import base64
import json

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import Secret, Settings
from digiweetjes.errors import ConfigError, TokenError
from digiweetjes.links import confirm_url, preferences_url, unsubscribe_url
from digiweetjes.subscribers.tokens import (
    HASH_PREFIX,
    LINK_NAMES,
    Purpose,
    make_token,
    read_token,
    subscriber_links,
)
from tests.helpers_subscribers import OLD_ADDRESS, OLD_ID, OLD_TOKENS

HASH = "ab" * 32


def test_round_trip(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.CONFIRM, HASH)
    claims = read_token(settings, clock, token, Purpose.CONFIRM)
    assert claims.subscriber_id is None  # new tokens name the address, not the row
    assert claims.email_hash_prefix == HASH[:HASH_PREFIX]
    assert claims.purpose is Purpose.CONFIRM
    assert claims.issued_at == clock.now().replace(microsecond=0)
    assert claims.matches_email_hash(HASH)
    assert not claims.matches_email_hash("cd" * 32)
    assert not claims.matches_email_hash(None)


def test_token_is_url_safe_and_reveals_no_address(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.UNSUBSCRIBE, HASH)
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
    token = make_token(settings, clock, Purpose.CONFIRM, HASH)
    with pytest.raises(TokenError, match="ongeldige bevestigingslink"):
        read_token(settings, clock, mutate(token), Purpose.CONFIRM)


def test_token_signed_with_another_key_is_refused(settings: Settings, clock: FixedClock) -> None:
    other = settings.with_(secret_key=Secret("another-key"))
    token = make_token(other, clock, Purpose.UNSUBSCRIBE, HASH)
    with pytest.raises(TokenError, match="de handtekening klopt niet"):
        read_token(settings, clock, token, Purpose.UNSUBSCRIBE)


def test_forged_payload_with_valid_structure_is_refused(settings: Settings,
                                                        clock: FixedClock) -> None:
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
    token = make_token(settings, clock, made, HASH)
    with pytest.raises(TokenError, match=f"verkeerde link: dit is een {LINK_NAMES[made]}"):
        read_token(settings, clock, token, used)


def test_confirm_token_expires_after_seven_days(settings: Settings, clock: FixedClock) -> None:
    token = make_token(settings, clock, Purpose.CONFIRM, HASH)
    clock.advance(days=7)
    read_token(settings, clock, token, Purpose.CONFIRM)
    clock.advance(seconds=1)
    with pytest.raises(TokenError, match="vervallen bevestigingslink"):
        read_token(settings, clock, token, Purpose.CONFIRM)


def test_unsubscribe_and_preferences_tokens_do_not_expire(settings: Settings,
                                                          clock: FixedClock) -> None:
    unsubscribe = make_token(settings, clock, Purpose.UNSUBSCRIBE, HASH)
    preferences = make_token(settings, clock, Purpose.PREFERENCES, HASH)
    clock.advance(days=3650)
    assert read_token(settings, clock, unsubscribe, Purpose.UNSUBSCRIBE).matches_email_hash(HASH)
    assert read_token(settings, clock, preferences, Purpose.PREFERENCES).matches_email_hash(HASH)


def test_missing_secret_key_is_a_config_error(settings: Settings, clock: FixedClock) -> None:
    with pytest.raises(ConfigError, match="DIGIWEETJES_SECRET_KEY"):
        make_token(settings.with_(secret_key=Secret("")), clock, Purpose.CONFIRM, HASH)


def test_secret_never_in_error_messages(settings: Settings, clock: FixedClock) -> None:
    key = settings.secret_key.reveal()
    token = make_token(settings, clock, Purpose.CONFIRM, HASH)
    for bad, purpose in ((token + "x", Purpose.CONFIRM), (token, Purpose.UNSUBSCRIBE)):
        with pytest.raises(TokenError) as caught:
            read_token(settings, clock, bad, purpose)
        assert key not in str(caught.value) and key not in repr(caught.value)


def test_links_are_built_in_one_place(settings: Settings, clock: FixedClock) -> None:
    assert confirm_url(settings, "T") == "https://digiweetjes.example.be/bevestigen/T"
    assert preferences_url(settings, "T") == "https://digiweetjes.example.be/voorkeuren/T"
    assert unsubscribe_url(settings, "T") == "https://digiweetjes.example.be/uitschrijven/T"
    urls = subscriber_links(settings, clock, HASH)
    token = urls["unsubscribe_url"].rsplit("/", 1)[1]
    assert read_token(settings, clock, token, Purpose.UNSUBSCRIBE).matches_email_hash(HASH)
    token = urls["preferences_url"].rsplit("/", 1)[1]
    assert read_token(settings, clock, token, Purpose.PREFERENCES).matches_email_hash(HASH)


def test_token_signer_matches_the_serializer_and_reads_either_form(settings: Settings,
                                                                  clock: FixedClock) -> None:
    from digiweetjes.subscribers.tokens import TokenSigner, _serializer

    signer = TokenSigner(settings)
    issued = int(clock.now().timestamp())
    # The second hash makes a payload zlib can shorten: the serializer sends it compressed.
    compressed = 0
    for email_hash in (HASH, "a" * 64, "0123456789abcdef" * 4):
        for purpose in Purpose:
            made = signer.make(purpose, email_hash, clock.now())
            assert made == make_token(settings, clock, purpose, email_hash)
            dumped = _serializer(settings).dumps([purpose.value, email_hash[:HASH_PREFIX], issued])
            if dumped.startswith("."):
                compressed += 1
            else:  # uncompressed: byte for byte the same token
                assert made == dumped
            for token in (made, dumped):
                claims = read_token(settings, clock, token, purpose)
                assert claims.subscriber_id is None
                assert claims.email_hash_prefix == email_hash[:HASH_PREFIX]
    assert compressed  # the compressed form was read, not only skipped


def _payload(token: str) -> str:
    """The readable part of a token: base64 of the JSON payload, before the signature."""
    value = token.split(".", 1)[0]
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def test_payload_is_the_address_hash_prefix_and_the_issue_time_only(
        settings: Settings, clock: FixedClock) -> None:
    issued = int(clock.now().timestamp())
    for purpose in Purpose:
        token = make_token(settings, clock, purpose, HASH)
        assert json.loads(_payload(token)) == [purpose.value, HASH[:HASH_PREFIX], issued]
        assert _payload(token) == f'["{purpose.value}","{HASH[:HASH_PREFIX]}",{issued}]'


@pytest.mark.parametrize("email_hash", ["", "ab" * 7, "AB" * 32, "zz" * 32,
                                        'é"\\<x>' + "0" * 58])
def test_a_token_is_only_made_for_a_hex_address_hash(settings: Settings, clock: FixedClock,
                                                     email_hash: str) -> None:
    # A short or empty prefix would match other people's addresses in the lookup.
    with pytest.raises(ValueError, match="64-hex keyed hash"):
        make_token(settings, clock, Purpose.UNSUBSCRIBE, email_hash)


@pytest.mark.parametrize("payload", [
    ["unsubscribe", "", 1796115600],                # would match every address
    ["unsubscribe", "ab" * 7, 1796115600],          # too short: matches too many
    ["unsubscribe", "AB" * (HASH_PREFIX // 2), 1796115600],
    ["unsubscribe", 42, "ab" * 8, 1796115600, 1],
    ["unsubscribe", 42, "", 1796115600],            # old format, no prefix
    ["unsubscribe", "x", "ab" * 8, 1796115600],     # old format, no id
    {"purpose": "unsubscribe"},
])
def test_signed_but_malformed_payload_is_refused(settings: Settings, clock: FixedClock,
                                                 payload) -> None:
    from digiweetjes.subscribers.tokens import _serializer

    token = _serializer(settings).dumps(payload)
    with pytest.raises(TokenError, match="de inhoud is misvormd") as caught:
        read_token(settings, clock, token, Purpose.UNSUBSCRIBE)
    assert caught.value.reason == "forged"


def test_tokens_of_the_first_format_are_still_read(settings: Settings, clock: FixedClock) -> None:
    from digiweetjes.subscribers.hashing import Hasher

    email_hash = Hasher(settings).email(OLD_ADDRESS)
    for purpose, token in OLD_TOKENS.items():
        assert str(OLD_ID) in _payload(token)  # what the new format no longer shows
        claims = read_token(settings, clock, token, purpose)
        assert claims.subscriber_id == OLD_ID
        assert claims.email_hash_prefix == email_hash[:16]
        assert claims.matches_email_hash(email_hash)
        assert not claims.matches_email_hash(Hasher(settings).email("ander@voorbeeld.be"))
        with pytest.raises(TokenError, match="verkeerde link"):
            other = Purpose.PREFERENCES if purpose is Purpose.UNSUBSCRIBE else Purpose.UNSUBSCRIBE
            read_token(settings, clock, token, other)

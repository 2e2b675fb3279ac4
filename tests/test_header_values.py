"""Header values (issue 9): whatever the name or subject, a message has exactly one recipient.

Property tests over arbitrary display names and subjects: the outbox ``.eml`` parses back (with
``email.policy.default``) to exactly one To address, the recipient's; the display name
round-trips as ``display_name`` made it (or the input was refused); no header appears that we
did not write. ``format_address`` (the JSON APIs' ``Name <email>``) parses back the same way.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser, Parser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digiweetjes.clock import SystemClock
from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.base import Batch, Recipient
from digiweetjes.providers.messages import (
    display_name,
    format_address,
    name_fault,
    subject_fault,
)
from digiweetjes.providers.outbox import OutboxProvider
from tests.providers_support import content

HOSTILE_NAMES = [
    "=?utf-8?q?Bcc=3A_victim@example.org?=",
    "=?utf-8?b?QmNjOiB4QHk=?= hi",
    "Bcc: x@y",
    "Jan\r\nBcc: x@y.z",
    "Jan\u2028Bcc: x@y",
    "Jan\x85Bcc: x@y",
    "Jan, Piet <evil@example.org>",
    'a "b" \\c',
    "(comment) x",
    "\u202eevil",
    "Jan\x00",
    "Ünïcødé, naam",
    "  ruimte   rond  ",
    "x" * 400,
]
#: Characters that tend to break headers, mixed into arbitrary text.
HEADER_SYNTAX = st.sampled_from(list("\r\n\t \"\\,;:<>@()[]=?\x00\x85\u2028\u2029\u202e\xa0"))
NAMES = st.one_of(
    st.none(),
    st.sampled_from(HOSTILE_NAMES),
    st.text(max_size=80),
    st.lists(st.one_of(HEADER_SYNTAX, st.text(max_size=6)), max_size=20).map("".join),
)
SUBJECTS = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(HEADER_SYNTAX, st.text(max_size=8)), max_size=20).map("".join),
)
ADDRESSES = st.sampled_from(["lid@voorbeeld.be", "jösé@exämple.be", "a.b+c@sub.voorbeeld.be"])
#: Every header the outbox writes; anything else would be injected.
EXPECTED_HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id",
                    "list-unsubscribe", "list-unsubscribe-post", "x-digiweetjes-tag",
                    "x-digiweetjes-reference", "mime-version", "content-type"}


def _recipient(email: str, name: str | None) -> Recipient:
    values = {"name": "x", "municipality_block": "", "unsubscribe_url": "https://x.be/u/1"}
    return Recipient("d-1", email, name, values, values, "https://digiweetjes.example.be/u/t1")


def _parse(path: Path, international: bool):
    data = path.read_bytes()
    if international:
        return Parser(policy=policy.default).parsestr(data.decode("utf-8"))
    return BytesParser(policy=policy.default).parsebytes(data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, subject=SUBJECTS, email=ADDRESSES)
def test_the_outbox_message_has_exactly_the_recipient(tmp_path_factory, name, subject,
                                                      email) -> None:
    folder = tmp_path_factory.mktemp("outbox")
    provider = OutboxProvider(folder, clock=SystemClock())
    batch = Batch(content(subject=subject), [_recipient(email, name)])
    if subject_fault(subject) is not None:
        with pytest.raises(PermanentProviderError):
            provider.send_batch(batch)
        assert not list(folder.rglob("*.eml"))
        return
    [result] = provider.send_batch(batch)
    files = list(folder.rglob("*.eml"))
    if name_fault(name) is not None:
        assert result.status == "failed" and "name" in (result.reason or "")
        assert files == []
        return
    assert result.status == "sent", result.reason
    [path] = files
    message = _parse(path, not email.isascii())
    [to] = message["To"].addresses
    assert to.addr_spec == email
    assert to.display_name == (display_name(name) or "")
    assert message.get_all("To") and len(message.get_all("To")) == 1
    assert " ".join(str(message["Subject"]).split()) == " ".join(subject.split())
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Werkkracht10 Digi-weetjes",
                                                      "digiweetjes@werkkracht10.be")
    headers = {key.lower() for key in message}
    assert headers <= EXPECTED_HEADERS, headers - EXPECTED_HEADERS
    assert all(len(message.get_all(h)) == 1 for h in EXPECTED_HEADERS - {"content-type"}
               if message.get_all(h))


@settings(max_examples=200, deadline=None)
@given(name=NAMES, email=ADDRESSES)
def test_format_address_parses_back_to_one_address(name, email) -> None:
    header = policy.default.header_factory("To", format_address(email, name))
    [address] = header.addresses
    assert address.addr_spec == email
    assert address.display_name == (display_name(name) or "")
    # A UTF-8 local part is RFC 6532's, which the JSON APIs take; nothing else is a defect.
    assert {type(d).__name__ for d in header.defects} <= {"NonASCIILocalPartDefect"}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_name_never_names_another_recipient(tmp_path, name) -> None:
    provider = OutboxProvider(tmp_path, clock=SystemClock())
    [result] = provider.send_batch(Batch(content(), [_recipient("lid@voorbeeld.be",
                                                                display_name(name))]))
    assert result.status == "sent"
    [path] = tmp_path.rglob("*.eml")
    message = _parse(path, False)
    [to] = message["To"].addresses
    assert to.addr_spec == "lid@voorbeeld.be"
    assert "victim" not in to.addr_spec and message["Bcc"] is None
    raw = path.read_bytes()
    assert b"\nBcc:" not in raw and b"\nCc:" not in raw

"""Mailgun: multipart form, recipient-variables, escaping of literal %…% tokens."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from digiweetjes.config import Secret
from digiweetjes.devtools.fake_provider.engines import render_mailgun
from digiweetjes.errors import ConfigError, PermanentProviderError
from digiweetjes.providers.http import basic_auth
from digiweetjes.providers.mailgun import MailgunProvider, escape_literal
from tests.providers_support import KEY, TRICKY, batch, mock


def _fields(request: httpx.Request) -> list[tuple[str, str]]:
    boundary = request.headers["content-type"].split("boundary=")[1]
    fields = []
    for part in request.content.split(f"--{boundary}".encode())[1:-1]:
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head).group(1).decode()
        fields.append((name, value[:-2].decode()))
    return fields


def _capture(**kwargs):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "<20261201.1@mg.werkkracht10.be>",
                                         "message": "Queued. Thank you."})

    return seen, MailgunProvider(Secret(KEY), "mg.werkkracht10.be", transport=mock(handler),
                                 **kwargs)


def test_request_shape() -> None:
    seen, provider = _capture()
    b = batch(3, tricky=True)
    results = provider.send_batch(b)
    request = seen[0]
    assert str(request.url) == "https://api.mailgun.net/v3/mg.werkkracht10.be/messages"
    assert request.headers["Authorization"] == basic_auth("api", KEY)
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    fields = _fields(request)
    one = dict(fields)
    assert [v for k, v in fields if k == "to"] == [
        "Lid 0 <lid0@example.be>", "Lid 1 <lid1@example.be>", "Lid 2 <lid2@example.be>"]
    assert one["from"] == "Werkkracht10 Digi-weetjes <digiweetjes@werkkracht10.be>"
    assert one["o:tag"] == "digiweetjes-2026-12"
    assert one["h:List-Unsubscribe"] == "%recipient.dw_unsub%"
    assert one["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert one["v:digiweetjes-ref"] == "%recipient.dw_ref%"
    assert one["h:Reply-To"] == "info@werkkracht10.be"
    variables = json.loads(one["recipient-variables"])
    assert set(variables) == {r.email for r in b.recipients}
    for r in b.recipients:
        mine = variables[r.email]
        assert mine["dw_ref"] == r.reference
        assert render_mailgun(one["h:List-Unsubscribe"], mine).startswith(
            f"<{r.unsubscribe_url}>, <mailto:")
        # What the recipient reads equals the client-side fill, literal syntax included.
        assert render_mailgun(one["html"], mine) == b.content.html.fill(r.html_values)
        assert render_mailgun(one["text"], mine) == b.content.text.fill(r.text_values)
        assert render_mailgun(one["subject"], mine) == b.content.subject
    assert {x.message_id for x in results} == {"<20261201.1@mg.werkkracht10.be>"}


def test_escape_leaves_ordinary_percentages_alone() -> None:
    assert escape_literal("width:100%; 50 % korting") == "width:100%; 50 % korting"
    assert render_mailgun(escape_literal(TRICKY), {"dw_pct": "%"}) == TRICKY


def test_eu_region_domain_check_and_400_reason() -> None:
    seen, provider = _capture(region="eu")
    provider.send_batch(batch(1))
    assert str(seen[0].url).startswith("https://api.eu.mailgun.net/v3/")
    with pytest.raises(ConfigError):
        MailgunProvider(Secret(KEY), "mg.example.be/../x")
    with pytest.raises(ConfigError):
        MailgunProvider(Secret(KEY), "mg.example.be", region="asia")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "to parameter is not a valid address"})

    provider = MailgunProvider(Secret(KEY), "mg.example.be", transport=mock(handler))
    with pytest.raises(PermanentProviderError, match="not a valid address"):
        provider.send_batch(batch(1))

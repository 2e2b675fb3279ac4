"""The fake provider server: control API, concurrency under latency, recording, engines."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from digiweetjes.devtools.fake_provider import (
    FakeProviderControl,
    FakeProviderServer,
    Faults,
    fake_provider_subprocess,
)
from digiweetjes.devtools.fake_provider.engines import (
    TemplateError,
    render_brevo,
    render_mailgun,
    render_mailjet,
    render_sendgrid,
)
from tests.providers_support import FACTORIES, batch

BREVO_BODY = {"sender": {"email": "a@werkkracht10.be"}, "subject": "s", "htmlContent": "<p>x</p>",
              "messageVersions": [{"to": [{"email": "lid@example.be"}]}]}


def test_control_api_faults_reset_and_deliveries(tmp_path: Path) -> None:
    record = tmp_path / "deliveries.jsonl"
    with FakeProviderServer(record_path=record) as fake, FakeProviderControl(fake.url) as ctl:
        assert httpx.get(fake.url + "/_fake/health").json() == {"ok": True}
        assert ctl.set_faults(latency_ms=5, seed=3)["latency_ms"] == 5
        with pytest.raises(httpx.HTTPStatusError):
            ctl.set_faults(no_such_fault=1)
        with pytest.raises(httpx.HTTPStatusError):
            ctl.set_faults(script=["explode"])
        provider = FACTORIES["brevo"](base_url=fake.url)
        provider.send_batch(batch(3))
        provider.send_batch(batch(2))
        summary = ctl.deliveries()
        assert summary["total"] == 5 and summary["distinct"] == 3
        assert summary["duplicates"] == {"lid0@example.be": 2, "lid1@example.be": 2}
        assert summary["requests"] == {"brevo": 2}
        assert ctl.deliveries("lid0@example.be")["count"] == 2
        assert len(ctl.messages(provider="brevo", email="lid2@example.be")) == 1
        lines = [json.loads(x) for x in record.read_text().splitlines()]
        assert len(lines) == 5 and lines[0]["reference"] == "del-0"
        assert "html" not in lines[0]
        ctl.reset(faults=True)
        assert ctl.deliveries()["total"] == 0
        assert httpx.get(fake.url + "/_fake/faults").json()["latency_ms"] == 0


def test_unknown_paths_and_auth_are_refused_like_the_providers() -> None:
    with FakeProviderServer() as fake:
        assert httpx.post(fake.url + "/v9/nothing").status_code == 404
        no_key = httpx.post(fake.url + "/v3/smtp/email", json=BREVO_BODY)
        assert no_key.status_code == 401 and no_key.json()["code"] == "unauthorized"
        ok = httpx.post(fake.url + "/v3/smtp/email", json=BREVO_BODY, headers={"api-key": "k"})
        assert ok.status_code == 201 and len(ok.json()["messageIds"]) == 1
        bad = httpx.post(fake.url + "/v3/smtp/email", json={**BREVO_BODY, "sender": {}},
                         headers={"api-key": "k"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameter"
        postmark = httpx.post(fake.url + "/email/batch", content=b"{not json",
                              headers={"X-Postmark-Server-Token": "t"})
        assert postmark.status_code == 422 and postmark.json()["ErrorCode"] == 300
        mailgun = httpx.post(fake.url + "/v3/mg.example.be/messages", auth=("api", "k"),
                             data={"from": "a@werkkracht10.be",
                                   "to": ["x@example.be", "y@example.be"], "text": "hi"})
        assert mailgun.status_code == 400 and "recipient-variables" in mailgun.json()["message"]
        resend = httpx.post(fake.url + "/emails", json={"from": "a@werkkracht10.be"},
                            headers={"Authorization": "Bearer re_x"})
        assert resend.status_code == 422 and resend.json()["name"] == "validation_error"
        assert httpx.post(fake.url + "/v3.1/send", json={"Messages": []},
                          auth=("a", "b")).status_code == 400
        assert httpx.post(fake.url + "/v3/mail/send", json={"personalizations": []},
                          headers={"Authorization": "Bearer x"}).status_code == 400


def test_latency_does_not_serialise_requests() -> None:
    with FakeProviderServer(faults=Faults(latency_ms=200)) as fake:
        client = httpx.Client(limits=httpx.Limits(max_connections=32))

        def post(_: int) -> int:
            return client.post(fake.url + "/v3/smtp/email", json=BREVO_BODY,
                               headers={"api-key": "k"}).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(post, range(32)))
        elapsed = time.monotonic() - started
        client.close()
    assert statuses == [201] * 32
    # Serialised, 32 requests would take 6.4 s.
    assert elapsed < 2.0


def test_seeded_fault_rates_are_reproducible() -> None:
    def run() -> list[int]:
        with FakeProviderServer(faults=Faults(seed=42, error_5xx_rate=0.3,
                                              rate_limit_rate=0.2)) as fake:
            return [httpx.post(fake.url + "/v3/smtp/email", json=BREVO_BODY,
                               headers={"api-key": "k"}).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {201, 500, 429} <= set(first)


def test_subprocess_prints_its_port_and_serves() -> None:
    with fake_provider_subprocess(latency_ms=1) as fake:
        assert fake.url == f"http://127.0.0.1:{fake.port}"
        with FakeProviderControl(fake.url) as ctl:
            assert ctl.set_faults()["latency_ms"] == 1
            FACTORIES["resend"](base_url=fake.url).send_batch(batch(2))
            assert ctl.deliveries()["by_provider"] == {"resend": 2}
    assert fake.process.poll() is not None


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeProviderServer("0.0.0.0")


def test_brevo_engine_escapes_by_default_and_refuses_unknown_tags() -> None:
    assert render_brevo("{{ params.x }}", {"x": "<b>"}) == "&lt;b&gt;"
    assert render_brevo("{% autoescape off %}{{ params.x }}{% endautoescape %}",
                        {"x": "<b>"}) == "<b>"
    assert render_brevo("{% verbatim %}{{ a }}{% endverbatim %}", {}) == "{{ a }}"
    assert render_brevo("{{ contact.NAME }}{# note #}", {}) == ""
    for broken in ("{% if x %}", "{{{ params.x }}", "{% autoescape off %}"):
        with pytest.raises(TemplateError):
            render_brevo(broken, {"x": "1"})


def test_other_engines() -> None:
    assert render_sendgrid("-k- -kk-", {"-k-": "-kk-", "-kk-": "v"}) == "-kk- v"
    assert render_mailgun("%recipient.a%%recipient.b%", {"a": "%recipient.", "b": "x"}) == \
        "%recipient.x"
    assert render_mailgun("%recipient.missing%", {}) == ""
    assert render_mailjet('{{var:a}} {{var:b:"d"}}', {"a": "{{var:b}}"}) == "{{var:b}} d"
    for broken in ("{{ x }}", "{% if %}", "{{var:none}}", "a {{ b"):
        with pytest.raises(TemplateError):
            render_mailjet(broken, {})

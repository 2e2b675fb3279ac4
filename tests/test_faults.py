"""Under injected faults (5xx, 429, timeouts, dropped connections) nobody gets the issue twice.

With an idempotency key (Brevo, Resend) every recipient ends ``sent`` exactly once; without
one, every recipient is ``sent`` once or ``uncertain`` and reported by ``status``.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from digiweetjes.cli.sending_text import status_lines, summary_lines
from digiweetjes.clock import SystemClock
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.devtools.synthetic import insert_subscribers
from digiweetjes.models import Delivery, Subscriber
from digiweetjes.sending import service
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from tests.providers_support import FACTORIES
from tests.sending_support import freeze, sample_issue

N = 400
IDEMPOTENT = {"brevo", "resend"}
QUICK = httpx.Timeout(connect=2.0, read=0.4, write=2.0, pool=5.0)
#: Every kind once at the start (so each run meets them all), then the issue's mix at random.
SCRIPT = ["5xx", "429", "timeout_after", "drop_after", "timeout_before", "drop_before"]
MIX = {"error_5xx_rate": 0.10, "rate_limit_rate": 0.05, "timeout_before_rate": 0.01,
       "timeout_after_rate": 0.01, "drop_before_rate": 0.005, "drop_after_rate": 0.005}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_fault_mix_never_sends_twice(tmp_path, settings, name) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    db.upgrade()
    clock = SystemClock()
    insert_subscribers(db, settings, N, clock.now())
    compiled = sample_issue(settings)
    faults = Faults(seed=11, retry_after_s=0.01, hang_s=1.0, script=list(SCRIPT), **MIX)
    with FakeProviderServer(faults=faults) as fake:
        provider = FACTORIES[name](base_url=fake.url, timeout=QUICK)
        campaign = freeze(db, compiled, provider.name, clock.now())
        options = SendOptions(concurrency=4, batch_size=10, brake_after=40, max_attempts=40,
                              backoff=Backoff(base=0.02, cap=0.2), requests_per_second=0)
        summary = SendEngine(db, provider, compiled, settings, clock, options).run(campaign)
        provider.close()
        recorded = fake.state.deliveries()
        per_address = dict(fake.state.counts)
        requests = recorded["requests"][name]
    with db.session() as session:
        ledger_rows = session.execute(select(Subscriber.email, Delivery.state)
                                      .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                                      ).all()
    lines = status_lines(campaign.issue_id,
                         service.campaign_status(db, campaign.issue_id))
    db.dispose()

    assert requests >= N // 10 + len(SCRIPT), "the faults did not cost any retries"
    assert recorded["duplicate_count"] == 0, recorded["duplicates"]
    counts = summary.counts
    assert counts["queued"] == counts["sending"] == counts["failed"] == 0, summary_lines(summary)
    assert summary.done
    sent = {e for e, s in ledger_rows if s == "sent"}
    uncertain = {e for e, s in ledger_rows if s == "uncertain"}
    assert len(sent) + len(uncertain) == N
    assert all(per_address.get(e) == 1 for e in sent)
    assert all(per_address.get(e, 0) <= 1 for e in uncertain)
    if name in IDEMPOTENT:
        assert not uncertain and recorded["total"] == recorded["distinct"] == N
        assert recorded["replays"] >= 1  # a timeout after acceptance was answered by a replay
    else:
        # Every "sent" arrived once; an uncertain one arrived once or not at all.
        assert recorded["total"] == recorded["distinct"] >= len(sent)
        assert recorded["total"] <= N
        assert uncertain, "a timeout after sending must leave some deliveries uncertain"
        assert any(f"Onzeker ({len(uncertain)})" in line for line in lines)

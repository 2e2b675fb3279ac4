"""The send benchmark: the engine against the fake provider on loopback, SQLite ledger.

The fake provider runs in its own process with 20 ms latency a request, so its cost is not the
sender's. Each measured send runs in a fresh child process (``python -m
digiweetjes.devtools.bench_send``) on a fresh SQLite ledger of synthetic subscribers inserted in
bulk beforehand, so its peak RSS is the sender's alone; the time covers freeze, claim, personalize,
send and record. A bare loop that only posts pre-built batches to the same fake, with the same
concurrency, gives the ceiling the engine's throughput is compared with.
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from digiweetjes.config import PROJECT_ROOT, Secret, Settings

SAMPLE = PROJECT_ROOT / "issues" / "2026-12-05-overzicht-projectoproepen.md"
BENCH_KEY = "bench-secret-key-0123456789abcdef"
LATENCY_MS = 20.0
TARGETS = {"brevo": 15.0, "postmark": 60.0}
MEMORY_TARGET_MB = 200.0
RATIO_TARGET = 0.5


def _settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, secret_key=Secret(BENCH_KEY),
                    issues_dir=PROJECT_ROOT / "issues", templates_dir=PROJECT_ROOT / "templates")


def _provider(name: str, url: str) -> Any:
    from digiweetjes.providers.brevo import BrevoProvider
    from digiweetjes.providers.postmark import PostmarkProvider

    cls = {"brevo": BrevoProvider, "postmark": PostmarkProvider}[name]
    return cls(Secret("bench-provider-key"), base_url=url)


# -- the measured send, in a child process --------------------------------------------------


class _Stopwatch:
    """A progress watcher that notes when sending began (after the audience was frozen)."""

    started_at: float | None = None

    def start(self, *, total: int, done: int) -> None:
        self.started_at = time.perf_counter()

    def advance(self, amount: int, *, sent: int = 0) -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def stop(self) -> None:
        pass


def _child(args: dict[str, Any]) -> dict[str, Any]:
    """Freeze and send one campaign; returns timings and this process's peak RSS."""
    from digiweetjes.clock import SystemClock
    from digiweetjes.content.source import read_issue
    from digiweetjes.db import Database
    from digiweetjes.release import approve
    from digiweetjes.render import compile_issue
    from digiweetjes.sending import service
    from digiweetjes.sending.options import SendOptions

    settings = _settings(args["db_url"])
    db = Database(settings.database_url)
    clock = SystemClock()
    # The send door needs the sample approved (as an editor would, not timed).
    approve(db, settings, clock, str(SAMPLE), by="Benchmark")
    started = time.perf_counter()
    source = read_issue(settings.issues_dir, SAMPLE)
    compiled = compile_issue(source, settings)
    compiled_at = time.perf_counter()
    progress = _Stopwatch()
    outcome = service.send_issue(
        source.draft, compiled, db=db, settings=settings, clock=clock,
        provider_factory=lambda: _provider(args["provider"], args["url"]),
        confirm=lambda plan: True, progress=progress,
        # The fake has no rate limit: no pacing, or Brevo's default (1.67 requests a second)
        # would measure the pace, not the sender.
        options=SendOptions(concurrency=args["concurrency"], processes=args["processes"],
                            requests_per_second=0))
    summary = outcome.summary
    assert summary is not None and summary.counts is not None
    frozen_at = progress.started_at or compiled_at
    finished = time.perf_counter()
    db.dispose()
    return {"compile_s": compiled_at - started, "freeze_s": frozen_at - compiled_at,
            "send_s": finished - frozen_at, "total_s": finished - compiled_at,
            "sent": summary.counts["sent"], "requests": summary.requests,
            "peak_rss_mb": _peak_rss_mb(args["processes"])}


def _peak_rss_mb(processes: int) -> float:
    """Peak RSS of the sender: this process (VmHWM: ``ru_maxrss`` would also count the
    benchmark's own pages, held for an instant between fork and exec), plus each sending
    child at the largest one's peak (an upper bound: forked children share pages)."""
    own = _vm_hwm_kb()
    if processes <= 1:
        return own / 1024
    return (own + processes * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure_send(provider: str, url: str, recipients: int, concurrency: int,
                  processes: int) -> dict[str, Any]:
    from digiweetjes.db import Database
    from digiweetjes.devtools.synthetic import insert_subscribers

    with tempfile.TemporaryDirectory(prefix="digiweetjes-bench-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        db = Database(db_url)
        db.upgrade()
        insert_subscribers(db, _settings(db_url), recipients, datetime.now(UTC))
        db.dispose()
        args = {"db_url": db_url, "provider": provider, "url": url,
                "concurrency": concurrency, "processes": processes}
        done = subprocess.run(
            [sys.executable, "-m", "digiweetjes.devtools.bench_send", json.dumps(args)],
            capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the send benchmark child failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


# -- the bare loop: pre-built batches, posted with the same concurrency ---------------------


def _bare_loop(provider_name: str, url: str, recipients: int, concurrency: int) -> float:
    """Messages a second when only posting pre-built batches of the same synthetic readers.

    Fair to both sides: the bodies are the provider adapter's own for the readers the engine
    sends to (``synthetic.insert_subscribers``' addresses, names and regions, so the same body
    size), each request with its own idempotency key as the engine's carry (so the fake does
    the same key bookkeeping, and never answers with a cheaper replay). Everything is built
    before the clock starts; the timed loop only posts bytes.
    """
    from digiweetjes.content.source import read_issue
    from digiweetjes.devtools.synthetic import places, synthetic_email
    from digiweetjes.providers.base import Batch, Recipient
    from digiweetjes.render import RecipientData, compile_issue
    from digiweetjes.sending.batch_sizing import planned_batch_size
    from digiweetjes.sending.engine import batch_content
    from digiweetjes.sending.options import SendOptions
    from digiweetjes.sending.recipient_links import LinkSigner
    from digiweetjes.subscribers.hashing import Hasher

    settings = _settings("sqlite://")
    compiled = compile_issue(read_issue(settings.issues_dir, SAMPLE), settings)
    content = batch_content(compiled, settings)
    signer = LinkSigner(settings, datetime.now(UTC))
    hasher = Hasher(settings)
    where = places(settings)
    provider = _provider(provider_name, url)
    # The batches the engine would send: within the provider's count and byte limits.
    size = planned_batch_size(provider, content, compiled, settings, SendOptions(),
                              datetime.now(UTC))
    count = -(-recipients // size)
    captured: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        raise httpx.ConnectError("captured")

    capturing = type(provider)(Secret("bench-provider-key"), base_url=url,
                               transport=httpx.MockTransport(capture))
    batches: list[list[Recipient]] = []
    for b in range(min(8, count)):
        batch = []
        for i in range(b * size, (b + 1) * size):
            email = synthetic_email(i)
            name = f"Lezer {i}" if i % 3 else None
            unsubscribe, preferences = signer.links(hasher.email(email))
            html, text = compiled.values_for(RecipientData(
                email, name, where[i % len(where)][1], unsubscribe, preferences))
            # As long as a delivery reference (sending.references), so bodies weigh the same.
            batch.append(Recipient(f"{i + 1:031x}", email, name, html, text, unsubscribe))
        batches.append(batch)
    requests: list[tuple[str, bytes, dict[str, str]]] = []
    for n in range(count):
        # The capturing transport refuses every request once it has kept it.
        with contextlib.suppress(Exception):
            capturing.send_batch(Batch(content, batches[n % len(batches)],
                                       idempotency_key=uuid.uuid4().hex))
        request = captured.pop()
        requests.append((request.url.path, request.read(), dict(request.headers)))
    del batches
    client = httpx.Client(base_url=url, timeout=120.0,
                          limits=httpx.Limits(max_connections=concurrency * 2))
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for response in pool.map(
                lambda n: client.post(requests[n][0], content=requests[n][1],
                                      headers=requests[n][2]), range(count)):
            response.raise_for_status()
    elapsed = time.perf_counter() - started
    client.close()
    provider.close()
    return count * size / elapsed


# -- the report ------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def run_send_benchmark(*, recipients: int = 100_000, million: bool = True,
                       concurrency: int = 4, processes: int = 2,
                       latency_ms: float = LATENCY_MS) -> Iterator[str]:
    """Run every send measurement, yielding report lines as they come."""
    from digiweetjes.devtools.fake_provider import FakeProviderControl, fake_provider_subprocess

    yield (f"send benchmark: fake provider in a subprocess, {latency_ms:.0f} ms a request, "
           f"SQLite ledger, {processes} sending process(es) × {concurrency} requests in "
           f"flight, {recipients:,} recipients")
    with fake_provider_subprocess(latency_ms=latency_ms) as fake, \
            FakeProviderControl(fake.url) as control:
        results: dict[str, dict[str, Any]] = {}
        runs = [("brevo", 1), ("brevo", processes), ("postmark", processes)]
        for name, procs in dict.fromkeys(runs):
            control.reset()
            result = _measure_send(name, fake.url, recipients, concurrency, procs)
            recorded = control.deliveries()
            results[f"{name}/{procs}"] = result
            rate = result["sent"] / result["total_s"]
            if procs == 1:
                memory = (f"peak RSS {result['peak_rss_mb']:.0f} MB target ≤ "
                          f"{MEMORY_TARGET_MB:.0f} MB: "
                          f"{_verdict(result['peak_rss_mb'] <= MEMORY_TARGET_MB)}")
            else:
                # The memory target is the single sending process's (the product default);
                # with several, the sum counts the pages they share once per process.
                memory = (f"peak RSS ≤ {result['peak_rss_mb']:.0f} MB summed over "
                          f"{procs} processes (upper bound, for information)")
            yield (f"  {name:<8} {recipients:,} recipients, {procs} process(es) × {concurrency}: "
                   f"{result['total_s']:.1f} s end to end (freeze {result['freeze_s']:.1f} s, "
                   f"send {result['send_s']:.1f} s; {rate:,.0f} msg/s, {result['requests']} "
                   f"requests) target ≤ {TARGETS[name]:.0f} s: "
                   f"{_verdict(result['total_s'] <= TARGETS[name])}; {memory}; the fake "
                   f"recorded {recorded['total']:,} ({recorded['duplicate_count']} duplicates)")
            if procs != processes:
                continue
            control.reset()
            bare = _bare_loop(name, fake.url, recipients, concurrency * processes)
            ratio = rate / bare
            yield (f"  {name:<8} bare loop (pre-built batches, {concurrency * processes} in "
                   f"flight): {bare:,.0f} msg/s; engine = {ratio:.2f} of it, target ≥ "
                   f"{RATIO_TARGET}: {_verdict(ratio >= RATIO_TARGET)}")
        if million:
            # The product's default: one sending process, against its own 100,000 run.
            control.reset()
            big = 10 * recipients
            result = _measure_send("brevo", fake.url, big, concurrency, 1)
            base = results["brevo/1"]
            factor = result["total_s"] / base["total_s"]
            growth = result["peak_rss_mb"] - base["peak_rss_mb"]
            yield (f"  brevo    {big:,} recipients, 1 process × {concurrency}: "
                   f"{result['total_s']:.1f} s end to end "
                   f"(freeze {result['freeze_s']:.1f} s, send {result['send_s']:.1f} s) = "
                   f"{factor:.1f}× the {recipients:,} run, target ≤ 10×: "
                   f"{_verdict(factor <= 10)}; peak RSS {result['peak_rss_mb']:.0f} MB "
                   f"({growth:+.0f} MB), flat: {_verdict(growth <= 0.25 * base['peak_rss_mb'])}")
        else:
            yield "  1,000,000-recipient run skipped (--no-million)"


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))

"""The web benchmark: sign-ups, one-click unsubscribes and a webhook batch under uvicorn.

The app runs under ``digiweetjes serve --no-build`` (uvicorn with httptools and uvloop, a socket
a worker, the outbox provider writing each confirmation mail to disk) on loopback, on a
fresh SQLite database or a schema of its own on a PostgreSQL server (``database_url``, dropped
afterwards); the bounded load generator (``devtools.loadgen``) runs here, on the same cores.
The per-IP rate limits are switched off for the run (all requests come from 127.0.0.1). Every
figure is checked against the database afterwards: a fast answer that changed nothing does not
count. The subscribers who unsubscribe joined a month before their links were issued, as a
newsletter's readers do.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from digiweetjes.config import PROJECT_ROOT, Secret, Settings
from digiweetjes.db import Database, describe_url
from digiweetjes.devtools.loadgen import LoadResult, form_post, run_load
from digiweetjes.devtools.processes import stop_process
from digiweetjes.devtools.synthetic import insert_subscribers, synthetic_email
from digiweetjes.models import Subscriber, SubscriberStatus

TARGETS = {"signup_per_second": 300.0, "oneclick_per_second": 1000.0, "p99_ms": 100.0,
           "webhook_seconds": 2.0}
BENCH_KEY = "bench-web-secret-key-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _database(root: Path, database_url: str | None) -> Iterator[str]:
    """The run's database URL: a fresh SQLite file, or a fresh schema on a PostgreSQL server."""
    if not database_url or make_url(database_url).get_backend_name() == "sqlite":
        yield database_url or f"sqlite:///{root / 'subscribers.db'}"
        return
    schema = f"bench_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # Every connection of the run (here and in uvicorn's workers) lives in that schema.
        yield make_url(database_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _environment(root: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("DIGIWEETJES_")}
    env.update({
        "DIGIWEETJES_ROOT": str(root),
        "DIGIWEETJES_ISSUES_DIR": str(PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_SECRET_KEY": BENCH_KEY,
        "DIGIWEETJES_PROVIDER": "outbox",
        "DIGIWEETJES_BASE_URL": f"http://127.0.0.1:{port}",
        # Every request of the run comes from 127.0.0.1: the per-IP limits would stop it.
        "DIGIWEETJES_WEB_SIGNUPS_PER_IP_PER_HOUR": "0",
        "DIGIWEETJES_WEB_REQUESTS_PER_IP_PER_MINUTE": "0",
        **extra,
    })
    return env


@contextlib.contextmanager
def _server(env: dict[str, str], port: int, workers: int) -> Iterator[None]:
    command = [sys.executable, "-m", "digiweetjes", "serve", "--no-build", "--host",
               "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    # Its "Webapp op …" line stays out of the figures; its errors still show (stderr).
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start (see its output above)")
            time.sleep(0.1)
        yield
    finally:
        stop_process(process, grace=15)


def _http_stack() -> str:
    """What uvicorn runs on: httptools and uvloop when installed (``--http auto``)."""
    parts = []
    for module, fallback in (("httptools", "h11"), ("uvloop", "asyncio")):
        try:
            __import__(module)
            parts.append(module)
        except ImportError:
            parts.append(fallback)
    return " + ".join(parts)


def _line(what: str, result: LoadResult, target: float) -> str:
    p99 = result.percentile(0.99)
    verdict = ("OK" if result.per_second >= target and p99 <= TARGETS["p99_ms"]
               and not result.unexpected else "BELOW TARGET")
    wrong = (", unexpected answers " + ", ".join(f"{k}×{v}" for k, v in
                                                 sorted(result.unexpected.items()))
             if result.unexpected else "")
    return (f"{what}: {result.requests} in {result.seconds:.2f} s = {result.per_second:,.0f}/s "
            f"(target ≥ {target:,.0f}/s), p50 {result.percentile(0.5):.1f} ms, "
            f"p99 {p99:.1f} ms (target ≤ {TARGETS['p99_ms']:.0f} ms){wrong} — {verdict}")


def _count(db: Database, status: str, like: str) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Subscriber).where(
            Subscriber.status == status, Subscriber.email.like(like))) or 0)


def run_web_benchmark(*, signups: int = 3000, unsubscribes: int = 5000,
                      webhook_events: int = 1000, concurrency: int = 8,
                      workers: int = 2, database_url: str | None = None) -> list[str]:
    """Run the three measurements; one printed line each (and the set-up)."""
    from digiweetjes.devtools.bench_webhooks import webhook_batch
    from digiweetjes.sending.recipient_links import LinkSigner
    from digiweetjes.subscribers.hashing import Hasher
    from digiweetjes.subscribers.places import region
    from digiweetjes.subscribers.tokens import Purpose

    lines: list[str] = []
    with (tempfile.TemporaryDirectory(prefix="digiweetjes-bench-web-") as tmp,
          _database(Path(tmp), database_url) as url):
        root = Path(tmp)
        port = _free_port()
        hook = webhook_batch(webhook_events, domain="bounce.example.be")
        env = _environment(root, port, {**hook.environment, "DIGIWEETJES_DATABASE_URL": url})
        settings = Settings.from_env(env)
        db = Database(settings.database_url)
        db.upgrade()
        now = datetime.now(UTC)
        insert_subscribers(db, settings, unsubscribes, now - timedelta(days=30),
                           domain="leaving.example.be")
        insert_subscribers(db, settings, webhook_events, now, domain="bounce.example.be")
        hasher = Hasher(settings)
        signer = LinkSigner(settings.with_(secret_key=Secret(BENCH_KEY)), now)
        host = f"127.0.0.1:{port}"
        towns = region(settings).municipalities
        signup_requests = [form_post(host, "/inschrijven", urlencode({
            "email": f"nieuw{i:07d}@lezers.example.be", "naam": f"Nieuwe lezer {i}",
            "gemeente": towns[i % len(towns)], "toestemming": "ja"}).encode())
            for i in range(signups)]
        oneclick_requests = [form_post(
            host, "/uitschrijven/" + signer.token(
                Purpose.UNSUBSCRIBE, hasher.email(synthetic_email(i, "leaving.example.be"))),
            b"List-Unsubscribe=One-Click") for i in range(unsubscribes)]
        lines.append(f"set-up: digiweetjes serve, uvicorn ({_http_stack()}) with {workers} "
                     f"worker(s) (a socket each) on "
                     f"127.0.0.1:{port}, {describe_url(url)}, outbox provider; {concurrency} "
                     f"connections in flight; {os.cpu_count()} cores shared with the load "
                     "generator")
        with _server(env, port, workers):
            signup = run_load("127.0.0.1", port, signup_requests, concurrency=concurrency,
                              expect=303)
            oneclick = run_load("127.0.0.1", port, oneclick_requests, concurrency=concurrency,
                                expect=200)
            started = time.perf_counter()
            answer = httpx.post(f"http://{host}/webhooks/{hook.provider}", content=hook.body,
                                headers=hook.headers, timeout=60)
            webhook_seconds = time.perf_counter() - started
        pending = _count(db, SubscriberStatus.PENDING, "%@lezers.example.be")
        left = _count(db, SubscriberStatus.UNSUBSCRIBED, "%@leaving.example.be")
        bounced = _count(db, SubscriberStatus.BOUNCED, "%@bounce.example.be")
        db.dispose()
        lines.append(_line("sign-ups (POST /inschrijven)", signup,
                           TARGETS["signup_per_second"])
                     + f"; {pending} pending subscribers and "
                       f"{len(list((root / 'outbox').glob('**/*.eml')))} confirmation mails")
        lines.append(_line("one-click unsubscribes (RFC 8058 POST)", oneclick,
                           TARGETS["oneclick_per_second"])
                     + f"; {left} of {unsubscribes} unsubscribed")
        verdict = ("OK" if webhook_seconds <= TARGETS["webhook_seconds"]
                   and answer.status_code == 200 and bounced == webhook_events
                   else "BELOW TARGET")
        lines.append(f"webhook batch: {webhook_events} {hook.provider} bounce events in "
                     f"{webhook_seconds:.2f} s (target ≤ {TARGETS['webhook_seconds']:.0f} s), "
                     f"HTTP {answer.status_code}, {bounced} subscribers bounced — {verdict}")
    return lines

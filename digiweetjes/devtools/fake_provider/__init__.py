"""A fake mail provider: the six sending APIs on one loopback port, for tests and benchmarks.

Start it in-process (tests)::

    with FakeProviderServer(faults=Faults(keep_bodies=True)) as fake:
        provider = BrevoProvider(Secret("k"), base_url=fake.url)
        ...
        fake.state.deliveries()          # or FakeProviderControl(fake.url).deliveries()

or as a separate process (benchmarks, so its cost is not the sender's)::

    with fake_provider_subprocess(latency_ms=20) as fake:   # digiweetjes fake-provider --port 0
        FakeProviderControl(fake.url).set_faults(error_5xx_rate=0.1, seed=7)

The command prints ``luistert op http://127.0.0.1:PORT`` once bound. See ``server`` for the
control API, ``suppression_lists`` for the providers' suppression lists, ``apis`` for the six
provider dialects (each in ``whole_request_dialects`` or
``per_message_dialects``: what it checks and answers) and ``dialect`` for what they share.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from digiweetjes.devtools.fake_provider.faults import FAULT_KINDS, Faults
from digiweetjes.devtools.fake_provider.server import FakeHTTPServer, FakeProviderApp, State
from digiweetjes.devtools.processes import stop_process

__all__ = ["FAULT_KINDS", "FakeProviderControl", "FakeProviderServer", "Faults",
           "fake_provider_subprocess"]

#: The line the command prints once bound (Dutch, as all CLI output; tests read it).
LISTENING = "luistert op "


class FakeProviderServer:
    """The fake bound to a loopback port (0: any free one), served from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, faults: Faults | None = None,
                 record_path: Path | None = None, keep_messages: int = 10_000) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake provider binds loopback only")
        self.state = State(faults, record_path, keep_messages)
        self._httpd = FakeHTTPServer((host, port), FakeProviderApp(self.state))
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeProviderServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI command)."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        self.state.close()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeProviderControl:
    """A small client of the fake's control API (works for in-process and subprocess fakes)."""

    def __init__(self, url: str) -> None:
        self._client = httpx.Client(base_url=url, timeout=10.0)

    def deliveries(self, email: str | None = None) -> dict[str, Any]:
        params = {"email": email} if email else None
        return self._client.get("/_fake/deliveries", params=params).raise_for_status().json()

    def messages(self, *, provider: str | None = None, email: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if provider:
            params["provider"] = provider
        if email:
            params["email"] = email
        response = self._client.get("/_fake/messages", params=params).raise_for_status()
        return response.json()["messages"]

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        return self._client.post("/_fake/faults", json=changes).raise_for_status().json()

    def add_suppression(self, provider: str, email: str, reason: str,
                        **extra: str) -> dict[str, Any]:
        """Put an address on a provider's suppression list (see ``suppression_lists``)."""
        body = {"provider": provider, "email": email, "reason": reason, **extra}
        return self._client.post("/_fake/suppressions", json=body).raise_for_status().json()

    def reset(self, *, faults: bool = False) -> None:
        self._client.post("/_fake/reset", params={"faults": "1" if faults else "0"}
                          ).raise_for_status()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FakeProviderControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class FakeProviderProcess:
    url: str
    port: int
    process: subprocess.Popen[str]


@contextlib.contextmanager
def fake_provider_subprocess(*, latency_ms: float = 0.0, record: Path | None = None,
                             extra_args: list[str] | None = None,
                             startup_timeout: float = 15.0) -> Iterator[FakeProviderProcess]:
    """Run ``digiweetjes fake-provider --port 0`` in a subprocess and learn its port."""
    args = [sys.executable, "-c", "import sys; from digiweetjes.cli import main; "
            "sys.exit(main(sys.argv[1:]))", "fake-provider", "--port", "0",
            "--latency-ms", str(latency_ms)]
    if record is not None:
        args += ["--record", str(record)]
    args += extra_args or []
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = _await_listening(process, startup_timeout)
        yield FakeProviderProcess(url, int(url.rsplit(":", 1)[1]), process)
    finally:
        stop_process(process, grace=5)


def _await_listening(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(LISTENING):
                found.append(line[len(LISTENING):].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline and process.poll() is None:
        reader.join(0.05)
    if not found:
        raise RuntimeError(f"the fake provider did not start (no {LISTENING.strip()!r} line)")
    return found[0]

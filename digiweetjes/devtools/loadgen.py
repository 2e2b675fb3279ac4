"""A bounded HTTP/1.1 load generator on raw asyncio streams (the web benchmark's client).

Each of ``concurrency`` keep-alive connections takes the next prepared request from a shared
queue until it is empty, so the load is bounded twice: a fixed number of requests, a fixed number
in flight. Requests are prepared bytes and responses are read by Content-Length, so the client
spends far less CPU per request than an HTTP library would; on a two-core machine it shares the
cores with the server it measures.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What a load run measured: throughput, latency percentiles, unexpected answers."""

    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    unexpected: dict[int, int] = field(default_factory=dict)   # status → count

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """Latency at ``fraction`` (0.99 = p99), in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index] * 1000


def form_post(host: str, path: str, body: bytes, *,
              content_type: str = "application/x-www-form-urlencoded",
              headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """A prepared HTTP/1.1 POST request."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("the load generator reads Content-Length bodies only")
    if length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, queue: deque[bytes], expect: int,
                      result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while queue:
            request = queue.popleft()
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            if status != expect:
                result.unexpected[status] = result.unexpected.get(status, 0) + 1
    finally:
        writer.close()


async def _run(host: str, port: int, requests: list[bytes], concurrency: int,
               expect: int) -> LoadResult:
    queue = deque(requests)
    result = LoadResult(requests=len(requests), seconds=0.0)
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, port, queue, expect, result)
                           for _ in range(min(concurrency, len(requests)))))
    result.seconds = time.perf_counter() - started
    return result


def run_load(host: str, port: int, requests: list[bytes], *, concurrency: int,
             expect: int) -> LoadResult:
    """Send every request over ``concurrency`` keep-alive connections; measure each answer."""
    return asyncio.run(_run(host, port, requests, concurrency, expect))

"""The render benchmark: compile once (target ≤ 5 ms), personalize cheaply (≤ 20 µs)."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from digiweetjes.config import Settings
from digiweetjes.content.source import list_drafts, read_issue
from digiweetjes.render import RecipientData, compile_issue, personalize

COMPILE_TARGET_MS = 5.0
PERSONALIZE_TARGET_US = 20.0
SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen.md"


def _sample_recipients(count: int) -> list[RecipientData]:
    subregions = (None, "noord", "centrum", "west")
    return [
        RecipientData(
            email=f"lezer{i}@example.org", name=f"Lezer {i} & <co>" if i % 3 else None,
            subregion=subregions[i % 4],
            unsubscribe_url=f"https://digiweetjes.example.be/uitschrijven/tok{i:08d}.sig",
            preferences_url=f"https://digiweetjes.example.be/voorkeuren/tok{i:08d}.sig")
        for i in range(count)
    ]


def run_render_benchmark(settings: Settings, *, rounds: int, recipients: int) -> Iterator[str]:
    """Yield report lines: compile median, personalize per recipient, targets."""
    sample = settings.issues_dir / SAMPLE_ISSUE
    path = sample if sample.exists() else list_drafts(settings.issues_dir)[-1]
    source = read_issue(settings.issues_dir, path)
    compile_issue(source, settings)  # warm the template cache, as a sender would
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        compiled = compile_issue(source, settings)
        timings.append(time.perf_counter() - start)
    compile_ms = statistics.median(timings) * 1000
    people = _sample_recipients(min(recipients, 10_000))
    gc.disable()  # a collection mid-loop would be charged to whichever recipient it hit
    try:
        start = time.perf_counter()
        for i in range(recipients):
            personalize(compiled, people[i % len(people)])
        per_recipient_us = (time.perf_counter() - start) / recipients * 1e6
    finally:
        gc.enable()
    size_kb = len(compiled.html.source.encode()) / 1024
    yield f"issue: {Path(path).name} (HTML {size_kb:.1f} KB)"
    yield (f"compile_issue(): median {compile_ms:.2f} ms over {rounds} runs "
           f"(target ≤ {COMPILE_TARGET_MS:.0f} ms: "
           f"{'met' if compile_ms <= COMPILE_TARGET_MS else 'MISSED'})")
    yield (f"personalize(): {per_recipient_us:.2f} µs per recipient over {recipients} "
           f"(target ≤ {PERSONALIZE_TARGET_US:.0f} µs: "
           f"{'met' if per_recipient_us <= PERSONALIZE_TARGET_US else 'MISSED'})")

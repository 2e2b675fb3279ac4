"""Benchmark: import a 100,000-row Excel-style CSV into a fresh SQLite file, streamed.

Targets: at most 10 s and at most 200 MB peak memory (RSS of the importing process). The import
runs in a child process so its peak RSS is its own, not the generator's or the CLI's.
"""

from __future__ import annotations

import json
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 10.0
TARGET_MB = 200.0
FIRST_NAMES = ("An", "Bart", "Chloé", "Dirk", "Els", "Frederik", "Griet", "Hans", "Inès",
               "Jef", "Karolien", "Lieven", "Marleen", "Noël", "Olivier", "Petra")
LAST_NAMES = ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes",
              "Goossens", "Wouters", "De Smet", "Dubois", "Lambrecht", "Vandamme", "D'Hondt")


def generate_csv(path: Path, rows: int, *, seed: int = 2026) -> None:
    """Fictional rows as Excel (nl-BE) saves them: UTF-8 with BOM, ``;``, Dutch headers."""
    from digiweetjes.config import Settings
    from digiweetjes.content.region import load_region

    municipalities = [*load_region(Settings().projects_path).municipalities, ""]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write("E-mailadres;Naam;Gemeente\r\n")
        for number in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            handle.write(f"Bench.Deelnemer{number}@Example.org;{first} {last};"
                         f"{rng.choice(municipalities)}\r\n")


def _worker(csv_path: str, database_url: str, root: str) -> None:
    from digiweetjes.clock import SystemClock
    from digiweetjes.config import PROJECT_ROOT, Secret, Settings
    from digiweetjes.db import Database
    from digiweetjes.subscribers.csv_import import import_csv

    settings = Settings(root=Path(root), issues_dir=PROJECT_ROOT / "issues",
                        database_url=database_url,
                        secret_key=Secret(secrets.token_urlsafe(32)))
    database = Database(database_url)
    database.upgrade()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with database.session() as session:
        report = import_csv(session, SystemClock(), settings, Path(csv_path),
                            consent_source="benchmark: fictional data")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    database.dispose()
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "baseline_mb": baseline,
                      "added": report.added}))


def run_import_benchmark(rows: int = 100_000) -> tuple[list[str], bool]:
    """Figures as printable lines, and whether both targets were met."""
    with tempfile.TemporaryDirectory(prefix="digiweetjes-bench-") as temp:
        folder = Path(temp)
        csv_path = folder / "leden.csv"
        started = time.perf_counter()
        generate_csv(csv_path, rows)
        generated = time.perf_counter() - started
        url = f"sqlite:///{folder / 'bench.db'}"
        child = subprocess.run(
            [sys.executable, "-m", "digiweetjes.devtools.bench_import", "--worker",
             str(csv_path), url, str(folder)], capture_output=True, text=True, check=False)
        if child.returncode != 0:
            return [f"import benchmark failed:\n{child.stderr.strip()}"], False
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        size_mb = csv_path.stat().st_size / 1e6
    seconds, peak = figures["seconds"], figures["peak_mb"]
    ok = seconds <= TARGET_SECONDS and peak <= TARGET_MB
    lines = [
        f"import: {figures['added']:,} rows from a {size_mb:.1f} MB CSV "
        f"(generated in {generated:.1f} s) into a fresh SQLite file",
        f"  elapsed   {seconds:6.2f} s   (target ≤ {TARGET_SECONDS:.0f} s)   "
        f"{'OK' if seconds <= TARGET_SECONDS else 'OVER TARGET'}",
        f"  peak RSS  {peak:6.1f} MB  (target ≤ {TARGET_MB:.0f} MB) "
        f"{'OK' if peak <= TARGET_MB else 'OVER TARGET'}   "
        f"(of which {figures['baseline_mb']:.1f} MB before the import started)",
    ]
    return lines, ok


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        _worker(*sys.argv[2:5])
    else:
        sys.exit("usage: python -m digiweetjes.devtools.bench_import --worker CSV URL ROOT")

"""Child processes of the developer tools (the fake provider, the web benchmark's server)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, *, grace: float) -> None:  # type: ignore[type-arg]
    """SIGTERM (let it finish what it is doing), SIGKILL when it has not ended after ``grace``
    seconds; waits for it either way, so no zombie is left."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

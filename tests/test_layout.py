"""The package's shape: no import cycle, small modules, and a domain that reads no environment,
no real clock and no network by itself (only the entry points do, and hand them in)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "digiweetjes"
#: Entry points and tools, which may read the environment and the real clock themselves.
ENTRY_POINTS = ("cli", "devtools", "clock.py", "__main__.py", "migrations")
#: The web app's entry points: uvicorn's factory, and the worker processes' supervisor (it binds
#: the listening sockets and times restarts); the rest of web/ is handed its collaborators.
ENTRY_MODULES = ("web/entry.py", "web/workers.py")
MAX_LINES = 420  # "about 400": one responsibility a module


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if (parts[-1] in ("env", "__main__") and "migrations" in parts) or parts[-1] == "__main__":
            continue  # Alembic's env.py runs migrations on import; __main__ runs the CLI
        names.append(".".join(parts))
    return names


def _domain_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if path.relative_to(PACKAGE).parts[0] not in ENTRY_POINTS
            and path.relative_to(PACKAGE).as_posix() not in ENTRY_MODULES]


IMPORT_EACH = """
import importlib, json, sys
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "digiweetjes" or m.startswith("digiweetjes.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failures))
"""


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    """Whichever module a program imports first, it loads: no import cycle anywhere."""
    modules = _modules()
    assert len(modules) > 50
    done = subprocess.run([sys.executable, "-c", IMPORT_EACH, json.dumps(modules)],
                          capture_output=True, text=True, check=True, timeout=240)
    assert json.loads(done.stdout.splitlines()[-1]) == {}


def test_no_module_is_much_over_400_lines() -> None:
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
             for path in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


#: Calls that read the real clock, the environment or the network.
CLOCK_CALLS = {"datetime.now", "datetime.utcnow", "datetime.today", "date.today", "time.time",
               "time.monotonic", "time.perf_counter", "SystemClock"}
ENVIRONMENT = {"os.environ", "os.getenv", "os.putenv"}
NETWORK_CALLS = {"httpx.Client", "httpx.get", "httpx.post", "httpx.request",
                 "socket.socket", "socket.create_connection", "urllib.request.urlopen"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _reads(path: Path) -> list[str]:
    found = []
    network_allowed = path.relative_to(PACKAGE).parts[0] == "providers"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called in CLOCK_CALLS:
                found.append(f"{where}: reads the real clock ({called})")
            if called in NETWORK_CALLS and not network_allowed:
                found.append(f"{where}: opens the network ({called})")
        if isinstance(node, ast.Attribute) and _dotted(node) in ENVIRONMENT:
            found.append(f"{where}: reads the environment ({_dotted(node)})")
    return found


def test_the_domain_reads_no_environment_clock_or_network_itself() -> None:
    """Settings, clocks and HTTP clients are handed in by the entry points (cli/, devtools/)."""
    files = _domain_files()
    assert any(path.parent.name == "sending" for path in files)
    assert [line for path in files for line in _reads(path)] == []


@pytest.mark.parametrize("source, expected", [
    ("from datetime import datetime\nx = datetime.now()", "reads the real clock"),
    ("import os\nx = os.environ['HOME']", "reads the environment"),
    ("import httpx\nc = httpx.Client()", "opens the network"),
])
def test_the_purity_check_sees_what_it_looks_for(tmp_path, source, expected) -> None:
    module = PACKAGE / "sending" / "_probe_for_the_layout_test.py"
    module.write_text(source)
    try:
        assert expected in " ".join(_reads(module))
    finally:
        module.unlink()

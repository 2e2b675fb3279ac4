"""The command line speaks Dutch: click's own texts (through the gettext catalog), every help
page of the admin commands, and representative errors, checked for English giveaway words."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from digiweetjes.cli import cli
from digiweetjes.cli.common import CLICK_DOMAIN, LOCALE_DIR, run_cli
from tests.cli_support import cli_env

PO = LOCALE_DIR / "nl" / "LC_MESSAGES" / f"{CLICK_DOMAIN}.po"
#: Developer tools that stay English (README), and the editor's commands (another work item).
NOT_CHECKED = {"bench", "demo"}  # developer tools: their output stays English
#: Words no Dutch sentence here contains; option names, variables and commands are removed first.
ENGLISH = re.compile(r"\b(Usage|Options|Commands|Error|Show|Missing|Invalid|Created|Wrote|"
                     r"the|and|must|not|with|found|from|this|only|when|which|file)\b")


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_the_compiled_catalog_is_the_po_file() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    assert PO.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run `make locale`"


def test_every_text_of_the_installed_click_is_translated() -> None:
    catalog = _catalog()
    folder = os.path.dirname(click.__file__)
    missing = []
    for _file, _line, message, *_ in extract_from_dir(
            folder, method_map=[("**.py", "python")], keywords={"_": None, "ngettext": (1, 2)}):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        if entry is None or not entry.string or entry.string == ("",) * 2:
            missing.append(msgid)
    assert missing == []


def _english(text: str) -> list[str]:
    text = re.sub(r"--?[\w-]+|\b[A-Z][A-Z0-9_]{3,}\b|`[^`]*`|digiweetjes [\w-]+", " ", text)
    text = re.sub(r"(?m)^  [\w-]+  +", "  ", text)  # the command names of a group's listing
    return ENGLISH.findall(text)


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if name in NOT_CHECKED:
            continue
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_the_giveaway_words_are_caught() -> None:
    assert _english("Usage: digiweetjes [OPTIONS]\nError: Missing argument 'EMAIL'.")
    assert _english("Wrote 3 subscribers to the file.")
    assert not _english("Gebruik: digiweetjes send [OPTIES] NUMMER --retry-failed")


@pytest.mark.parametrize("command", [(), *_commands(cli)], ids=lambda c: " ".join(c) or "-")
def test_every_help_page_is_dutch(command: tuple[str, ...],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, [*command, "--help"]) == 0
    out = capsys.readouterr().out
    shown = "\n".join(line for line in out.splitlines()
                      if line.split()[:1] not in [[name] for name in NOT_CHECKED])
    assert "Gebruik:" in out and "Opties:" in out
    assert _english(shown) == [], out


@pytest.mark.parametrize(("argv", "expected"), [
    (["subscribers", "add"], "Fout: Ontbrekend argument 'E-MAILADRES'."),
    (["subscribers", "list", "--bogus"], "Fout: Onbekende optie '--bogus'."),
    (["subscribers", "list", "--limit", "x"], "'x' is geen geldig getal"),
    (["subscribers", "import", "/nonexistent.csv"], "Bestand '/nonexistent.csv' bestaat niet"),
    (["sendd"], "Onbekende opdracht 'sendd'"),
])
def test_click_errors_are_dutch(argv: list[str], expected: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Gebruik:" in err and "Hulp:" in err
    assert _english(err) == [], err


def test_domain_errors_are_dutch_with_a_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cli_env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'l.db'}")
    assert run_cli(cli, ["init"]) == 0
    assert "staat op versie" in capsys.readouterr().out
    code = run_cli(cli, ["subscribers", "add", "a@example.be", "--municipality", "Brugs",
                         "--consent-source", "formulier"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Fout: onbekende gemeente 'Brugs' (bedoelde je "
                                        "'Brugge'?)"), err
    assert run_cli(cli, ["subscribers", "show", "nobody@example.be"]) == 1
    err = capsys.readouterr().err
    assert err == "Fout: geen abonnee met het adres 'nobody@example.be'\n"
    csv = tmp_path / "l.csv"
    csv.write_text("E-mailadres;Gemeente\na@example.be;Brugge\nb@example;Brugge\n",
                   encoding="utf-8")
    assert run_cli(cli, ["subscribers", "import", str(csv)]) == 1
    err = capsys.readouterr().err
    assert "l.csv, rij 3: ongeldig e-mailadres 'b@example'" in err  # as Excel numbers rows
    assert _english(err) == [], err


def test_confirmation_takes_ja(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    cli_env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'l.db'}")
    run_cli(cli, ["init"])
    run_cli(cli, ["subscribers", "add", "a@example.be", "--consent-source", "formulier"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("nee\n"))
    assert run_cli(cli, ["subscribers", "erase", "a@example.be"]) == 1
    captured = capsys.readouterr()
    assert "[j/N]" in captured.out and "Afgebroken." in captured.err
    monkeypatch.setattr("sys.stdin", io.StringIO("misschien\nja\n"))
    assert run_cli(cli, ["subscribers", "erase", "a@example.be"]) == 0
    captured = capsys.readouterr()
    assert "Antwoord met j (ja) of n (nee)." in captured.err and "Gewist:" in captured.out

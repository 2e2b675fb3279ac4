"""The admin CLI: init, subscribers add/list/show/remove/import/export/erase/stats, demo seed."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from digiweetjes.cli import cli
from digiweetjes.clock import FixedClock
from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.db import Database
from digiweetjes.devtools.demo_subscribers import DEMO_COUNT, seed_demo_subscribers
from digiweetjes.subscribers import find_subscriber, list_stats
from tests.cli_support import SECRET, cli_env, run


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(monkeypatch, tmp_path, database_url)


@pytest.fixture
def initialised(env, capsys) -> Database:
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert "staat op versie" in out
    database = Database(env["DIGIWEETJES_DATABASE_URL"])
    yield database
    database.dispose()


def test_commands_refuse_an_uninitialised_database_cleanly(env, capsys) -> None:
    code, out, err = run(capsys, "subscribers", "stats")
    assert code != 0
    assert "voer eerst `digiweetjes init` uit" in err
    assert "Traceback" not in out + err


def test_init_is_idempotent_and_hides_password(env, capsys) -> None:
    assert run(capsys, "init")[0] == 0
    code, out, _ = run(capsys, "init")
    assert code == 0 and "digiweetjes-ci" not in out


def test_add_show_remove(initialised: Database, capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "subscribers", "add", "Jan@Voorbeeld.BE", "--name",
                         "Jan Peeters", "--municipality", "knokke-heist", "--topic",
                         "projectoproepen", "--consent-source", "papieren formulier")
    assert code == 0, err
    assert "toegevoegd als actief (toestemming: papieren formulier)" in out
    code, out, err = run(capsys, "subscribers", "add", "els@voorbeeld.be")
    assert code == 0 and "wachtend op bevestiging" in out
    (eml,) = (tmp_path / "outbox" / "transactional").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert message["To"] == "els@voorbeeld.be"
    assert "/bevestigen/" in message.get_body(("plain",)).get_content()

    code, out, err = run(capsys, "subscribers", "add", "jan@voorbeeld.be")
    assert code == 1 and "jan@voorbeeld.be staat al op de lijst" in err

    code, out, _ = run(capsys, "subscribers", "show", "JAN@voorbeeld.be")
    assert code == 0
    assert "Jan Peeters" in out and "Knokke-Heist" in out and "noord" in out
    assert "papieren formulier" in out and "ingeschreven" in out
    # Dates as Belgians write them: "26/11/2026 14:05".
    assert re.search(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b", out), out

    code, out, _ = run(capsys, "subscribers", "remove", "jan@voorbeeld.be")
    assert code == 0 and "is nu uitgeschreven en op de blokkeerlijst" in out
    code, out, err = run(capsys, "subscribers", "add", "jan@voorbeeld.be",
                         "--consent-source", "x")
    assert code == 1 and "staat op de blokkeerlijst" in err
    code, out, err = run(capsys, "subscribers", "show", "nobody@voorbeeld.be")
    assert code == 1 and "geen abonnee met het adres" in err


def test_invalid_input_gives_clear_errors(initialised: Database, capsys) -> None:
    for argv, message in (
        (("subscribers", "add", "geen-adres"), "ongeldig e-mailadres"),
        (("subscribers", "add", "a@voorbeeld.be", "--municipality", "Gent"),
         "onbekende gemeente"),
        (("subscribers", "list", "--topic", "koken"), "onbekend thema"),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in err and "Traceback" not in err, argv


def test_missing_secret_key_is_a_config_error(initialised: Database, capsys,
                                              monkeypatch) -> None:
    monkeypatch.delenv("DIGIWEETJES_SECRET_KEY")
    code, _, err = run(capsys, "subscribers", "add", "a@voorbeeld.be")
    assert code == 78 and "DIGIWEETJES_SECRET_KEY" in err


def test_import_dry_run_then_real(initialised: Database, capsys, tmp_path: Path) -> None:
    path = tmp_path / "leden.csv"
    path.write_bytes("E-mailadres;Naam;Gemeente\r\nan@voorbeeld.be;Anaïs Maes;Brugge\r\n"
                     "Bart@voorbeeld.be;Bart;Damme\r\nbart@VOORBEELD.be;Bart 2;Damme\r\n"
                     .encode("cp1252"))
    code, out, err = run(capsys, "subscribers", "import", str(path), "--dry-run")
    assert code == 0, err
    assert "Windows-1252" in out and "puntkomma (;)" in out
    assert "2 zou(den) toegevoegd worden (status: wacht op bevestiging)" in out
    assert "1 dubbel in het bestand" in out and "Proefdraai: er is niets gewijzigd." in out
    with initialised.session() as session:
        assert list_stats(session).total == 0
    code, out, err = run(capsys, "subscribers", "import", str(path))
    assert code == 0, err
    assert "2 toegevoegd (status: wacht op bevestiging)" in out
    assert "2 bevestigingsmail(s) verstuurd." in out
    assert len(list((tmp_path / "outbox" / "transactional").glob("*.eml"))) == 2


def test_import_with_bad_rows_fails_with_every_line(initialised: Database, capsys,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "leden.csv"
    path.write_text("E-mailadres,Naam\nok@voorbeeld.be,Ok\nkapot,X\nnog-kapot,Y\n",
                    encoding="utf-8")
    code, _, err = run(capsys, "subscribers", "import", str(path), "--consent-source",
                       "lijst")
    assert code == 1
    assert "2 rij(en) geweigerd, niets geïmporteerd" in err
    assert "leden.csv, rij 3: ongeldig e-mailadres 'kapot'" in err
    assert "leden.csv, rij 4: " in err
    with initialised.session() as session:
        assert list_stats(session).total == 0
    code, _, err = run(capsys, "subscribers", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "bestaat niet" in err


def test_list_export_stats_erase(initialised: Database, capsys, tmp_path: Path,
                                 env) -> None:
    clock = FixedClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    settings = Settings.from_env(os.environ)
    with initialised.session() as session:
        assert seed_demo_subscribers(session, settings, clock) == DEMO_COUNT
        assert seed_demo_subscribers(session, settings, clock) == 0  # safe to repeat

    code, out, _ = run(capsys, "subscribers", "list", "--municipality", "Brugge")
    assert code == 0
    assert "demo.deelnemer" in out and "Brugge" in out and "Damme" not in out

    code, out, _ = run(capsys, "subscribers", "stats")
    assert code == 0
    assert "actief" in out and str(DEMO_COUNT) in out and "Zuienkerke" in out
    assert "centrum" in out

    target = tmp_path / "export.csv"
    code, out, _ = run(capsys, "subscribers", "export", str(target), "--municipality",
                       "damme", "--status", "active")
    assert code == 0 and "weggeschreven naar" in out
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b";" in data
    lines = data.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + sum(1 for line in lines[1:] if ";Damme;" in line)

    code, out, _ = run(capsys, "subscribers", "export-person", "demo.deelnemer01@example.org")
    assert code == 0
    person = json.loads(out)
    assert person["subscriber"]["name"] == "Demo Deelnemer 1"

    code, out, err = run(capsys, "subscribers", "erase", "demo.deelnemer01@example.org",
                         "--yes")
    assert code == 0, err
    assert "hash met de geheime sleutel" in out
    with initialised.session() as session:
        assert find_subscriber(session, "demo.deelnemer01@example.org") is None
        assert list_stats(session).by_status["erased"] == 1
    # Without --yes the command asks, and "no" changes nothing.
    result = CliRunner().invoke(cli, ["subscribers", "erase", "demo.deelnemer02@example.org"],
                                input="n\n")
    assert result.exit_code == 1 and "Dit kan niet ongedaan gemaakt worden. [j/N]" in result.output
    with initialised.session() as session:
        assert find_subscriber(session, "demo.deelnemer02@example.org") is not None


def test_secret_never_in_output(initialised: Database, capsys, tmp_path: Path) -> None:
    outputs = []
    for argv in (("subscribers", "add", "a@voorbeeld.be"), ("subscribers", "show",
                 "a@voorbeeld.be"), ("subscribers", "stats"), ("subscribers", "add", "kapot"),
                 ("subscribers", "export-person", "a@voorbeeld.be")):
        _, out, err = run(capsys, *argv)
        outputs.append(out + err)
    assert all(SECRET not in text for text in outputs)
    for eml in (tmp_path / "outbox").rglob("*.eml"):
        assert SECRET.encode() not in eml.read_bytes()


def test_demo_command_builds_database_and_subscribers(env, capsys, monkeypatch,
                                                      tmp_path: Path) -> None:
    from digiweetjes.cli import demo as demo_module

    # Only this area's steps: the other areas' steps have their own tests.
    ours = {"subscriber database", "demo subscribers"}
    monkeypatch.setattr(demo_module, "DEMO_STEPS",
                        [step for step in demo_module.DEMO_STEPS if step[0] in ours])
    monkeypatch.delenv("DIGIWEETJES_SECRET_KEY")
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert f"{DEMO_COUNT} fictional demo subscribers added" in out
    assert (tmp_path / ".digiweetjes-secret").exists()
    code, out, err = run(capsys, "demo")
    assert code == 0 and "0 fictional demo subscribers added" in out


def test_the_subregion_option_offers_the_subregions_of_projects_yaml(
        initialised, env, capsys, monkeypatch, tmp_path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    text = (PROJECT_ROOT / "issues" / "projects.yaml").read_text(encoding="utf-8")
    (issues / "projects.yaml").write_text(text.replace("id: west", "id: westkust"),
                                          encoding="utf-8")
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(issues))
    assert run(capsys, "subscribers", "list", "--subregion", "westkust")[0] == 0
    code, _out, err = run(capsys, "subscribers", "list", "--subregion", "west")
    assert code == 2
    assert "'west' is niet een van 'noord', 'centrum', 'westkust'" in err

"""A hostile projects.yaml through the CLI: every command that reads it (check, render, build,
drafts) answers with the file, the line and the field, exits non-zero, shows no traceback and
writes nothing to rendered/ or site/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from digiweetjes.cli import main
from digiweetjes.config import Settings
from digiweetjes.content import display_path
from tests.helpers_content import SAMPLE, issues_copy
from tests.release_support import sent_in

URL_POLICY = "moet een https://-adres of een mailto:-adres zijn (geen javascript:, data: of http:)"


@dataclass(frozen=True)
class Hostile:
    id: str
    old: str            # replaced in the seed's projects.yaml ...
    new: str            # ... by this; the error's line is that of ``at`` in the new file
    at: str
    message: str


CASES = [
    Hostile("source-url-javascript", "source_url: https://e-inclusie.be/",
            'source_url: "javascript:alert(1)"', "source_url:",
            f"source_url: 'javascript:alert(1)' {URL_POLICY}"),
    Hostile("source-url-javascript-mixed-case", "source_url: https://e-inclusie.be/",
            "source_url: ' JaVaScRiPt:alert(1)'", "source_url:",
            f"source_url: 'JaVaScRiPt:alert(1)' {URL_POLICY}"),
    Hostile("source-url-http", "source_url: https://e-inclusie.be/",
            "source_url: http://e-inclusie.be/", "source_url:",
            f"source_url: 'http://e-inclusie.be/' {URL_POLICY}"),
    Hostile("source-url-data", "source_url: https://e-inclusie.be/",
            "source_url: data:text/html;base64,PHNjcmlwdD4=", "source_url:",
            f"source_url: 'data:text/html;base64,PHNjcmlwdD4=' {URL_POLICY}"),
    Hostile("source-url-relative", "source_url: https://e-inclusie.be/",
            "source_url: //elders.example/", "source_url:",
            f"source_url: '//elders.example/' {URL_POLICY}"),
    Hostile("subregion-contact-email-not-an-address",
            "contact_email: caroline.decorte@blankenberge.be",
            'contact_email: "javascript:alert(1)"', "contact_email: \"javascript",
            "region.subregions, item 1, contact_email: 'javascript:alert(1)' is geen e-mailadres"),
    Hostile("update-impossible-date", "      - date: 2022-11-15\n",
            "      - date: 2022-02-30\n", "- date: 2022-02-30",
            "projects, item 3, updates, item 1, date: '2022-02-30' is geen bestaande datum: "
            "schrijf JJJJ-MM-DD"),
    Hostile("period-impossible-date", "      start: 2022-11-15\n", "      start: 2022-11-32\n",
            "start: 2022-11-32",
            "projects, item 3, period.start: '2022-11-32' is geen bestaande datum"),
    Hostile("update-impossible-worded-date", "      - date: oktober 2022\n",
            "      - date: 31 november 2022\n", "- date: 31 november",
            "projects, item 1, updates, item 1, date: '31 november 2022' is geen bestaande datum"),
    Hostile("fact-source-javascript", "      - date: oktober 2022\n",
            "      - date: oktober 2022\n        source: javascript:alert(1)\n",
            "source: javascript",
            "projects, item 1, updates, item 1, source: 'javascript:alert(1)' moet een "
            "https://-adres zijn"),
    Hostile("fact-source-http", "      - date: oktober 2022\n",
            "      - date: oktober 2022\n        source: http://e-inclusie.be/\n",
            "source: http:",
            "projects, item 1, updates, item 1, source: 'http://e-inclusie.be/' moet een https://-adres"),
    Hostile("budget-of-5000-digits", "budget_eur: 50000000", "budget_eur: " + "5" * 5000,
            "budget_eur: 555",
            "projects, item 1, budget_eur: een getal van 5000 cijfers is te lang"),
    Hostile("duplicate-top-level-key", "source_url: https://e-inclusie.be/",
            "source_url: https://e-inclusie.be/\nsource_url: https://elders.example/",
            "source_url: https://elders",
            "source_url: dit veld staat er twee keer (ook op regel 28): laat er één over"),
    Hostile("duplicate-key-in-a-project", "    tier: betrokken\n",
            "    tier: betrokken\n    tier: vinger\n", "tier: vinger",
            "projects, item 1, tier: dit veld staat er twee keer"),
    Hostile("duplicate-subregion-field", "      digibank: Digibank Brugge Noord\n",
            "      digibank: Digibank Brugge Noord\n      digibank: Digibank Elders\n",
            "digibank: Digibank Elders",
            "region.subregions, item 1, digibank: dit veld staat er twee keer"),
]


@pytest.fixture
def env(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = issues_copy(tmp_path, settings)
    (settings.issues_dir / SAMPLE.name).write_text(SAMPLE.read_text(encoding="utf-8"),
                                                   encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGIWEETJES_ROOT", str(tmp_path))
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(settings.issues_dir))
    monkeypatch.setenv("DIGIWEETJES_TEMPLATES_DIR", str(settings.templates_dir))
    settings = settings.with_(database_url=f"sqlite:///{tmp_path / 'subscribers.db'}")
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", settings.database_url)
    sent_in(settings, SAMPLE.stem)  # so that build publishes (and reads) the sample
    return settings


def _edit(settings: Settings, old: str, new: str) -> str:
    text = settings.projects_path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    text = text.replace(old, new, 1)
    settings.projects_path.write_text(text, encoding="utf-8")
    return text


def _line(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


COMMANDS = [
    pytest.param(("check", "1"), 1, id="check"),
    pytest.param(("render", "1"), 65, id="render"),
    pytest.param(("build",), 65, id="build"),
    pytest.param(("drafts",), 65, id="drafts"),
]


@pytest.mark.parametrize(("argv", "exit_code"), COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_projects_file_is_refused_at_its_line(env, capsys, tmp_path, case: Hostile,
                                                      argv: tuple[str, ...],
                                                      exit_code: int) -> None:
    text = _edit(env, case.old, case.new)
    code, _, err = _run(capsys, *argv)
    assert code == exit_code, err
    where = f"{display_path(env.projects_path)}:{_line(text, case.at)}: "
    assert where + case.message in err
    assert not (tmp_path / "rendered").exists() and not (tmp_path / "site").exists()


@pytest.mark.parametrize("case", [c for c in CASES if "date" in c.id or "digits" in c.id
                                  or "duplicate" in c.id], ids=lambda c: c.id)
def test_the_subregion_option_reads_the_region_without_a_traceback(env, capsys, tmp_path,
                                                                     case: Hostile) -> None:
    _edit(env, case.old, case.new)
    code, _, err = _run(capsys, "render", "1", "--subregion", "noord")
    assert code == 65, err
    assert display_path(env.projects_path) in err or str(env.projects_path) in err
    assert not (tmp_path / "rendered").exists()


def test_projects_file_that_is_not_utf8_names_its_line(env, capsys, tmp_path) -> None:
    data = env.projects_path.read_bytes().replace(b"Referentieregio Brugge",
                                                  "Référentieregio".encode("cp1252"), 1)
    env.projects_path.write_bytes(data)
    line = data[:data.index("Référentieregio".encode("cp1252"))].count(b"\n") + 1
    for argv, exit_code in (("check", "1"), 1), (("build",), 65), (("drafts",), 65):
        code, _, err = _run(capsys, *argv)
        assert code == exit_code
        assert (f"{display_path(env.projects_path)}:{line}: is geen UTF-8-tekst: sla het "
                "bestand op als UTF-8") in err
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(("old", "new"), [
    pytest.param("source_url: https://e-inclusie.be/", "source_url: mailto:redactie@e-inclusie.be",
                 id="source-url-mailto"),
    pytest.param("", "\ufeff", id="bom"),
    pytest.param("Referentieregio Brugge", r'"Referentieregio \ue000greeting\ue001 Brugge"',
                 id="yaml-escaped-marker-in-a-name"),
])
def test_harmless_projects_files_pass(env, capsys, tmp_path, old: str, new: str) -> None:
    _edit(env, old, new)  # "" → "\ufeff" puts a byte-order mark before everything
    code, out, err = _run(capsys, "check", "1")
    assert ": in orde (HTML" in out
    assert code == 0, err
    assert _run(capsys, "build")[0] == 0
    site = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    assert "\ue000" not in site and "\ue001" not in site

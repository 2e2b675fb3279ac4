"""Hostile drafts through the CLI: a clear file:line: field message, the exit code, no traceback,
and nothing written to rendered/ or site/ when the draft is refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from digiweetjes.cli import main
from digiweetjes.config import Settings
from digiweetjes.content import display_path
from tests.helpers_content import SAMPLE, issues_copy

NAME = "2027-01-10-test.md"


def draft(*, title: str = '"Test"', number: str = "2", date: str = "2027-01-10",
          status: str = "approved", extra: str = "", body: str = "Tekst.\n") -> str:
    """A draft whose front matter has fixed lines: title 2, number 3, date 4, status 7."""
    return (f"---\ntitle: {title}\nnumber: {number}\ndate: {date}\n"
            f"preheader: Korte samenvatting.\nfeatured: [digibanken]\nstatus: {status}\n"
            f"{extra}---\n{body}")


@dataclass(frozen=True)
class Refused:
    id: str
    content: bytes | str
    message: str   # "{where}" stands for "<file>:<line>: " with the line given below
    line: int | None


REFUSED = [
    Refused("impossible-date", draft(date="2027-02-30"),
            "{where}date: '2027-02-30' is geen bestaande datum: schrijf JJJJ-MM-DD", 4),
    Refused("impossible-month", draft(date="2027-13-01"),
            "{where}date: '2027-13-01' is geen bestaande datum", 4),
    Refused("impossible-send-time", draft(extra="send_at: 2027-01-10 25:00\n"),
            "{where}send_at: moet een datum met tijd zijn (JJJJ-MM-DD UU:MM)", 8),
    Refused("impossible-send-day", draft(extra="send_at: 2027-02-29 09:00:00\n"),
            "{where}send_at: '2027-02-29 09:00:00' is geen bestaande datum", 8),
    Refused("number-of-5000-digits", draft(number="9" * 5000),
            "{where}number: een getal van 5000 cijfers is te lang", 3),
    Refused("number-of-4000-digits", draft(number="9" * 4000),
            "{where}number: moet 999999999 of minder zijn", 3),
    Refused("duplicate-status-key", draft(status="draft", extra="status: approved\n"),
            "{where}status: dit veld staat er twee keer (ook op regel 7): laat er één over", 8),
    Refused("duplicate-title-key", draft(extra='title: "Andere titel"\n'),
            "{where}title: dit veld staat er twee keer (ook op regel 2)", 8),
    Refused("not-utf8", draft(body="Tekst.\n\nCaf\xe9 in cp1252.\n").encode("cp1252"),
            "{where}is geen UTF-8-tekst: sla het bestand op als UTF-8", 11),
    Refused("raw-img-over-http", draft(body='<img src="http://example.org/a.png" alt="Logo">\n'),
            "{where}tekst: bron 'http://example.org/a.png' van <img> is niet toegelaten", 9),
    Refused("raw-img-in-block-later-line",
            draft(body='<div>\n<p>Eerste regel</p>\n<img src="http://e.org/b.png" alt="B">\n'
                       "</div>\n"),
            "{where}tekst: bron 'http://e.org/b.png' van <img> is niet toegelaten", 11),
    Refused("raw-link-over-http", draft(body='Zie <a href="http://example.org">de site</a>.\n'),
            "{where}tekst: link 'http://example.org' in <a> is niet toegelaten", 9),
    Refused("raw-link-entity-encoded-javascript",
            draft(body='Zie <a href="jav&#x61;script&#58;alert(1)">dit</a>.\n'),
            "{where}tekst: link 'javascript:alert(1)' in <a> is niet toegelaten", 9),
    Refused("inline-style-overlay",
            draft(body='<p style="position:fixed;top:0;left:0">Win!</p>\n'),
            "{where}tekst: inline stijl 'position:fixed' in <p> is niet toegelaten", 9),
    Refused("inline-style-background-url",
            draft(body='Tekst <span style="color:red;background:url(http://e.org/t.gif)">x'
                       "</span>.\n"),
            "{where}tekst: inline stijl 'background:url(http://e.org/t.gif)' in <span>", 9),
    Refused("inline-style-css-function",
            draft(body='<td style="color:expression(alert(1))">x</td>\n'),
            "{where}tekst: inline stijl 'color:expression(alert(1))' in <td>", 9),
    Refused("markdown-data-url-link", draft(body="Zie [dit](data:text/html;base64,PHNjcmlwdD4)."
                                                 "\n"),
            "{where}tekst: een javascript:-, vbscript:- of data:-adres is niet toegelaten in een "
            "draft", 9),
    Refused("markdown-http-autolink", draft(body="Zie <http://example.org/>.\n"),
            "{where}tekst: link 'http://example.org/' is niet toegelaten", 9),
]


@pytest.fixture
def env(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = issues_copy(tmp_path, settings)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGIWEETJES_ROOT", str(tmp_path))
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(settings.issues_dir))
    monkeypatch.setenv("DIGIWEETJES_TEMPLATES_DIR", str(settings.templates_dir))
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps table cells to 80 columns off a tty
    return settings


def _write(folder: Path, content: bytes | str, name: str = NAME) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _untouched(root: Path) -> None:
    assert not (root / "rendered").exists()
    assert not (root / "site").exists()


@pytest.mark.parametrize(("command", "exit_code"), [("check", 1), ("render", 65)])
@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_hostile_draft_is_refused_at_its_line(env, capsys, tmp_path, case: Refused,
                                              command: str, exit_code: int) -> None:
    path = _write(env.issues_dir, case.content)
    code, _, err = _run(capsys, command, str(path))
    where = f"{display_path(path)}:{case.line}: " if case.line else f"{display_path(path)}: "
    assert code == exit_code, err
    assert case.message.format(where=where) in err
    _untouched(tmp_path)


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_drafts_lists_a_hostile_draft_beside_the_good_ones(env, capsys, case: Refused) -> None:
    _write(env.issues_dir, case.content)
    _write(env.issues_dir, draft(number="3", date="2027-02-01", title='"Goed"'),
           name="2027-02-01-goed.md")
    code, out, _ = _run(capsys, "drafts")
    assert code == 0
    assert "2027-02-01-goed.md" in out and "Goed" in out
    assert NAME in out and "(zie digiweetjes check)" in out


def test_a_draft_that_is_not_utf8_breaks_no_other_issue(env, capsys, tmp_path) -> None:
    bad = _write(env.issues_dir, draft(number="2", date="2026-01-01", body="Caf\xe9.\n")
                 .encode("latin-1"), name="2026-01-01-kapot.md")
    good = _write(env.issues_dir, (SAMPLE.read_text(encoding="utf-8")),
                  name=SAMPLE.name)
    assert _run(capsys, "check", "1")[0] == 0
    assert _run(capsys, "render", "1")[0] == 0
    assert (tmp_path / "rendered" / f"{good.stem}.html").exists()
    code, out, _ = _run(capsys, "new", "Volgende editie", "--date", "2027-03-01")
    assert code == 0 and "2027-03-01-volgende-editie.md" in out
    assert "number: 3" in (env.issues_dir / "2027-03-01-volgende-editie.md").read_text()
    code, _, err = _run(capsys, "check", "2")
    assert code == 1 and f"{display_path(bad)}:9: is geen UTF-8-tekst" in err


def test_a_draft_that_is_not_utf8_breaks_neither_send_nor_status(env, capsys, tmp_path,
                                                                   monkeypatch) -> None:
    from digiweetjes.db import Database

    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", url)
    monkeypatch.setenv("DIGIWEETJES_SECRET_KEY", "hostile-drafts-secret-key-abcdefgh")
    db = Database(url)
    db.upgrade()
    db.dispose()
    # Sorted before the good one, so that every look-up by number meets it first.
    _write(env.issues_dir, b"---\ntitle: \xff\xfe\nnumber: 5\n---\n", name="2026-01-01-kapot.md")
    _write(env.issues_dir, SAMPLE.read_text(encoding="utf-8"), name=SAMPLE.name)
    assert _run(capsys, "status", "1")[0] == 0
    code, out, _ = _run(capsys, "send", "1", "--dry-run")
    assert code == 0 and "nog niet verstuurd: er zijn nu 0 ontvangers." in out


def test_two_drafts_with_one_number_are_refused_naming_both(env, capsys, tmp_path) -> None:
    first = _write(env.issues_dir, draft(number="7"))
    second = _write(env.issues_dir, draft(number="7", date="2027-02-01"),
                    name="2027-02-01-ander.md")
    code, _, err = _run(capsys, "check", str(second))
    assert code == 1
    assert (f"{display_path(second)}:3: number: nummer 7 staat ook in {first.name}: geef "
            "elke editie een eigen nummer") in err
    code, _, err = _run(capsys, "render", "7")
    assert code == 65
    assert f"nummer 7 staat in meer dan één bestand ({first.name}, {second.name})" in err
    assert main(["init"]) == 0  # the archive reads what was sent from the database
    code, _, err = _run(capsys, "build")
    assert code == 65
    assert f"{display_path(first)}:3: number: nummer 7 staat ook in {second.name}" in err
    assert f"{display_path(second)}:3: number: nummer 7 staat ook in {first.name}" in err
    code, out, _ = _run(capsys, "drafts")
    assert code == 0 and out.count("1 (zie digiweetjes check)") == 2
    _untouched(tmp_path)


@pytest.mark.parametrize(("id_", "content"), [
    ("bom-before-front-matter", "\ufeff" + draft()),
    ("bom-and-crlf", ("\ufeff" + draft()).replace("\n", "\r\n")),
    ("dutch-prose-with-data", draft(body="Belangrijke data: 12 maart en 3 april.\n\n"
                                         "Metadata:uitleg volgt.\n")),
    ("allowed-inline-style", draft(body='<p style="text-align: center; color: #333">Gecentreerd'
                                        "</p>\n")),
    ("https-raw-image", draft(body='<img src="https://e-inclusie.be/logo.png" alt="Logo">\n')),
])
def test_harmless_inputs_pass(env, capsys, tmp_path, id_: str, content: str) -> None:
    path = _write(env.issues_dir, content)
    code, out, err = _run(capsys, "check", str(path))
    assert code == 0, err
    assert ": in orde (HTML" in out


def test_rich_markup_in_a_title_is_printed_as_written(env, capsys) -> None:
    _write(env.issues_dir, draft(title='"Nieuws [/bold] en [red]meer"'))
    code, out, _ = _run(capsys, "drafts")
    assert code == 0 and "Nieuws [/bold] en [red]meer" in out


@pytest.mark.parametrize(("id_", "title", "body"), [
    ("yaml-escape-in-title", r'"Test \ue000greeting\ue001 en \ue000unsubscribe_url\ue001"',
     "Tekst.\n"),
    ("entity-in-raw-link", '"Test"',
     '<a href="https://elders.example/?u=&#xE000;unsubscribe_url&#xE001;">Elders</a>\n'),
    ("decimal-entity-in-text", '"Test"', "Hallo &#57344;greeting&#57345;.\n"),
    ("rust-escape-via-entity", '"Test"',
     '<a href="https://e.example/?u=&#92;u{e000}preferences_url&#92;u{e001}">Elders</a>\n'),
    ("markdown-link-entity", '"Test"',
     "[Elders](https://elders.example/?u=&#xE000;unsubscribe_url&#xE001;)\n"),
])
def test_forged_placeholders_are_never_filled(env, capsys, tmp_path, id_: str, title: str,
                                              body: str) -> None:
    path = _write(env.issues_dir, draft(title=title, body=body))
    assert _run(capsys, "check", str(path))[0] == 0
    assert _run(capsys, "render", str(path), "--name", "Geheime Naam")[0] == 0
    html = (tmp_path / "rendered" / "2027-01-10-test.html").read_text(encoding="utf-8")
    text = (tmp_path / "rendered" / "2027-01-10-test.txt").read_text(encoding="utf-8")
    for part in (html, text):
        assert "\ue000" not in part and "\ue001" not in part and "u{e00" not in part
        assert part.count("VOORBEELD") == 2     # the sample's two personal links, once each
        assert part.count("Geheime Naam") == 1  # the greeting, once
    title_tag = html.split("<title>")[1].split("</title>")[0]
    assert "Geheime" not in title_tag and "VOORBEELD" not in title_tag

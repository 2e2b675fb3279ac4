"""projects.yaml against its source page: every dated fact the readers see is traceable.

``tests/seed/`` holds the public page the data comes from. A fact that names no source of its
own is the seed's: its date, written as the readers see it ("oktober 2022", "voorjaar 2022",
"15 november 2022"), and every number in its text must stand in that project's part of the page.
"""

from __future__ import annotations

import re
from pathlib import Path

from digiweetjes.config import Settings
from digiweetjes.content.projects import ProjectData, load_projects
from digiweetjes.render.formatting import long_date

SEED = Path(__file__).parent / "seed" / "e-inclusie-projectoproepen.txt"
# The heading of each project on the page, in the page's order (projects.yaml keeps it).
HEADINGS = {
    "digibanken": "Digibanken",
    "lokale-besturen-iedereen-digitaal": "Lokale Besturen-Iedereen digitaal",
    "digiscan": "e-inclusion 4 Belgium - OCMW 2022",
    "subsidie-uitrol-e-inclusiebeleid": "Subsidie uitrol e-inclusiebeleid",
    "gemeente-zonder-gemeentehuis": "Gemeente zonder gemeentehuis",
    "city-deal-e-inclusion-by-design": "City Deal ‘E-inclusion by Design’",
    "edusprong": "Edusprong",
    "iedereen-digitaal": "Iedereen Digitaal",
    "digisprong": "Digisprong",
}
END_OF_PROJECTS = "Digiweetjes\n"


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _sections() -> dict[str, str]:
    page = SEED.read_text(encoding="utf-8")
    starts, at = [], page.index("Werkkracht10 is betrokken bij")
    for heading in HEADINGS.values():
        at = page.index(heading, at)
        starts.append(at)
        at += len(heading)
    starts.append(page.index(END_OF_PROJECTS, at))
    return {pid: _plain(page[starts[i]:starts[i + 1]]) for i, pid in enumerate(HEADINGS)}


def untraceable(data: ProjectData) -> list[str]:
    """Each seed-sourced dated fact whose date or numbers the seed's section does not hold."""
    sections, problems = _sections(), []
    for project in data.projects:
        section = sections[project.id]
        facts = [("update", u.date, u.text, u.source) for u in project.updates]
        facts += [(f"period.{name}", value, "", project.period.source)
                  for name, value in (("start", project.period.start),
                                      ("end", project.period.end)) if value is not None]
        for what, when, text, source in facts:
            if source is not None and source != data.default_source:
                continue  # sourced elsewhere: the seed need not hold it
            shown = _plain(long_date(when))
            if not re.search(rf"(?<![\w]){re.escape(shown)}(?![\w])", section):
                problems.append(f"{project.id} {what}: '{shown}' staat niet in de bron")
            for number in re.findall(r"\d+", text):
                if not re.search(rf"(?<!\d){number}(?!\d)", section):
                    problems.append(f"{project.id} {what}: '{number}' staat niet in de bron")
    return problems


def test_the_seed_sections_are_found_in_page_order():
    sections = _sections()
    assert sections["digibanken"].startswith("Digibanken • Budget: 50 miljoen")
    assert "Digiscan" in sections["digiscan"] and "15 november 2022" in sections["digiscan"]
    assert sections["iedereen-digitaal"].startswith("Iedereen Digitaal • Budget: 250.000")
    assert "Kennnis- en adviescentrum" in sections["digisprong"]


def test_every_dated_fact_in_projects_yaml_stands_in_its_source():
    data = load_projects(Settings().projects_path)
    assert sum(len(p.updates) for p in data.projects) >= 5
    assert untraceable(data) == []


def _edited(tmp_path: Path, old: str, new: str) -> ProjectData:
    text = Settings().projects_path.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "projects.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_projects(path)


def test_invented_precision_is_caught(tmp_path):
    data = _edited(tmp_path, "      - date: oktober 2022\n", "      - date: 2022-10-01\n")
    assert untraceable(data) == ["digibanken update: '1 oktober 2022' staat niet in de bron"]
    data = _edited(tmp_path, "      start: voorjaar 2022\n", "      start: 2022-04-01\n")
    assert untraceable(data) == [
        "lokale-besturen-iedereen-digitaal period.start: '1 april 2022' staat niet in de bron"]


def test_an_event_the_source_does_not_date_is_caught(tmp_path):
    data = _edited(tmp_path, "    thresholds: [design]\n",
                   "    thresholds: [design]\n"
                   "    updates:\n"
                   "      - date: 2022-09-30\n"
                   "        text: De zevende en laatste oproep is afgesloten.\n")
    assert untraceable(data) == [
        "gemeente-zonder-gemeentehuis update: '30 september 2022' staat niet in de bron"]


def test_a_number_the_source_does_not_give_is_caught(tmp_path):
    data = _edited(tmp_path, "werd ingediend voor 3 jaar.",
                   "werd ingediend voor 5 jaar.")
    assert untraceable(data) == ["digiscan update: '5' staat niet in de bron"]


def test_a_fact_with_a_source_of_its_own_need_not_stand_in_the_seed(tmp_path):
    data = _edited(tmp_path, "    thresholds: [design]\n",
                   "    thresholds: [design]\n"
                   "    updates:\n"
                   "      - date: 2027-01-15\n"
                   "        text: Een nieuwe oproep is gelanceerd.\n"
                   "        source: https://www.vlaanderen.be/gemeente-zonder-gemeentehuis\n")
    assert untraceable(data) == []

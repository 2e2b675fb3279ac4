from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digiweetjes.config import Settings
from digiweetjes.content.projects import Tier, load_projects
from digiweetjes.errors import ContentError, ContentErrors
from digiweetjes.render.formatting import long_date

PROJECTS = Settings().projects_path


def test_all_nine_project_calls_of_the_seed_with_their_tier_and_budget():
    data = load_projects(PROJECTS)
    by_id = {p.id: p for p in data.projects}
    assert len(by_id) == 9
    expected = {
        "digibanken": (Tier.BETROKKEN, 50_000_000, "Jo Brouns"),
        "lokale-besturen-iedereen-digitaal": (Tier.BETROKKEN, 50_000_000, "Bart Somers"),
        "digiscan": (Tier.BETROKKEN, 6_000_000, "Karine Lalieux"),
        "subsidie-uitrol-e-inclusiebeleid": (Tier.VOELING, 19_000_000, "Bart Somers"),
        "gemeente-zonder-gemeentehuis": (Tier.VOELING, None, None),
        "city-deal-e-inclusion-by-design": (Tier.VOELING, 2_890_000, "Bart Somers"),
        "edusprong": (Tier.VINGER, 60_000_000, "Ben Weyts"),
        "iedereen-digitaal": (Tier.VINGER, 250_000, "Benjamin Dalle"),
        "digisprong": (Tier.VINGER, 375_000_000, "Ben Weyts"),
    }
    for project_id, (tier, budget, minister) in expected.items():
        project = by_id[project_id]
        assert (project.tier, project.budget_eur, project.minister) == (tier, budget, minister)


def test_tiers_group_in_seed_order():
    grouped = load_projects(PROJECTS).by_tier()
    assert [tier for tier, _ in grouped] == [Tier.BETROKKEN, Tier.VOELING, Tier.VINGER]
    assert [len(projects) for _, projects in grouped] == [3, 3, 3]
    assert grouped[0][0].label == "Werkkracht10 is betrokken bij"


def test_four_thresholds_and_every_project_addresses_at_least_one():
    data = load_projects(PROJECTS)
    assert [t.name for t in data.thresholds] == [
        "Digitale toegang", "Digitale competenties", "Netwerk en ondersteuning",
        "Toegankelijk digitaal design"]
    assert all(p.thresholds for p in data.projects)


def test_region_has_ten_municipalities_in_three_digibank_subregions():
    region = load_projects(PROJECTS).region
    assert len(region.municipalities) == 10
    assert region.subregion_of("Knokke-Heist").id == "noord"
    assert region.subregion_of("Brugge").contact_email == "isabel.jorion@ocmw-brugge.be"
    assert region.subregion_of("Torhout").digibank == "Digibank Brugge West"
    assert region.canonical_municipality(" knokke heist ") == "Knokke-Heist"
    assert region.canonical_municipality("Gent") is None


def test_updates_since_a_date_are_newest_first_at_the_precision_of_the_source():
    data = load_projects(PROJECTS)
    changed = data.updates_since(date(2022, 10, 15))
    # "oktober 2022" may lie after 15 oktober: it still counts as new (see sourcedates).
    assert [(p.id, u.date.isoformat()) for p, u in changed] == [
        ("digibanken", "2023"),
        ("digiscan", "2022-11-15"),
        ("subsidie-uitrol-e-inclusiebeleid", "2022-11-01"),
        ("digibanken", "2022-10"),
    ]
    after_october = data.updates_since(date(2022, 10, 31))
    assert ("digibanken", "2022-10") not in [(p.id, u.date.isoformat()) for p, u in after_october]
    assert [u.date.isoformat() for _, u in data.updates_since(date(2023, 12, 30))] == ["2023"]
    assert data.updates_since(date(2023, 12, 31)) == []


def test_latest_update_is_the_newest_by_the_source_precision():
    by_id = {p.id: p for p in load_projects(PROJECTS).projects}
    assert long_date(by_id["digibanken"].latest_update.date) == "2023"
    assert long_date(by_id["lokale-besturen-iedereen-digitaal"].latest_update.date) == (
        "voorjaar 2022")


def test_every_dated_fact_carries_a_source():
    data = load_projects(PROJECTS)
    assert data.default_source is not None and data.default_source.url == "https://e-inclusie.be/"
    for project in data.projects:
        for update in project.updates:
            assert update.source is not None and update.source.text, project.id
        if project.period.start or project.period.end:
            assert project.period.source is not None, project.id


def test_a_fact_names_its_own_source_as_a_link_or_a_text(tmp_path):
    path = _broken(tmp_path, "      - date: 2023\n",
                   "      - date: 2023\n        source: https://www.vlaanderen.be/digibanken/\n")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "      - date: 2022-11-15\n",
        "      - date: 2022-11-15\n        source: Verslag werkgroep, 20 november 2022\n"),
        encoding="utf-8")
    by_id = {p.id: p for p in load_projects(path).projects}
    own = by_id["digibanken"].updates[1].source
    assert (own.text, own.url) == ("vlaanderen.be/digibanken", "https://www.vlaanderen.be/digibanken/")
    text_only = by_id["digiscan"].updates[0].source
    assert (text_only.text, text_only.url) == ("Verslag werkgroep, 20 november 2022", None)
    assert by_id["digibanken"].updates[0].source.url == "https://e-inclusie.be/"


def test_tier_labels_read_as_dutch_before_deze_e_inclusieprojecten():
    assert [f"{t.label} deze e-inclusieprojecten" for t in Tier] == [
        "Werkkracht10 is betrokken bij deze e-inclusieprojecten",
        "Werkkracht10 houdt voeling met deze e-inclusieprojecten",
        "Werkkracht10 houdt de vinger aan de pols bij deze e-inclusieprojecten",
    ]
    assert Tier.VINGER.heading == "Werkkracht10 houdt de vinger aan de pols"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = PROJECTS.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "projects.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_budget_as_text_names_file_line_and_field(tmp_path):
    path = _broken(tmp_path, "budget_eur: 6000000", "budget_eur: 6 miljoen")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    message = str(caught.value)
    assert f"projects.yaml:{_line_of(path, '6 miljoen')}: projects, item 3, budget_eur: " in message
    assert "schrijf het bedrag als getal in hele euro: 6000000" in message


@pytest.mark.parametrize(("written", "hint"), [
    ("50.000.000", "schrijf het bedrag zonder punten: 50000000"),
    ('"50 000 000"', "schrijf het bedrag zonder punten: 50000000"),
    ("2,89 miljoen", "schrijf het bedrag als getal in hele euro: 2890000"),
    ("€ 6 miljoen", "schrijf het bedrag als getal in hele euro: 6000000"),
    # YAML made this one the float 250.0: the points are lost
    ("250.000", "schrijf het bedrag in hele euro, zonder punten of komma's"),
    ("veel", "moet een getal zijn"),
])
def test_a_budget_written_another_way_gets_the_expected_form(tmp_path, written, hint):
    path = _broken(tmp_path, "budget_eur: 6000000", f"budget_eur: {written}")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    assert f":{_line_of(path, f'budget_eur: {written}')}: projects, item 3, budget_eur: {hint}" in (
        str(caught.value))


def test_an_imprecise_or_mistyped_date_is_refused_in_dutch_at_its_line(tmp_path):
    path = _broken(tmp_path, "start: voorjaar 2022", "start: voorjar 2022")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    assert str(caught.value).startswith(
        f"{path}:{_line_of(path, 'voorjar 2022')}: projects, item 2, period.start: "
        "'voorjar 2022' is geen datum die ik ken (bedoelde je 'voorjaar 2022'?): "
        "schrijf 2022-10-01")


def test_unknown_tier_and_unknown_field_are_both_reported(tmp_path):
    path = _broken(tmp_path, "tier: vinger", "tier: duim")
    text = path.read_text(encoding="utf-8").replace("target_group: OCMW's",
                                                    "target_group: OCMW's\n    colour: red")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentErrors) as caught:
        load_projects(path)
    lines = str(caught.value).splitlines()
    assert any(f":{_line_of(path, 'tier: duim')}: projects, item 7, tier:" in line
               for line in lines)
    assert any(f":{_line_of(path, 'colour: red')}: projects, item 3, colour: is geen bekend veld"
               in line for line in lines)


def test_unknown_threshold_reference_points_at_its_line(tmp_path):
    path = _broken(tmp_path, "thresholds: [competenties]", "thresholds: [knoppenkennis]")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    assert str(caught.value).startswith(
        f"{path}:{_line_of(path, '[knoppenkennis]')}: projects, item 7, thresholds, item 1: "
        "onbekende drempel 'knoppenkennis'")


def test_mistyped_threshold_and_subregion_get_the_likely_one(tmp_path):
    path = _broken(tmp_path, "thresholds: [competenties]", "thresholds: [competentie]")
    with pytest.raises(ContentError, match="onbekende drempel 'competentie' "
                       r"\(bedoelde je 'competenties'\?\)"):
        load_projects(path)
    path = _broken(tmp_path, "subregion: centrum", "subregion: centum")
    with pytest.raises(ContentError, match="onbekende subregio 'centum' "
                       r"\(bedoelde je 'centrum'\?\)"):
        load_projects(path)


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = _broken(tmp_path, "  - id: edusprong\n", "  - id: edusprong\n   name: [unclosed\n")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    assert "ongeldige YAML" in str(caught.value)
    assert caught.value.line is not None and caught.value.line > 200


def test_missing_required_field_names_the_project(tmp_path):
    path = _broken(tmp_path, "    target_group: volwassen bevolking\n", "")
    with pytest.raises(ContentError) as caught:
        load_projects(path)
    assert "projects, item 1, target_group: ontbreekt: dit veld is verplicht" in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ContentError, match="kan niet gelezen worden"):
        load_projects(tmp_path / "nope.yaml")

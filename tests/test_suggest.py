"""The closest-name hint used by error messages."""

from digiweetjes.suggest import closest, did_you_mean

PROJECTS = ["digibanken", "digiscan", "digisprong", "relance-cultuur"]
PLACES = ["Blankenberge", "Knokke-Heist", "Brugge", "Zedelgem"]


def test_a_typo_finds_the_closest_name() -> None:
    assert closest("digiscna", PROJECTS) == "digiscan"
    assert did_you_mean("digiscna", PROJECTS) == " (bedoelde je 'digiscan'?)"


def test_case_accents_and_spacing_are_ignored() -> None:
    assert closest("knokke heist", PLACES) == "Knokke-Heist"
    assert closest("Brúgge", PLACES) == "Brugge"


def test_nothing_close_gives_no_hint() -> None:
    assert closest("Antwerpen", PLACES) is None
    assert did_you_mean("Antwerpen", PLACES) == ""
    assert did_you_mean("", PLACES) == ""


def test_an_exact_name_gives_no_hint() -> None:
    assert did_you_mean("Brugge", PLACES) == ""

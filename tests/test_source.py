from __future__ import annotations

from datetime import date

import pytest

from digiweetjes.content.source import (
    next_draft_number,
    peek_status,
    read_all_issues,
    read_each_draft,
    read_issue,
)
from digiweetjes.errors import ContentError, ContentErrors
from tests.helpers_content import issues_copy, write_draft

CONCEPT = """---
title: "Concept"
number: 3
date: 2023-03-01
preheader: Nog niet klaar.
status: draft
---
"""


@pytest.fixture
def issues(tmp_path, settings):
    """A folder with two approved issues and one concept."""
    folder = issues_copy(tmp_path, settings).issues_dir
    write_draft(folder, "Eerste.\n", date="2022-10-20", slug="een", number=1)
    write_draft(folder, "Tweede.\n", date="2023-02-01", slug="twee", number=2)
    write_draft(folder, "Bezig.\n", date="2023-03-01", slug="drie", front=CONCEPT)
    return folder


def test_read_issue_resolves_a_number_and_knows_the_previous_date(issues):
    source = read_issue(issues, "2")
    assert source.issue_id == "2023-02-01-twee"
    assert source.previous_date == date(2022, 10, 20)
    assert read_issue(issues, "1").previous_date is None
    assert source.projects.get("digibanken") is not None


def test_read_issue_takes_a_path_as_given(issues):
    with pytest.raises(ContentError, match="kan niet gelezen worden"):
        read_issue(issues, issues / "2023-04-01-weg.md")


def test_read_all_issues_reads_projects_once_and_leaves_concepts_unread(issues):
    folder = read_all_issues(issues, include_unapproved=False)
    assert [s.issue_id for s in folder.issues] == ["2022-10-20-een", "2023-02-01-twee"]
    assert folder.unapproved == (("2023-03-01-drie.md", "draft"),)
    assert all(s.projects is folder.projects for s in folder.issues)
    everything = read_all_issues(issues)
    assert [s.previous_date for s in everything.issues] == [
        None, date(2022, 10, 20), date(2023, 2, 1)]
    assert everything.unapproved == ()


def test_read_each_draft_keeps_going_past_a_broken_draft(issues):
    broken = write_draft(issues, "", date="2023-04-01", slug="kapot",
                         front="---\ntitle: x\nnumber: 4\n---\n")
    results = dict(read_each_draft(issues))
    assert isinstance(results[broken], ContentErrors)
    assert sum(not isinstance(r, ContentError) for r in results.values()) == 3


def test_next_number_and_status_peek(issues):
    assert next_draft_number(issues) == 4
    assert peek_status(issues / "2023-03-01-drie.md") == "draft"
    assert peek_status(issues / "2023-02-01-twee.md") == "approved"
    (issues / "2023-05-01-stuk.md").write_bytes(b"\xff\xfe")
    assert peek_status(issues / "2023-05-01-stuk.md") == "approved"  # full load reports it

"""One rule for grouped campaigns and merged duplicates (reports/entries.py), on the results page, in the table
of comments (DOCX), the comparative table's numbers and the spreadsheet list; and the part accepted shown in
the reader's language with a visible note when it is not."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document as read_docx
from sqlalchemy import select

from eventreg.consultation.comparative import comment_numbers
from eventreg.db import unit_of_work
from eventreg.models import Comment
from eventreg.moderation import services as moderation
from eventreg.reports.services import publish_results
from tests.auth_helpers import login_as, make_user
from tests.factories import make_comment, make_consultation, make_document, make_item
from tests.reports.test_reports import read_csv, read_xlsx

CAMPAIGN = "Квоту для женщин в местных кенешах поднять до 30 процентов"
ORGANISATIONS = [
    "ОО «Үмүт»",
    "Ассоциация «Аялдар лидерлиги»",
    "ОФ «Ак-Жол»",
    "ЖӨБ Кара-Суу",
    "Союз предпринимательниц",
    "Профсоюз работников образования",
]
REGIONS = ["KG-N", "KG-O", "KG-B", "KG-J", "KG-T", "KG-C"]


@pytest.fixture
def campaign(db_session):
    """Six near-identical comments from six organisations grouped and decided together, one of them sent
    twice (a merged duplicate), and one comment of its own on another clause."""
    consultation = make_consultation(db_session)
    document = make_document(db_session, consultation, numbers=(), version=2)
    quota = make_item(db_session, document, "3.4", 1)
    other = make_item(db_session, document, "5.1", 2)
    members = [
        make_comment(
            db_session,
            document,
            quota,
            body=CAMPAIGN + ("." if n % 2 else "!"),
            organisation=organisation,
            region=region,
            author_name=f"Автор {n}",
            language="ky" if n % 2 else "ru",
            kind="objection",
            status="published",
        )
        for n, (organisation, region) in enumerate(zip(ORGANISATIONS, REGIONS, strict=True))
    ]
    twice = make_comment(
        db_session, document, quota, body=CAMPAIGN, organisation=ORGANISATIONS[0], kind="objection"
    )
    single = make_comment(
        db_session,
        document,
        other,
        kind="support",
        body="Поддерживаем пункт 5.1",
        organisation="Министерство труда",
        status="published",
    )
    organiser = make_user(db_session, role="organiser")
    with unit_of_work(db_session):
        group = moderation.create_group(db_session, [m.id for m in members], "", by=organiser)
        moderation.merge_comment(db_session, twice.id, members[0].id, by=organiser)
        moderation.decide_group(
            db_session,
            group.id,
            "partly_accepted",
            {"ru": "Учтено частично", "ky": "Жарым-жартылай эске алынды", "en": "Partly taken in"},
            {"ru": "Квота 30 процентов", "ky": "30 пайыздык квота", "en": "The 30 per cent quota"},
            by=organiser,
        )
        # The single comment's part was written in Russian only: other readers see it with a note.
        moderation.decide_comment(
            db_session,
            single.id,
            "partly_accepted",
            {"ru": "Учтено", "ky": "Эске алынды"},
            {"ru": "Первая часть"},
            by=organiser,
        )
        publish_results(db_session, document.id, organiser)
    return consultation, document, members, twice, single


def test_results_page_lists_a_campaign_once_with_its_count_and_organisations(app, db_session, campaign):
    consultation, document, members, twice, single = campaign
    page = app.test_client().get(f"/en/results/{consultation.slug}/{document.key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count(CAMPAIGN) == 1  # once, not six times
    assert "6 comments with this text, from:" in html
    for organisation in ORGANISATIONS:
        assert html.count(organisation) == 1, organisation
    assert "1 duplicate merged into it" in html
    # the counts above the entries add up to the entries: six on 3.4, one on 5.1; the duplicate is not one more
    counts = re.findall(r'class="heard-counts">(\d+) comments?', html)
    assert counts == ["6", "1"]
    assert "The 30 per cent quota" in html and "Partly taken in" in html


def test_document_page_and_api_count_the_campaign_as_the_results_page_does(app, db_session, campaign):
    consultation, document, members, twice, single = campaign
    client = app.test_client()
    html = client.get(f"/en/consultation/{consultation.slug}/{document.key}").get_data(as_text=True)
    # six comments on 3.4 and one on 5.1: the duplicate merged into one of the six is not a seventh
    assert re.findall(r'class="count">(\d+) comments?', html) == ["6", "1"]
    counts = client.get(f"/api/v1/consultations/{consultation.slug}/counts").get_json()
    assert counts["comments"]["received"] == 7


def test_results_page_in_kyrgyz_shows_the_part_in_kyrgyz_or_says_it_is_not(app, db_session, campaign):
    consultation, document, *_ = campaign
    html = app.test_client().get(f"/ky/results/{consultation.slug}/{document.key}").get_data(as_text=True)
    assert "30 пайыздык квота" in html and "Квота 30 процентов" not in html
    # the single comment's part exists only in Russian: shown in Russian, marked as such, with a note
    part = html[html.index("Первая часть") - 200 : html.index("Первая часть") + 400]
    assert '<span lang="ru">Первая часть</span>' in part
    assert 'class="fallback-note"' in part


def test_table_of_comments_has_the_campaign_in_one_row_and_the_same_counts(client, app, db_session, campaign):
    consultation, document, members, twice, single = campaign
    login_as(client, app, make_user(db_session, role="analyst"))
    response = client.get(f"/en/reports/comments.docx?document={document.id}")
    assert response.status_code == 200
    doc = read_docx(io.BytesIO(response.get_data()))
    title_page = "\n".join(p.text for p in doc.paragraphs)
    assert "Comments and proposals: 7" in title_page
    assert "Rows in the table (near-identical comments listed once): 2" in title_page
    assert "Duplicates merged into the comments listed: 1" in title_page
    (table,) = doc.tables
    header, *rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert len(rows) == 2
    quota, other = rows
    assert [row[0] for row in rows] == ["1", "2"]
    assert sum(CAMPAIGN in row[3] for row in rows) == 1
    assert "(6 comments with this text)" in quota[3] and "1 duplicate merged into it" in quota[3]
    authors = quota[5].split("\n")
    assert len(authors) == 6 and [a.split(",")[0] for a in authors] == ORGANISATIONS
    assert quota[6] == "Partly accepted: The 30 per cent quota" and quota[7] == "Partly taken in"
    assert "comments with this text" not in other[3]
    # the same counts as the results page: 6 + 1 comments in the rows, 7 stated on the title page
    counts = [int(m.group(1)) if (m := re.search(r"\((\d+) comments", row[3])) else 1 for row in rows]
    assert sum(counts) == 7

    # In Kyrgyz the single comment's part exists only in Russian: the table names the language it is in.
    in_kyrgyz = read_docx(
        io.BytesIO(client.get(f"/ky/reports/comments.docx?document={document.id}").get_data())
    )
    kyrgyz_rows = [[cell.text for cell in row.cells] for row in in_kyrgyz.tables[0].rows]
    assert kyrgyz_rows[1][6].endswith(": 30 пайыздык квота")
    assert kyrgyz_rows[2][6].endswith(": Первая часть (Русский)")

    # The comparative table cites comments by these numbers: every member and the duplicate are row 1.
    with app.test_request_context("/en/"):
        numbers = comment_numbers(db_session, document, "en")
    assert {numbers[c.id][0] for c in [*members, twice]} == {1} and numbers[single.id][0] == 2


def test_spreadsheet_keeps_one_row_per_comment_with_the_group_and_duplicates(
    client, app, db_session, campaign
):
    consultation, document, members, twice, single = campaign
    login_as(client, app, make_user(db_session, role="analyst"))
    header, *rows = read_csv(client.get(f"/en/reports/comments.csv?document={document.id}"))
    assert len(rows) == 7  # the six of the campaign and the single one; the merged duplicate is not a row
    group, duplicates = (
        header.index("Group of near-identical comments"),
        header.index("Duplicates merged into it"),
    )
    in_group = [row for row in rows if row[group]]
    assert len(in_group) == 6 and len({row[group] for row in in_group}) == 1
    assert CAMPAIGN[:40] in in_group[0][group]  # the group's name is its first comment's text
    by_id = {int(row[0]): row for row in rows}
    assert by_id[members[0].id][duplicates] == "1" and by_id[members[1].id][duplicates] == "0"
    workbook = read_xlsx(client.get(f"/ky/reports/comments.xlsx?document={document.id}"))
    sheet = workbook.worksheets[0]
    assert sheet.max_row == 8
    # the single comment's part was written in Russian only: the Kyrgyz workbook says so, as the DOCX does
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "Первая часть (Русский)" in cells
    assert db_session.scalar(select(Comment.status).where(Comment.id == twice.id)) == "merged"


def test_group_decision_needs_the_part_in_every_members_language(db_session, campaign):
    consultation, document, members, *_ = campaign
    group_id = db_session.get(Comment, members[0].id).group_id
    organiser = make_user(db_session, role="organiser")
    with pytest.raises(moderation.PartRequired) as refused, unit_of_work(db_session):
        moderation.decide_group(
            db_session, group_id, "partly_accepted", {}, {"ru": "Квота", "en": "Quota"}, by=organiser
        )
    assert refused.value.languages == ["ky"]


def test_a_large_campaign_shows_its_first_authors_and_the_rest_behind_a_summary(app, db_session):
    consultation = make_consultation(db_session)
    document = make_document(db_session, consultation, numbers=(), version=2)
    clause = make_item(db_session, document, "3.4", 1)
    members = [
        make_comment(
            db_session,
            document,
            clause,
            body=CAMPAIGN,
            organisation=f"Айылдык аялдар кеңеши №{n}",
            kind="objection",
            status="published",
        )
        for n in range(1, 12)
    ]
    organiser = make_user(db_session, role="organiser")
    with unit_of_work(db_session):
        group = moderation.create_group(db_session, [m.id for m in members], "", by=organiser)
        moderation.decide_group(
            db_session, group.id, "noted", {"ru": "Принято к сведению"}, None, by=organiser
        )
        publish_results(db_session, document.id, organiser)
    html = app.test_client().get(f"/ky/results/{consultation.slug}/{document.key}").get_data(as_text=True)
    shown, rest = html.split("<details", 1)
    assert shown.count("Айылдык аялдар кеңеши №") == 8
    summary = re.search(r"<summary>([^<]+)</summary>", rest).group(1)
    assert summary == "жана дагы 3"
    assert all(f"кеңеши №{n}," in rest for n in (9, 10, 11))  # nobody is left out, only folded away

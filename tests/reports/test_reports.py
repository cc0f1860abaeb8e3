"""Reports for the ministry: dashboards, every download opened with a real reader, the public results page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from docx import Document as read_docx
from openpyxl import load_workbook
from sqlalchemy import select

from eventreg.models import AuditEntry, OutboxMessage
from eventreg.reports import exports
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token
from tests.factories_reports import (
    FORMULA_ORGANISATION,
    KYRGYZ_BODY,
    KYRGYZ_JUSTIFICATION,
    build_scenario,
)

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def scenario(db_session):
    return build_scenario(db_session)


def staff(client, app, db_session, role):
    return login_as(client, app, make_user(db_session, role=role))


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    data = response.get_data()
    assert data.startswith(BOM), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"))))


def read_xlsx(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.get_data()))


def assert_download(response, extension):
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.rstrip('"').endswith(f".{extension}")
    assert "no-store" in response.headers["Cache-Control"]


# --- the shared helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_every_formula_start(payload):
    assert exports.neutralise(payload) == "'" + payload


def test_neutralise_keeps_plain_text_and_numbers():
    assert exports.neutralise("Өзгөртүү ң") == "Өзгөртүү ң"
    assert exports.neutralise(-2) == -2
    assert exports.neutralise(None) is None


# --- comments ------------------------------------------------------------------------------------------


def test_comments_csv_for_an_organiser(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    response = client.get(f"/en/reports/comments.csv?document={scenario.document.id}")
    assert_download(response, "csv")
    header, *rows = read_csv(response)
    assert header[:6] == [
        "No.",
        "Item",
        "Current draft text",
        "Kind of comment",
        "Comment or proposal",
        "Proposed wording",
    ]
    assert "E-mail" in header
    assert len(rows) == 5  # the hidden spam comment is not reported
    # document order: the whole document first, then 1, 3.1, 3.1, 3.2
    assert [row[1] for row in rows] == ["", "1", "3.1", "3.1", "3.2"]
    named = next(row for row in rows if row[0] == str(scenario.comments["named"].id))
    assert named[header.index("Comment or proposal")] == "'" + KYRGYZ_BODY
    assert named[header.index("Proposed wording")].startswith("'-2")
    assert named[header.index("Organisation")] == "'" + FORMULA_ORGANISATION
    assert named[header.index("E-mail")] == "aigul@example.kg"
    assert named[header.index("Decision")] == "Partly accepted"
    assert named[header.index("Source")] == "Paper form"
    assert named[header.index("Session")] == "Consultation in Naryn"
    unnamed = next(row for row in rows if row[0] == str(scenario.comments["unnamed"].id))
    assert unnamed[header.index("Comment or proposal")].startswith("'@SUM")


def test_comments_csv_in_kyrgyz_keeps_kyrgyz_letters(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    header, *rows = read_csv(client.get(f"/ky/reports/comments.csv?document={scenario.document.id}"))
    named = next(row for row in rows if row[0] == str(scenario.comments["named"].id))
    assert KYRGYZ_JUSTIFICATION in named
    assert "3.1-пункттун долбоордогу тексти: өнүгүү" in named


def test_analyst_gets_no_email_or_phone(client, app, db_session, scenario):
    staff(client, app, db_session, "analyst")
    header, *rows = read_csv(client.get("/en/reports/comments.csv"))
    assert "E-mail" not in header
    assert not any("@example.kg" in cell for row in rows for cell in row)
    sheet = read_xlsx(client.get("/en/reports/comments.xlsx")).active
    assert "E-mail" not in [cell.value for cell in sheet[1]]
    header, *rows = read_csv(client.get("/en/reports/participants.csv"))
    assert "E-mail" not in header and "Phone" not in header
    assert not any("+996" in cell for row in rows for cell in row)


def test_comments_xlsx_stores_formula_like_text_as_text_with_frozen_header(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    response = client.get("/en/reports/comments.xlsx")
    assert_download(response, "xlsx")
    sheet = read_xlsx(response).active
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 5
    # Text that starts like a formula is kept as typed, with no apostrophe, and typed as a string.
    risky = [
        cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@"))
    ]
    assert {cell.value for cell in risky} >= {FORMULA_ORGANISATION, KYRGYZ_BODY}
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in risky)
    assert not any(isinstance(cell.value, str) and cell.value.startswith("'") for cell in cells)
    assert all(isinstance(row[0], int) for row in rows)  # comment numbers are numbers
    assert sheet.column_dimensions["E"].width == 60
    assert header[4] == "Comment or proposal"


# --- dashboards agree with downloads ---------------------------------------------------------------------


def test_feedback_dashboard_numbers_equal_the_downloads_under_the_same_filter(
    client, app, db_session, scenario
):
    staff(client, app, db_session, "analyst")
    query = f"document={scenario.document.id}&region=KG-N"
    page = client.get(f"/en/reports/feedback?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = int(re.search(r'class="total-comments">(\d+)<', html).group(1))
    waiting = int(re.search(r'class="total-waiting">(\d+)<', html).group(1))
    items = int(re.search(r'class="total-items">(\d+)<', html).group(1))
    assert (shown, waiting) == (3, 1)
    header, *rows = read_csv(client.get(f"/en/reports/comments.csv?{query}"))
    item_column = header.index("Item")
    assert items == len(
        {row[item_column] for row in rows if row[item_column]}
    )  # whole-document comments aside
    # the page's download links carry the filters
    assert f"/en/reports/comments.csv?document={scenario.document.id}&amp;region=KG-N" in html
    _header, *rows = read_csv(client.get(f"/en/reports/comments.csv?{query}"))
    assert len(rows) == shown
    workbook = read_xlsx(client.get(f"/en/reports/summary.xlsx?{query}"))
    by_kind = workbook["Comments by kind"]
    assert by_kind.freeze_panes == "A2"
    total = [cell.value for cell in list(by_kind.iter_rows())[-1]]
    assert total[0] == "Total" and total[1] == shown
    assert isinstance(total[1], int)
    waiting_col = [cell.value for cell in by_kind[1]].index("Waiting for a decision")
    assert total[waiting_col] == waiting
    # the chart's table says the same
    assert re.search(r"<th scope=\"row\">Objection</th><td class=\"num\">1</td>", html)
    assert workbook["All comments"].max_row == shown + 1


def test_comments_per_item_most_discussed_first(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    workbook = read_xlsx(client.get(f"/en/reports/summary.xlsx?document={scenario.document.id}"))
    sheet = workbook["Comments per item…"]  # cut at a word, within 31 characters
    first_row = [cell.value for cell in sheet[2]]
    assert first_row[0].startswith("3.1") and first_row[1] == 2


def test_summary_workbook_headers_follow_the_language(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    workbook = read_xlsx(client.get("/ru/reports/summary.xlsx"))
    assert len(workbook.sheetnames) >= 12
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
    english = read_xlsx(client.get("/en/reports/summary.xlsx"))
    assert "Comments by sector" in english.sheetnames
    assert english["Comments by sector"]["A1"].value == "Sector"


def test_comments_over_time_per_day_and_week(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    html = client.get("/en/reports/feedback?period=week").get_data(as_text=True)
    assert "Comments per week" in html
    html = client.get("/en/reports/feedback").get_data(as_text=True)
    assert "Comments per day" in html


def test_bad_filters_get_a_message_not_an_error(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    page = client.get("/en/reports/feedback?region=XX&date_from=12.10.2021&document=99999")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Please choose one of the options offered." in html
    assert "Please enter a date like 2021-10-12." in html
    assert client.get("/en/reports/comments.csv?sex=robot").status_code == 400


def test_reports_need_a_staff_login(client, app, db_session, scenario):
    assert client.get("/en/reports/").status_code in (302, 401)
    assert client.get("/en/reports/comments.csv").status_code in (302, 401)
    db_session.expire_all()
    user = make_user(db_session, role="analyst")
    login_as(client, app, user)
    assert client.get("/en/reports/results").status_code == 403


# --- participation ----------------------------------------------------------------------------------------


def _participation_total(html: str, section: str) -> list[int]:
    block = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    footer = block.split("<tfoot>", 1)[1]
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', footer)]


def test_participation_counts_and_unique_people(client, app, db_session, scenario):
    staff(client, app, db_session, "analyst")
    html = client.get("/en/reports/").get_data(as_text=True)
    # registered, attended, waitlisted, cancelled, then registered and attended by sex
    assert _participation_total(html, "participation_region")[:4] == [2, 1, 1, 1]
    unique = client.get("/en/reports/?unique=1").get_data(as_text=True)
    # Айгүл registered for both sessions: one person, not two
    assert _participation_total(unique, "participation_region")[:4] == [1, 1, 1, 1]
    assert _participation_total(unique, "participation_session")[:4] == [1, 1, 1, 1]
    workbook = read_xlsx(client.get("/en/reports/participants.xlsx?unique=1"))
    sheet = workbook["Participation by sex — unique…"]
    total = [cell.value for cell in list(sheet.iter_rows())[-1]]
    assert total[:5] == ["Total", 1, 1, 1, 1]


def test_participant_list_is_an_attendance_sheet(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    response = client.get(f"/en/reports/participants.csv?session={scenario.sessions[0].id}")
    assert_download(response, "csv")
    header, *rows = read_csv(response)
    assert header[-1] == "Signature" and "E-mail" in header and "Phone" in header
    assert len(rows) == 2
    aigul = next(row for row in rows if row[header.index("Full name")] == "Айгүл Токтогулова")
    assert aigul[header.index("Organisation")] == "'" + FORMULA_ORGANISATION
    assert aigul[header.index("Attended")] == "Yes"
    workbook = read_xlsx(client.get("/ky/reports/participants.xlsx"))
    participants = workbook.worksheets[0]
    assert participants.freeze_panes == "A2"
    assert participants.max_row == 5
    assert isinstance(participants["A2"].value, int)


# --- the table of comments and proposals (DOCX) ------------------------------------------------------


def test_docx_table_of_comments_in_kyrgyz(client, app, db_session, scenario):
    staff(client, app, db_session, "analyst")
    response = client.get(f"/ky/reports/comments.docx?document={scenario.document.id}")
    assert_download(response, "docx")
    doc = read_docx(io.BytesIO(response.get_data()))
    title_page = "\n".join(p.text for p in doc.paragraphs)
    assert "Гендердик теңчиликке жетишүү боюнча улуттук стратегия" in title_page
    assert "Стратегиянын долбоорун талкуулоо" in title_page  # the consultation
    assert ": 5" in title_page  # five comments in total
    (table,) = doc.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert len(rows) == 6
    body = rows[1:]
    clauses = [row[1] for row in body]
    assert clauses[1:] == ["1 1-пункт", "3.1 3.1-пункт", "3.1 3.1-пункт", "3.2 3.2-пункт"]
    named = next(row for row in body if KYRGYZ_BODY in row[3])
    assert named[7] == KYRGYZ_JUSTIFICATION
    assert "Айгүл Токтогулова" in named[5]
    unnamed = next(row for row in body if "@SUM" in row[3])
    assert "Бакыт" not in unnamed[5] and "Министерство" in unnamed[5]
    # the draft text is printed once per item
    assert [row[2] != "" for row in body if row[1].startswith("3.1")] == [True, False]
    # an A4 title page, then the eight-column table on landscape A4 pages (a paragraph opens that
    # section: LibreOffice loses the page break when a section starts with a table)
    cover, table_section = doc.sections
    assert (round(cover.page_width.cm, 1), round(cover.page_height.cm, 1)) == (21.0, 29.7)
    assert (round(table_section.page_width.cm, 1), round(table_section.page_height.cm, 1)) == (29.7, 21.0)
    assert table._element.getprevious().tag.endswith("}p")
    usable = table_section.page_width - table_section.left_margin - table_section.right_margin
    assert abs(sum(column.width for column in table.columns) - usable) < 20000  # EMU: a fraction of a mm


def test_docx_needs_a_document(client, app, db_session, scenario):
    staff(client, app, db_session, "organiser")
    response = client.get("/en/reports/comments.docx")
    assert response.status_code == 303
    assert "/en/reports/feedback" in response.headers["Location"]


# --- what we heard ----------------------------------------------------------------------------------------


def test_what_we_heard_is_hidden_until_published_and_hides_unnamed_authors(client, app, db_session, scenario):
    document = scenario.document
    url = f"/en/results/{scenario.consultation.slug}/{document.key}"
    assert client.get(url).status_code == 404

    user = staff(client, app, db_session, "organiser")
    admin_page = client.get("/en/reports/results")
    assert admin_page.status_code == 200
    token = csrf_token(admin_page.get_data(as_text=True))
    assert client.post(f"/en/reports/documents/{document.id}/publish").status_code == 400  # no token
    response = client.post(f"/en/reports/documents/{document.id}/publish", data={"csrf_token": token})
    assert response.status_code == 303

    db_session.expire_all()
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "document.publish_results")
    ).one()
    assert audit.user_id == user.id and audit.object_id == document.id
    recipients = set(db_session.scalars(select(OutboxMessage.recipient)))
    assert recipients == {"aigul@example.kg", "bakyt@example.kg"}  # decided comments with an e-mail

    client.get("/en/reports/results")  # the flashes
    anonymous = app.test_client()
    page = anonymous.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Айгүл Токтогулова" in html  # agreed to be named
    assert "Бакыт" not in html and "@example.kg" not in html
    # One rule for who a published comment is from (issue 9): the name only with consent, then the
    # organisation, sector and region, as on the document page and in the table of comments.
    assert "Министерство, State body, Osh Region" in html
    assert "Partly taken into account" in html
    assert "Support: 1" in html and "Objection: 1" in html
    assert "spam" not in html  # hidden comments are never shown
    assert "Вопрос по анализу" not in html  # not moderated yet

    unpublish = client.post(f"/en/reports/documents/{document.id}/unpublish", data={"csrf_token": token})
    assert unpublish.status_code == 303
    assert anonymous.get(url).status_code == 404


def test_analyst_cannot_publish(client, app, db_session, scenario):
    staff(client, app, db_session, "analyst")
    page = client.get("/en/reports/feedback").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        f"/en/reports/documents/{scenario.document.id}/publish", data={"csrf_token": token}
    )
    assert response.status_code == 403
    db_session.expire_all()
    assert not db_session.get(type(scenario.document), scenario.document.id).results_published


# --- the benchmark cannot rot ---------------------------------------------------------------------------


def test_bench_generator_and_one_export_on_a_small_database(tmp_path):
    from bench import run

    report = run.run_database(f"sqlite:///{tmp_path / 'bench.sqlite3'}", comments=500, registrations=200)
    names = {line.name for line in report}
    assert {"comments CSV", "bare SELECT (comments)", "dashboard queries"} <= names
    by_name = {line.name: line for line in report}
    # hidden comments are generated too and never exported: the export holds exactly the bare SELECT's rows
    assert 400 < by_name["comments CSV"].rows == by_name["bare SELECT (comments)"].rows < 500

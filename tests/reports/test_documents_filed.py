"""Documents the ministry files as they come: read back with python-docx and openpyxl, as a clerk would open them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from docx import Document as read_docx
from docx.oxml.ns import qn
from openpyxl import load_workbook

from tests.auth_helpers import login_as, make_user
from tests.factories import make_comment, make_item
from tests.factories_reports import FORMULA_ORGANISATION, build_scenario

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def scenario(db_session):
    return build_scenario(db_session)


def staff(client, app, db_session, role="organiser"):
    return login_as(client, app, make_user(db_session, role=role))


def test_docx_is_ready_to_file(client, app, db_session, scenario):
    # An action-plan row: its columns stay apart in the "current draft text" cell.
    fields = {
        "activity": {"ru": "Провести обучение", "ky": "Окутуу өткөрүү", "en": "Hold training"},
        "indicator": {"ru": "Обучено 100 человек", "ky": "100 киши окутулду", "en": "100 people trained"},
        "deadline": {"ru": "2023", "ky": "2023", "en": "2023"},
    }
    action = make_item(db_session, scenario.document, "9.1", 90, heading={}, text={}, fields=fields)
    make_comment(db_session, scenario.document, action, body="Уточнить индикатор", status="published")
    staff(client, app, db_session, "analyst")
    response = client.get(f"/ky/reports/comments.docx?document={scenario.document.id}")
    doc = read_docx(io.BytesIO(response.get_data()))

    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0].isupper() and "МИНИСТРЛИГИ" in paragraphs[0]  # the ministry's heading
    assert any("1-версия" in p or "версия" in p for p in paragraphs)  # title and version
    # The font is named for every script, so ң ө ү never fall back to a font without them.
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert {fonts.get(qn(a)) for a in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia")} == {"Times New Roman"}
    # "page X of Y" as fields the word processor fills in, on every page (the sections share the footer).
    footer = doc.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "fldChar" in footer
    assert doc.sections[1].footer.is_linked_to_previous
    (table,) = doc.tables
    for row in table.rows:
        assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    action_row = next(row for row in table.rows if row.cells[1].text.startswith("9.1"))
    draft_cell = [p.text for p in action_row.cells[2].paragraphs]
    assert draft_cell[0].startswith("Иш-чара") or ":" in draft_cell[0]
    assert len(draft_cell) == 3  # activity, indicator, deadline: one line each
    # The signature block after the table.
    after_table = "\n".join(paragraphs)
    for label in ("Даярдаган", "Кызмат орду", "Колу"):
        assert label in after_table


def test_every_xlsx_prints_and_filters(client, app, db_session, scenario):
    staff(client, app, db_session)
    for url in ("/ru/reports/comments.xlsx", "/ru/reports/summary.xlsx", "/ky/reports/participants.xlsx"):
        workbook = load_workbook(io.BytesIO(client.get(url).get_data()))
        for sheet in workbook.worksheets:
            assert len(sheet.title) <= 31
            assert sheet.freeze_panes == "A2"
            assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
            assert sheet.print_title_rows in ("1:1", "$1:$1")
            assert sheet.page_setup.orientation == "landscape"
            assert str(sheet.page_setup.paperSize) == "9"  # A4
            assert str(sheet.page_setup.fitToWidth) == "1" and str(sheet.page_setup.fitToHeight) == "0"
            assert sheet.sheet_properties.pageSetUpPr.fitToPage
            assert sheet["A1"].alignment.wrap_text


def test_xlsx_dates_are_date_cells_and_phones_read_as_typed(client, app, db_session, scenario):
    staff(client, app, db_session)
    comments = load_workbook(io.BytesIO(client.get("/ru/reports/comments.xlsx").get_data())).active
    header = [cell.value for cell in comments[1]]
    received = [row[header.index("Получен (по времени Бишкека)")] for row in comments.iter_rows(min_row=2)]
    assert received and all(cell.is_date and isinstance(cell.value, datetime) for cell in received)

    participants = load_workbook(
        io.BytesIO(client.get("/en/reports/participants.xlsx").get_data())
    ).worksheets[0]
    header = [cell.value for cell in participants[1]]
    rows = list(participants.iter_rows(min_row=2))
    assert all(isinstance(row[header.index("Date")].value, date | datetime) for row in rows)
    phones = [row[header.index("Phone")].value for row in rows if row[header.index("Phone")].value]
    assert phones and not any(phone.startswith("'") for phone in phones)
    organisations = [row[header.index("Organisation")].value for row in rows]
    assert FORMULA_ORGANISATION in organisations


def test_csv_for_excel_with_russian_settings_is_semicolon_separated(client, app, db_session, scenario):
    staff(client, app, db_session)
    html = client.get("/ru/reports/feedback").get_data(as_text=True)
    assert "separator=semicolon" in html
    response = client.get(f"/ru/reports/comments.csv?document={scenario.document.id}&separator=semicolon")
    assert response.status_code == 200
    data = response.get_data()
    assert data.startswith(BOM)
    header, *rows = list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8")), delimiter=";"))
    assert header[:2] == ["№", "Пункт"] or len(header) > 10
    assert len(rows) == 5 and all(len(row) == len(header) for row in rows)
    participants = client.get("/ru/reports/participants.csv?separator=semicolon").get_data()
    assert participants[len(BOM) :].decode("utf-8").splitlines()[0].count(";") > 5

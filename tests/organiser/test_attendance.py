"""The attendance sheet: confirmed people in alphabet order, then blank rows; DOCX page setup read back."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from tests.auth_helpers import login_as, make_user
from tests.factories import make_event_session, make_registration

IN_ORDER = [
    "Абдыкадырова Айгүл",
    "Нурланов Эрмек",
    "Ңаматова Сезим",
    "Өмүрова Бермет",
    "Үсөнов Бакыт",
    "Ярова Асел",
]


@pytest.fixture
def staff(app, client, db_session):
    login_as(client, app, make_user(db_session, role="organiser"))
    return client


@pytest.fixture
def event(db_session):
    start = datetime(2031, 10, 12, 4, 0, tzinfo=UTC)
    event = make_event_session(db_session, starts_at=start, ends_at=start + timedelta(hours=8), capacity=20)
    for name in reversed(IN_ORDER):
        make_registration(db_session, event, full_name=name, phone="+996 700 000 001")
    make_registration(db_session, event, "waitlisted", full_name="Ааа Күтүүчү")
    make_registration(db_session, event, "cancelled", full_name="Ааа Баш тарткан")
    return event


def test_docx_lists_confirmed_people_in_collation_order_then_blank_rows(staff, event, db_session):
    response = staff.get(f"/ky/organiser/sessions/{event.id}/attendance.docx?contact=phone&blank=5")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    doc = Document(io.BytesIO(response.data))
    table = doc.tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert len(rows[0]) == 9  # №, name, sex, organisation, sector, position, region, contact, signature
    names = [row[1] for row in rows[1:] if row[1]]
    assert names == IN_ORDER  # no waitlisted, no cancelled; ң ө ү after н о у, not after я
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, len(IN_ORDER) + 6)]
    assert all(not any(row[1:]) for row in rows[len(IN_ORDER) + 1 :])  # numbered blank rows
    assert rows[1][7] == "+996 700 000 001"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Нарындагы консультация" in text and "2031" in text and "Нарын, мэрия" in text

    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    assert round(section.page_width.cm, 1) == 29.7 and round(section.page_height.cm, 1) == 21.0
    header_props = table.rows[0]._tr.trPr
    assert header_props.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml


def test_contact_column_as_the_organiser_chooses(staff, event):
    none = Document(
        io.BytesIO(staff.get(f"/en/organiser/sessions/{event.id}/attendance.docx?contact=none").data)
    )
    assert [c.text for c in none.tables[0].rows[0].cells][-2:] == ["Region", "Signature"]
    email = staff.get(f"/en/organiser/sessions/{event.id}/attendance?contact=email").get_data(as_text=True)
    assert "@example.kg" in email and "+996 700" not in email


def test_print_page_is_a4_landscape_with_the_same_rows(staff, event):
    page = staff.get(f"/ru/organiser/sessions/{event.id}/attendance?blank=2").get_data(as_text=True)
    assert "size: A4 landscape" in page and "counter(pages)" in page and "break-inside: avoid" in page
    positions = [page.index(name) for name in IN_ORDER]
    assert positions == sorted(positions)
    assert "Күтүүчү" not in page and "Баш тарткан" not in page
    assert "<script" not in page


def test_participant_xlsx_keeps_a_status_column_and_an_autofilter(staff, event):
    response = staff.get(f"/en/reports/participants.xlsx?session={event.id}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "Status" in headers
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")

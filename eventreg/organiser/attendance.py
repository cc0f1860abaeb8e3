"""The attendance sheet people sign at a session: one function builds its rows, DOCX and HTML print them.

Only people with a confirmed place (checked in or not yet) are listed, in Kyrgyz/Russian alphabetical
order; numbered blank rows follow for walk-ins who sign on paper. Contacts are printed only as the
organiser chooses: a sheet lies on a table where everyone can read it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.collation import sort_key
from eventreg.i18n import localized, session_when
from eventreg.models import EventSession, Registration, RegistrationStatus
from eventreg.vocabulary import REGIONS, SECTORS, SEXES, label

CONTACT_CHOICES = {
    "none": _l("No contact column"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "both": _l("Phone and e-mail"),
}
MAX_BLANK_ROWS = 60


@dataclass
class AttendanceSheet:
    title: str
    when: str
    venue: str
    headers: list[str]
    rows: list[list[str]]  # numbered people, then numbered blank rows
    people: int


def _contact(registration: Registration, contact: str) -> str:
    phone, email = registration.phone or "", registration.email or ""
    if contact == "phone":
        return phone
    if contact == "email":
        return email
    return "\n".join(part for part in (phone, email) if part)


def attendance_sheet(
    session: Session, event_session_id: int, *, contact: str = "phone", blank_rows: int = 10
) -> AttendanceSheet:
    event_session = session.get(EventSession, event_session_id)
    contact = contact if contact in CONTACT_CHOICES else "phone"
    blank_rows = max(0, min(int(blank_rows), MAX_BLANK_ROWS))
    people = sorted(
        session.scalars(
            select(Registration).where(
                Registration.session_id == event_session_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ),
        key=lambda r: (sort_key(r.full_name), r.id),
    )
    headers = [_("No."), _("Full name"), _("Sex"), _("Organisation"), _("Sector"), _("Position"), _("Region")]
    if contact != "none":
        headers.append(str(_("Contact")))
    headers.append(_("Signature"))
    rows = []
    for n, registration in enumerate(people, start=1):
        row = [
            str(n),
            registration.full_name,
            label(SEXES, registration.sex),
            registration.organisation,
            label(SECTORS, registration.sector),
            registration.position,
            label(REGIONS, registration.region),
        ]
        if contact != "none":
            row.append(_contact(registration, contact))
        row.append("")
        rows.append(row)
    for n in range(len(people) + 1, len(people) + blank_rows + 1):
        rows.append([str(n)] + [""] * (len(headers) - 1))
    return AttendanceSheet(
        title=str(localized(event_session.title)),
        when=session_when(event_session.starts_at, event_session.ends_at),
        venue=str(localized(event_session.venue)) if event_session.venue else "",
        headers=[str(h) for h in headers],
        rows=rows,
        people=len(people),
    )


def page_counter_css() -> Markup:
    """The CSS `content` value that prints "Page X of Y" in the page's bottom margin (Chromium 131+)."""
    sentence = _("Page %(page)s of %(pages)s", page="\x01counter(page)\x01", pages="\x01counter(pages)\x01")
    parts = []
    for piece in sentence.split("\x01"):
        if piece.startswith("counter("):
            parts.append(piece)
        elif piece:
            parts.append('"' + piece.replace("\\", "").replace('"', "").replace("<", "") + '"')
    return Markup(" ".join(parts))  # noqa: S704 - quotes and "<" are removed from the translated words


# --- DOCX ---------------------------------------------------------------------------------------------

A4_SHORT, A4_LONG = Cm(21), Cm(29.7)
# Landscape A4 inside 1.5 cm margins leaves 26.7 cm; the signature column gets what the others leave.
_WIDTHS_CM = {"No.": 0.8, "name": 4.2, "sex": 1.6, "org": 4.2, "sector": 2.8, "position": 2.8, "region": 2.4}


def _column_widths(with_contact: bool) -> list[float]:
    widths = list(_WIDTHS_CM.values())
    if with_contact:
        widths.append(3.2)
    widths.append(26.7 - sum(widths))
    return widths


def _row_property(row, name: str) -> None:
    properties = row._tr.get_or_add_trPr()
    element = OxmlElement(f"w:{name}")
    element.set(qn("w:val"), "true")
    properties.append(element)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the word processor fills in when it lays out the pages."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)


def attendance_docx(sheet: AttendanceSheet) -> IO[bytes]:
    doc = new_docx()
    doc.styles["Normal"].font.size = Pt(10)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = A4_LONG, A4_SHORT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.core_properties.title = sheet.title

    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(_("Attendance sheet"))
    run.bold = True
    run.font.size = Pt(14)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(sheet.title).bold = True
    facts = doc.add_paragraph()
    facts.alignment = WD_ALIGN_PARAGRAPH.CENTER
    facts.add_run(" · ".join(part for part in (sheet.when, sheet.venue) if part))

    # "Page X of Y" in the footer from PAGE and NUMPAGES fields; the translated sentence is split around
    # the two fields so that each language keeps its own word order.
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sentence = _("Page %(page)s of %(pages)s", page="\x01PAGE\x01", pages="\x01NUMPAGES\x01")
    for piece in sentence.split("\x01"):
        if piece in ("PAGE", "NUMPAGES"):
            _field(footer, piece)
        elif piece:
            footer.add_run(piece)

    widths = _column_widths(len(sheet.headers) == 9)
    table = doc.add_table(rows=1, cols=len(sheet.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    header = table.rows[0]
    _row_property(header, "tblHeader")  # repeated at the top of every page
    _row_property(header, "cantSplit")
    for cell, text, width in zip(header.cells, sheet.headers, widths, strict=True):
        cell.width = Cm(width)
        cell.paragraphs[0].add_run(text).bold = True
    for values in sheet.rows:
        row = table.add_row()
        _row_property(row, "cantSplit")  # a person's line and signature never break across pages
        row.height = Cm(1.0)  # room to sign
        for cell, value, width in zip(row.cells, values, widths, strict=True):
            cell.width = Cm(width)
            cell.text = ILLEGAL_CHARACTERS_RE.sub("", value)

    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    doc.save(out)
    out.seek(0)
    return out

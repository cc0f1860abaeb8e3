"""Writing report tables to files: CSV, XLSX and the ministry's DOCX table of comments.

No cell is ever read as a formula: CSV cells go through `neutralise` (a leading apostrophe, the only
protection plain text has), XLSX cells are typed as text instead (no apostrophe shows). One writer per
format (`csv_stream`, `xlsx_file`) carries whatever report it is given. CSV is a generator the response
streams; XLSX uses openpyxl's write-only mode, which spools rows to disk instead of keeping them.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import IO

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from flask import Response, current_app
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from eventreg.i18n import DATE_PATTERNS, localized, to_local
from eventreg.identity import identity
from eventreg.models import Consultation, Document
from eventreg.reports import queries
from eventreg.reports.entries import comment_entries
from eventreg.reports.queries import Filters, Table

BOM = "\ufeff"
# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FLUSH_ROWS = 200
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def neutralise(value):
    """A text cell that a spreadsheet could run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# --- CSV ----------------------------------------------------------------------------------------------


def csv_stream(table: Table, closing: Session | None = None, delimiter: str = ",") -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel shows ң ө ү), written a few hundred rows at a time.

    `closing` is the database session the rows stream from; it is closed when the stream ends, also
    when the client goes away half-way (the server then closes this generator). `delimiter` ";" makes
    the variant that Excel with Russian (or Kyrgyz) regional settings opens in columns: there the list
    separator is ";", because "," is the decimal mark.
    """
    # Headers are translated now: the rows are written after the request (and its language) is gone.
    headers = table.headers
    return _csv_chunks(headers, table.rows, table.total, closing, delimiter)


def _csv_chunks(
    headers: list[str], rows: Iterable[tuple], total, closing: Session | None, delimiter: str = ","
) -> Iterator[bytes]:
    try:
        yield from _csv_lines(headers, rows, total, delimiter)
    finally:
        if closing is not None:
            closing.close()


def _csv_value(value):
    # Dates as people type them (a spreadsheet recognises both), never with seconds or a zone.
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def _csv_lines(headers: list[str], rows: Iterable[tuple], total, delimiter: str = ",") -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write(BOM)
    writer.writerow([neutralise(h) for h in headers])
    pending = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        pending += 1
        if pending >= CSV_FLUSH_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if total:
        writer.writerow([_csv_value(v) for v in total])
    yield buffer.getvalue().encode("utf-8")


# --- XLSX ---------------------------------------------------------------------------------------------


SHEET_NAME_MAX = 31  # Excel refuses longer sheet names


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, cut at a word with "…", unique in the workbook."""
    base = " ".join(_SHEET_FORBIDDEN.sub(" ", title).split()) or "Sheet"
    if len(base) > SHEET_NAME_MAX:
        cut = base[: SHEET_NAME_MAX - 1]
        if " " in cut:
            cut = cut[: cut.rindex(" ")]
        base = cut.rstrip(" —-·,") + "…"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" {n}"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
PAPER_A4 = 9  # the OOXML paper-size code


def _xlsx_value(value):
    """A plain value for a workbook built cell by cell (the capture workbook): never a formula, no control
    characters. The reports' sheets use `_xlsx_cell`, which keeps formula-like text without an apostrophe."""
    value = neutralise(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _xlsx_cell(sheet, value, alignment: Alignment, font: Font | None = None) -> WriteOnlyCell:
    """One cell: text that looks like a formula is stored as text (no apostrophe shown), dates as dates."""
    if isinstance(value, str):
        # Control characters make an invalid file; they carry no meaning in a comment.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Typed as a string, never a formula; quotePrefix keeps it text when someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    cell.alignment = alignment
    if font is not None:
        cell.font = font
    return cell


def _print_setup(sheet) -> None:
    """A4 landscape, as wide as the page, the header row on every printed page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True


def xlsx_file(tables: Iterable[Table]) -> IO[bytes]:
    """A sheet per table: wrapped text, a frozen and filterable header row, real numbers and dates, and
    print settings so it comes out of the printer as a readable A4 landscape table."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for table in tables:
        sheet = workbook.create_sheet(title=_sheet_title(str(table.title), used))
        # Sheet properties are written before the rows in write-only mode: set them first.
        _print_setup(sheet)
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        sheet.append([_xlsx_cell(sheet, text, wrap, bold) for text in table.headers])
        last_row = 1
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, v, wrap) for v in row])
            last_row += 1
        # The filter covers the rows, not the total under them (filtering would hide it or sort it in).
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(table.columns), 1))}{last_row}"
        if table.total:
            sheet.append([_xlsx_cell(sheet, value, wrap, bold) for value in table.total])
    # Spooled: small workbooks stay in memory, large ones go to a temporary file.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    workbook.save(out)
    out.seek(0)
    return out


# --- responses ------------------------------------------------------------------------------------------


def _no_store(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def streaming_session() -> Session:
    """A database session of its own for a streamed download.

    The response body is written after the request has ended (and its session is closed), so the
    stream cannot borrow the request's session; `csv_stream` closes this one when it is done.
    """
    return current_app.extensions["eventreg.db"]["sessionmaker"]()


def csv_response(
    table: Table, filename: str, closing: Session | None = None, delimiter: str = ","
) -> Response:
    response = Response(csv_stream(table, closing, delimiter), mimetype="text/csv")
    response.charset = "utf-8"
    return _no_store(response, filename)


def file_response(file: IO[bytes], filename: str, mimetype: str) -> Response:
    response = Response(_chunks(file), mimetype=mimetype, direct_passthrough=True)
    return _no_store(response, filename)


def _chunks(file: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()


def stamped(name: str, extension: str) -> str:
    return f"{name}-{datetime.now():%Y-%m-%d}.{extension}"


# --- DOCX: the table of comments and proposals ----------------------------------------------------------


def _long_date(value: datetime, lang: str) -> str:
    # The same readable patterns as the site, without the weekday (a title page names a period).
    pattern = DATE_PATTERNS.get(lang, "long").removeprefix("EEEE, ")
    return format_date(to_local(value) if isinstance(value, datetime) else value, pattern)


def _period(consultation: Consultation, f: Filters, lang: str) -> str:
    start = f.date_from or consultation.comments_open_at
    end = f.date_to or consultation.comments_close_at
    if start and end:
        return f"{_long_date(start, lang)} – {_long_date(end, lang)}"
    return ""


def _repeat_header(row) -> None:
    # Word and LibreOffice repeat a row marked tblHeader at the top of every page.
    properties = row._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def _keep_row_together(row) -> None:
    # A row never splits across pages: a comment and its decision are read side by side.
    properties = row._tr.get_or_add_trPr()
    marker = OxmlElement("w:cantSplit")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


# Set by name for every script (Latin, Cyrillic, complex, East Asian): a font the ministry's computers
# have, whose Cyrillic covers the Kyrgyz letters ң ө ү (LibreOffice substitutes the metric twin,
# Liberation Serif, which covers them too).
DOCX_FONT = "Times New Roman"


def _set_font(style, name: str) -> None:
    style.font.name = name
    properties = style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), name)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader's program fills in when it lays out the pages."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == instruction:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = f" {instruction} "
            run._r.append(code)
        else:
            run.text = text


def _page_x_of_y(section) -> None:
    """ "Page X of Y" in the footer, in the reader's word order (the translation places the numbers)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    text = _("Page %(page)s of %(pages)s", page="\x00PAGE\x00", pages="\x00NUMPAGES\x00")
    for index, part in enumerate(text.split("\x00")):
        if index % 2:
            _field(paragraph, part)
        elif part:
            paragraph.add_run(part)


def _action_fields(cell, fields: dict[str, str]) -> None:
    """An action-plan row keeps its columns apart: one labelled line each."""
    labels = [
        ("activity", _("Activity")),
        ("indicator", _("Indicator")),
        ("responsible", _("Responsible body")),
        ("deadline", _("Deadline")),
        ("funding", _("Funding source")),
    ]
    first = True
    for name, label in labels:
        if not fields.get(name):
            continue
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(ILLEGAL_CHARACTERS_RE.sub("", fields[name]))


def _signature_block(doc) -> None:
    """Who prepared the table, with room to sign: the ministry files it signed."""
    doc.add_paragraph()
    for label in (_("Prepared by"), _("Position"), _("Date"), _("Signature")):
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(6)
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run("_" * 40)


A4_WIDTH, A4_HEIGHT = Cm(21), Cm(29.7)
# №, clause, draft text, comment, proposed wording, author, decision, justification: 26.7 cm, the width
# of a landscape A4 page inside 1.5 cm margins.
COLUMN_WIDTHS_CM = (1.0, 3.0, 4.0, 4.8, 3.8, 3.3, 3.2, 3.6)


def comments_docx(session: Session, f: Filters, document: Document, lang: str) -> IO[bytes]:
    """The ministry's table (справка): a title page, then one row per entry, grouped by item in order.

    An entry is one comment, or a group of near-identical ones with their count and authors; merged
    duplicates are counted on their original's row (the rule in reports/entries.py, as on the results page).
    """
    consultation = session.get(Consultation, document.consultation_id)
    numbers = queries.totals(session, f)
    decisions = queries.comment_breakdown(session, f, "decision")
    entries = comment_entries(session, f, lang)
    duplicates = sum(entry.duplicates for entry in entries)

    doc = new_docx()
    doc.styles["Normal"].font.size = Pt(10)
    for style in ("Normal", "Table Grid"):
        _set_font(doc.styles[style], DOCX_FONT)
    # A4, as the ministry prints it (the template python-docx starts from is US Letter).
    first = doc.sections[0]
    first.page_width, first.page_height = A4_WIDTH, A4_HEIGHT
    _page_x_of_y(first)  # the landscape section after it shares this footer
    doc.core_properties.title = str(localized(document.title, lang))
    doc.core_properties.language = lang

    ministry = doc.add_paragraph()
    ministry.alignment = WD_ALIGN_PARAGRAPH.CENTER
    ministry_run = ministry.add_run(identity().ministry.upper())
    ministry_run.bold = True
    ministry_run.font.size = Pt(12)
    ministry.paragraph_format.space_after = Pt(24)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(_("Table of comments and proposals"))
    run.bold = True
    run.font.size = Pt(18)
    doc.add_paragraph(_("on the results of the public discussion")).alignment = WD_ALIGN_PARAGRAPH.CENTER
    facts = [
        (_("Consultation"), str(localized(consultation.title, lang))),
        (
            _("Document"),
            _(
                "%(title)s, version %(version)s",
                title=localized(document.title, lang),
                version=document.version,
            ),
        ),
        (_("Period"), _period(consultation, f, lang)),
        (_("Date"), _long_date(datetime.now(UTC), lang)),
        (_("Comments and proposals"), str(numbers["comments"])),
        (_("Rows in the table (near-identical comments listed once)"), str(len(entries))),
    ]
    if duplicates:
        facts.append((_("Duplicates merged into the comments listed"), str(duplicates)))
    facts += [
        (_("Items commented on"), str(numbers["items"])),
        (_("Decided"), str(numbers["decided"])),
        (_("Waiting for a decision"), str(numbers["waiting"])),
    ]
    waiting_label = str(_("Waiting for a decision"))
    facts += [(str(row[0]), str(row[1])) for row in decisions.rows if str(row[0]) != waiting_label]
    for name, value in facts:
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{name}: ").bold = True
        paragraph.add_run(value)

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = A4_HEIGHT, A4_WIDTH
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    # A paragraph before the table: LibreOffice drops the page break (and the landscape page) when a
    # section starts with a table.
    heading = doc.add_paragraph()
    heading.add_run(str(localized(document.title, lang))).bold = True

    headers = [
        _("No."),
        _("Section / clause"),
        _("Current draft text"),
        _("Comment or proposal"),
        _("Proposed wording"),
        _("Author (organisation, sector, region)"),
        _("Decision"),
        _("Justification"),
    ]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, COLUMN_WIDTHS_CM, strict=True):
        column.width = Cm(width)  # the grid LibreOffice reads; Word reads the cell widths below
    header_row = table.rows[0]
    _repeat_header(header_row)
    _keep_row_together(header_row)
    for cell, text, width in zip(header_row.cells, headers, COLUMN_WIDTHS_CM, strict=True):
        cell.text = ""
        cell.width = Cm(width)
        cell.paragraphs[0].add_run(text).bold = True

    current_item: object = object()
    for n, entry in enumerate(entries, start=1):
        record = entry.first
        new_item = record.item_id != current_item
        current_item = record.item_id
        if record.item_id is None:
            clause = _("The document as a whole")
        else:
            clause = f"{record.item_number} {record.item_heading}".strip()
        decision = record.decision
        part = record.decision_part.marked()
        if part:
            decision = f"{decision}: {part}" if decision else part
        comment = f"{record.kind}: {record.body}" if record.kind else record.body
        if entry.count > 1:
            comment += "\n" + ngettext(
                "(%(num)d comment with this text)", "(%(num)d comments with this text)", entry.count
            )
        if entry.duplicates:
            comment += "\n" + ngettext(
                "%(num)d duplicate merged into it", "%(num)d duplicates merged into it", entry.duplicates
            )
        # The draft text is printed once, on the first row of its item's group.
        values = [
            str(n),
            clause,
            record.item_text if new_item else "",
            comment,
            record.proposed_wording,
            ";\n".join(entry.authors),
            decision or _("Waiting for a decision"),
            record.justification.marked(),
        ]
        row = table.add_row()
        _keep_row_together(row)
        for index, (cell, value, width) in enumerate(zip(row.cells, values, COLUMN_WIDTHS_CM, strict=True)):
            cell.width = Cm(width)
            if index == 2 and new_item and record.item_fields:
                _action_fields(cell, record.item_fields)
            else:
                cell.text = ILLEGAL_CHARACTERS_RE.sub("", value)

    _signature_block(doc)

    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    doc.save(out)
    out.seek(0)
    return out

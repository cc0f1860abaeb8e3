"""The comparative table of two versions of a draft (сравнительная таблица / салыштырма таблица), filed with
the revised draft: clause · earlier wording · new wording · the comments (by their № in the table of
comments of the earlier version) that were made on it · justification. A4 landscape like the table of
comments; the rows are versions.compare_versions', the ones the redline page shows."""

from __future__ import annotations

import tempfile
from typing import IO

from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from flask_babel import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import Session

from eventreg.consultation.versions import ComparisonRow, compare_versions, diff_tokens, relation_label
from eventreg.i18n import localized
from eventreg.models import Consultation, Document
from eventreg.reports import queries
from eventreg.reports.entries import comment_entries
from eventreg.reports.exports import A4_HEIGHT, A4_WIDTH, _repeat_header, new_docx
from eventreg.reports.queries import Filters

# №, clause, earlier wording, new wording, comments, justification: 26.7 cm inside 1.5 cm margins.
COLUMN_WIDTHS_CM = (1.0, 2.9, 7.6, 7.6, 2.6, 5.0)


def comment_numbers(
    session: Session, document: Document, lang: str
) -> dict[int, tuple[int, queries.CommentRow]]:
    """Each comment's № in the table of comments of `document` (the same entries), with its entry's row.

    A comment of a group and a merged duplicate carry the № of the row that lists them.
    """
    entries = comment_entries(
        session, Filters(consultation_id=document.consultation_id, document_id=document.id), lang
    )
    return {
        comment_id: (n, entry.first) for n, entry in enumerate(entries, start=1) for comment_id in entry.ids
    }


def changed_rows(rows: list[ComparisonRow]) -> list[ComparisonRow]:
    return [row for row in rows if row.relation != "unchanged"]


def _marked_wording(cell, row: ComparisonRow, *, deleted: bool) -> None:
    """The earlier wording with its deleted words struck through, or the new one with its inserted words
    bold and underlined, as drafters mark a comparative table by hand."""
    paragraph = cell.paragraphs[0]
    for op, text in diff_tokens(row.old_wording, row.new_wording):
        if op == ("+" if deleted else "-"):
            continue
        run = paragraph.add_run(ILLEGAL_CHARACTERS_RE.sub("", text))
        if op == "-":
            run.font.strike = True
        elif op == "+":
            run.bold = True
            run.underline = True


def comparative_docx(session: Session, old: Document, new: Document, lang: str) -> IO[bytes]:
    consultation = session.get(Consultation, new.consultation_id)
    rows = compare_versions(session, old, new, lang)
    numbers = comment_numbers(session, old, lang)

    doc = new_docx()
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = str(localized(new.title, lang))
    doc.core_properties.language = lang
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = A4_HEIGHT, A4_WIDTH
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(_("Comparative table"))
    run.bold = True
    run.font.size = Pt(16)
    subtitle = doc.add_paragraph(
        _(
            "%(title)s: version %(old)d and version %(new)d",
            title=localized(new.title, lang),
            old=old.version,
            new=new.version,
        )
    )
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(str(localized(consultation.title, lang))).alignment = WD_ALIGN_PARAGRAPH.CENTER
    unchanged = sum(1 for row in rows if row.relation == "unchanged")
    doc.add_paragraph(
        _(
            "Comment numbers are those of the table of comments on version %(version)d. Items not listed are "
            "unchanged (%(count)d).",
            version=old.version,
            count=unchanged,
        )
    )

    headers = [
        _("No."),
        _("Section / clause"),
        _("Wording in version %(version)d", version=old.version),
        _("Wording in version %(version)d", version=new.version),
        _("Comments (No. in the table of comments)"),
        _("Justification"),
    ]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, COLUMN_WIDTHS_CM, strict=True):
        column.width = Cm(width)
    header_row = table.rows[0]
    _repeat_header(header_row)
    for cell, text, width in zip(header_row.cells, headers, COLUMN_WIDTHS_CM, strict=True):
        cell.text = ""
        cell.width = Cm(width)
        cell.paragraphs[0].add_run(str(text)).bold = True

    for n, row in enumerate(changed_rows(rows), start=1):
        clause = row.number
        if row.new_item is not None and row.old_numbers and row.old_numbers != row.new_item.number:
            clause = _("%(new)s (was %(old)s)", new=row.new_item.number, old=row.old_numbers)
        clause = f"{clause}\n{relation_label(row.relation)}"
        # Several comments of one row of the table of comments (a group, a duplicate) are cited once.
        cited = list({numbers[c][0]: numbers[c] for c in row.comment_ids if c in numbers}.values())
        justification = "\n".join(
            f"№ {number}: {record.decision}"
            + (f" — {record.justification}" if record.justification.text else "")
            for number, record in cited
            if record.decision
        )
        values = [
            str(n),
            clause,
            row.old_wording or "—",
            row.new_wording or _("(removed)"),
            ", ".join(str(number) for number, _record in cited),
            justification,
        ]
        cells = table.add_row().cells
        for index, (cell, value, width) in enumerate(zip(cells, values, COLUMN_WIDTHS_CM, strict=True)):
            cell.width = Cm(width)
            if index in (2, 3) and row.old_wording and row.new_wording:
                _marked_wording(cell, row, deleted=index == 2)
            else:
                cell.text = ILLEGAL_CHARACTERS_RE.sub("", str(value))

    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    doc.save(out)
    out.seek(0)
    return out

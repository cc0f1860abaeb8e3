"""Writing a capture workbook for a session and a document, and reading a filled one back.

A sheet per language lists the document's items (number and short text) with blank columns for what
was said; kind, sector, region and sex are drop-down lists. A hidden column gives every row an id and a
hidden sheet names the workbook, the session and the document, so that an upload knows where its rows
go and which of them were imported before.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from eventreg.consultation.services import BODY_MAX, WORDING_MAX
from eventreg.i18n import languages, localized
from eventreg.models import CommentKind, Document, DocumentItem, EventSession, Sex
from eventreg.reports.exports import _xlsx_value
from eventreg.vocabulary import REGIONS, SECTORS

META_SHEET = "meta"
LISTS_SHEET = "lists"
BLANK_ROWS = 40  # rows without an item, for comments on any item or the whole document
SHORT_TEXT = 120
# Column order of every language sheet; the first is the hidden row id.
FIELDS = (
    "row_id",
    "item",
    "item_text",
    "comment",
    "kind",
    "wording",
    "name",
    "organisation",
    "sector",
    "region",
    "sex",
)
COL = {name: index for index, name in enumerate(FIELDS)}
WIDTHS = (4, 8, 40, 50, 18, 40, 22, 28, 26, 22, 16)
VOCABULARIES = {
    "kind": lambda: CommentKind.labels(),
    "sector": lambda: SECTORS,
    "region": lambda: REGIONS,
    "sex": lambda: Sex.labels(),
}


def _headers() -> list[str]:
    return [
        "id",
        _("Item"),
        _("Text of the item"),
        _("Comment"),
        _("Kind of comment"),
        _("Proposed wording"),
        _("Speaker's name (optional)"),
        _("Organisation"),
        _("Sector"),
        _("Region"),
        _("Sex"),
    ]


def _instructions() -> list[str]:
    return [
        _("Capture workbook: comments given at a session without internet"),
        _("Use the sheet of the language in which the comment was given. Each row is one comment."),
        _(
            "A row lists an item of the draft: write the comment in the Comment column of that row. To add another comment on the same item, copy the row. For the whole document or another item, use the empty rows at the end and type the item number (or leave it empty)."
        ),
        _("Choose kind, sector, region and sex from the lists. Do not change the hidden columns or sheets."),
        _(
            "Any number of people may fill copies of this file; upload each one. Rows already imported are not added again."
        ),
    ]


def document_languages(document: Document) -> list[str]:
    """The configured languages the document has a title in, in the configured order."""
    present = [code for code in languages() if (document.title or {}).get(code)]
    return present or list(languages())


def _short(item: DocumentItem, lang: str) -> str:
    words = str(localized(item.heading, lang)) or str(localized(item.text, lang))
    if not words and item.fields:
        words = str(localized(item.fields.get("activity"), lang))
    words = " ".join(words.split())
    return words if len(words) <= SHORT_TEXT else words[: SHORT_TEXT - 1] + "…"


def build_workbook(event_session: EventSession, document: Document, items: list[DocumentItem]) -> bytes:
    workbook = Workbook()
    intro = workbook.active
    intro.title = "Instructions"
    intro.column_dimensions["A"].width = 120
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    for lang in languages():
        with force_locale(lang):
            lines = _instructions()
        intro.append([_xlsx_value(lines[0])])
        intro.cell(intro.max_row, 1).font = bold
        for line in lines[1:]:
            intro.append([_xlsx_value(line)])
            intro.cell(intro.max_row, 1).alignment = wrap
        intro.append([])
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    meta = workbook.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    meta.append(["workbook", str(uuid.uuid4())])
    meta.append(["session", event_session.id])
    meta.append(["document", document.id])
    meta.append(["version", document.version])
    list_column = 1
    for lang in document_languages(document):
        with force_locale(lang):
            sheet = workbook.create_sheet(lang)
            sheet.append([_xlsx_value(h) for h in _headers()])
            ranges = {}
            for name, vocabulary in VOCABULARIES.items():
                labels = [str(label) for label in vocabulary().values()]
                for row, text in enumerate(labels, start=1):
                    lists.cell(row, list_column, _xlsx_value(text))
                letter = get_column_letter(list_column)
                ranges[name] = f"{LISTS_SHEET}!${letter}$1:${letter}${len(labels)}"
                list_column += 1
        for cell in sheet[1]:
            cell.font = bold
            cell.alignment = wrap
        for index, width in enumerate(WIDTHS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.column_dimensions["A"].hidden = True
        sheet.freeze_panes = "D2"
        for item in items:
            sheet.append([f"{lang}:{item.id}", item.number, _xlsx_value(_short(item, lang))])
        for n in range(1, BLANK_ROWS + 1):
            sheet.append([f"{lang}:+{n}"])
        last = sheet.max_row
        for name, cells in ranges.items():
            letter = get_column_letter(COL[name] + 1)
            validation = DataValidation(type="list", formula1=f"={cells}", allow_blank=True)
            validation.error = _("Please choose one of the options offered.")
            validation.showErrorMessage = True
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{last}")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- reading a filled workbook ----------------------------------------------------------------------------


class WorkbookUnreadable(Exception):
    """Not a capture workbook (another file, or its hidden sheets were removed)."""


@dataclass
class CapturedInput:
    sheet: str
    row: int
    row_id: str
    language: str
    item_number: str
    body: str
    kind: str
    wording: str
    name: str
    organisation: str
    sector: str
    region: str
    sex: str
    fingerprint: str = ""


@dataclass
class Problem:
    sheet: str
    row: int
    message: str


@dataclass
class Capture:
    workbook_id: str
    session_id: int
    document_id: int
    rows: list[CapturedInput] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _label_map(vocabulary) -> dict[str, str]:
    """Every label of a list in every language, and the codes themselves, to its code."""
    mapping: dict[str, str] = {}
    for lang in languages():
        with force_locale(lang):
            for code, label in vocabulary().items():
                mapping[str(label).casefold()] = code
    for code in vocabulary():
        mapping[code.casefold()] = code
    return mapping


def _meta(workbook) -> tuple[str, int, int]:
    if META_SHEET not in workbook.sheetnames:
        raise WorkbookUnreadable()
    values = {_text(row[0]): row[1] for row in workbook[META_SHEET].iter_rows(max_col=2, values_only=True)}
    try:
        return _text(values["workbook"])[:40], int(values["session"]), int(values["document"])
    except (KeyError, TypeError, ValueError):
        raise WorkbookUnreadable() from None


def fingerprint(workbook_id: str, row: CapturedInput) -> str:
    what = [
        workbook_id,
        row.row_id,
        row.language,
        row.item_number,
        row.body,
        row.kind,
        row.wording,
        row.name,
        row.organisation,
        row.sector,
        row.region,
        row.sex,
    ]
    return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()


def read_workbook(data: bytes, item_numbers: set[str] | None = None) -> Capture:
    """The filled rows of every language sheet, and every problem named by sheet and row.

    Rows with neither a comment nor a proposed wording are left out without a word: they are the blank
    rows nobody used. `item_numbers` (of the document) lets unknown numbers be named here.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # an uploaded file may be anything: a broken zip, broken XML, another format
        raise WorkbookUnreadable() from None
    try:
        return _read_rows(workbook, item_numbers)
    except WorkbookUnreadable:
        raise
    except Exception:  # read-only sheets are parsed while iterating, so broken XML shows up here
        raise WorkbookUnreadable() from None
    finally:
        workbook.close()


def _read_rows(workbook, item_numbers: set[str] | None) -> Capture:
    workbook_id, session_id, document_id = _meta(workbook)
    capture = Capture(workbook_id, session_id, document_id)
    maps = {name: _label_map(vocabulary) for name, vocabulary in VOCABULARIES.items()}
    for lang in languages():
        if lang not in workbook.sheetnames:
            continue
        for number, values in enumerate(workbook[lang].iter_rows(min_row=2, values_only=True), start=2):
            cells = [_text(v) for v in values[: len(FIELDS)]] + [""] * (len(FIELDS) - len(values))
            body, wording = cells[COL["comment"]], cells[COL["wording"]]
            if not body and not wording:
                continue
            problems = []
            codes = {}
            for name in VOCABULARIES:
                raw = cells[COL[name]]
                codes[name] = maps[name].get(raw.casefold(), "")
                if not codes[name]:
                    problems.append(
                        _(
                            "%(column)s: please choose one of the options offered.",
                            column=_column_name(name),
                        )
                    )
            if not body:
                problems.append(_("The comment is empty."))
            if len(body) > BODY_MAX or len(wording) > WORDING_MAX:
                problems.append(_("Please use at most %(max)d characters.", max=BODY_MAX))
            item_number = cells[COL["item"]].rstrip(".")
            if item_number and item_numbers is not None and item_number not in item_numbers:
                problems.append(_("This document has no item with this number."))
            if problems:
                capture.problems += [Problem(lang, number, message) for message in problems]
                continue
            row = CapturedInput(
                sheet=lang,
                row=number,
                row_id=cells[COL["row_id"]][:40],
                language=lang,
                item_number=item_number,
                body=body,
                kind=codes["kind"],
                wording=wording,
                name=cells[COL["name"]][:200],
                organisation=cells[COL["organisation"]][:300],
                sector=codes["sector"],
                region=codes["region"],
                sex=codes["sex"],
            )
            row.fingerprint = fingerprint(workbook_id, row)
            capture.rows.append(row)
    return capture


def _column_name(name: str) -> str:
    return _headers()[COL[name]]

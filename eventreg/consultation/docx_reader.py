"""Reading a draft from a Word file (.docx) into the same items the text importer makes.

One .docx is one language of the document. What is read (docs/import-format.md, "Word files"):

* headings, and paragraphs that start with a clause number typed by hand ("3.1.2.") or given by Word's
  automatic numbering. Automatic numbers are computed here from the file's numbering definitions
  (numbering.xml: abstract lists, level texts like "%1.%2.", start values, restarts and overrides), because
  Word stores only "list 5, level 2" in the paragraph, never the number a reader sees;
* paragraphs, bulleted and lettered lists after a numbered paragraph, as that item's text;
* tables of six columns (№, activity, indicator, responsible body, deadline, funding): one action-plan row
  per table row, columns kept apart; a row spanning the table that starts with a number is a section
  heading. Other tables are kept as text of the item they follow.

What is not kept is counted in `ParsedFile.not_kept` for the preview: footnotes, comments, images and text
boxes, headers and footers; tracked changes are read as if accepted. python-docx reads the package; the
numbering is our own small reader because neither mammoth (which turns lists into <ol> and drops the
numbers) nor docx2python (one level's counter, not the composed "3.1.2") gives the number a clause has.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MANUAL = re.compile(r"^(\d+(?:\.\d+)*)(\.?)(?:\s+|$)(.*)$", re.S)
_ITEM_NUMBER = re.compile(r"^\d+(?:\.\d+)*$")
_HEADER = re.compile(r"^(key|language|title)\s*:\s*(.*)$", re.I)
_FILE_LANGUAGE = re.compile(r"[._-]([A-Za-z]{2,3})$")
ACTION_TABLE_COLUMNS = 6  # №, activity, indicator, responsible, deadline, funding
MAX_UNPACKED = 100 * 1024 * 1024  # a 300-page draft with images unpacks to a few megabytes


class NotReadable(Exception):
    """The file is not a Word document we can open; `message` says what to do."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def refusal_for(filename: str, content: bytes):
    """The message for a file that is not a .docx (or None when it may be one), judged by its first bytes."""
    name = filename.lower()
    if content.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".doc"):
        return _l(
            "This is an old Word file (.doc). Open it in Word or LibreOffice, choose “Save as”, "
            "pick “Word document (.docx)” and upload that file."
        )
    if content.startswith(b"%PDF") or name.endswith(".pdf"):
        return _l(
            "This is a PDF file, whose clauses cannot be read reliably. Upload the Word file (.docx) "
            "the PDF was made from, or save the text as .docx."
        )
    if name.endswith((".odt", ".rtf")) or (
        content.startswith(b"PK") and b"application/vnd.oasis.opendocument" in content[:200]
    ):
        return _l(
            "This is an OpenDocument or RTF file. Open it in LibreOffice or Word and save it as "
            "“Word document (.docx)”, then upload that file."
        )
    return None


def is_docx(filename: str, content: bytes | str) -> bool:
    if isinstance(content, str):
        return False
    return filename.lower().endswith(".docx") or content.startswith(b"PK\x03\x04")


# --- Word's automatic numbering ---------------------------------------------------------------------


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # None: after any higher level; 0: never
    style: str | None = None
    legal: bool = False


def _letters(n: int) -> str:
    # Word repeats the letter: a … z, aa … zz.
    if n <= 0:
        return str(n)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _roman(n: int) -> str:
    out = []
    for value, letters in ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out) or str(n)


def _format(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("none", "bullet"):
        return ""
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)  # decimal and the rest


def _val(element, tag: str) -> str | None:
    child = element.find(W + tag) if element is not None else None
    return child.get(W + "val") if child is not None else None


class Numbering:
    """Counts Word list paragraphs in document order and gives each the label Word would show."""

    def __init__(self, numbering_element, styles_element):
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        self.style_numbering: dict[str, tuple[str | None, int | None]] = {}
        self.style_parent: dict[str, str] = {}
        self.style_names: dict[str, str] = {}
        if numbering_element is not None:
            for abstract in numbering_element.iter(W + "abstractNum"):
                levels = {}
                for lvl in abstract.iter(W + "lvl"):
                    restart = _val(lvl, "lvlRestart")
                    levels[int(lvl.get(W + "ilvl", "0"))] = _Level(
                        start=int(_val(lvl, "start") or 1),
                        fmt=_val(lvl, "numFmt") or "decimal",
                        text=_val(lvl, "lvlText") or "",
                        restart=int(restart) if restart is not None else None,
                        style=_val(lvl, "pStyle"),
                        legal=lvl.find(W + "isLgl") is not None,
                    )
                self.abstract[abstract.get(W + "abstractNumId")] = levels
            for num in numbering_element.iter(W + "num"):
                overrides = {}
                for override in num.iter(W + "lvlOverride"):
                    start = _val(override, "startOverride")
                    if start is not None:
                        overrides[int(override.get(W + "ilvl", "0"))] = int(start)
                self.nums[num.get(W + "numId")] = (_val(num, "abstractNumId"), overrides)
        if styles_element is not None:
            for style in styles_element.iter(W + "style"):
                style_id = style.get(W + "styleId")
                self.style_names[style_id] = (_val(style, "name") or style_id or "").lower()
                based_on = _val(style, "basedOn")
                if based_on:
                    self.style_parent[style_id] = based_on
                num_pr = style.find(f"{W}pPr/{W}numPr")
                if num_pr is not None:
                    ilvl = _val(num_pr, "ilvl")
                    self.style_numbering[style_id] = (
                        _val(num_pr, "numId"),
                        int(ilvl) if ilvl is not None else None,
                    )

    def style_chain(self, style_id: str | None):
        seen = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            yield style_id
            style_id = self.style_parent.get(style_id)

    def numbering_of(self, p) -> tuple[str | None, int | None]:
        """The (numId, level) a paragraph is listed with: its own, else its style's."""
        style_id = _val(p.find(W + "pPr"), "pStyle")
        num_pr = p.find(f"{W}pPr/{W}numPr")
        num_id = ilvl = None
        if num_pr is not None:
            num_id = _val(num_pr, "numId")
            raw = _val(num_pr, "ilvl")
            ilvl = int(raw) if raw is not None else None
        for sid in self.style_chain(style_id):
            if num_id is not None and ilvl is not None:
                break
            style_num, style_lvl = self.style_numbering.get(sid, (None, None))
            num_id = num_id if num_id is not None else style_num
            ilvl = ilvl if ilvl is not None else style_lvl
        if num_id is None or num_id == "0" or num_id not in self.nums:
            return None, None
        if ilvl is None:
            # A heading style linked to a multi-level list names itself on its level.
            levels = self.abstract.get(self.nums[num_id][0], {})
            ilvl = next(
                (n for n, lvl in levels.items() if style_id and lvl.style in self.style_chain(style_id)),
                0,
            )
        return num_id, ilvl

    def label(self, num_id: str, ilvl: int) -> tuple[str, str]:
        """Count the paragraph and return (format, label): ("decimal", "3.1.2."), ("bullet", "")."""
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:
            self.started.add(num_id)
            # A list instance with start overrides restarts its abstract list there (Word's "restart at").
            for level, start in overrides.items():
                counters[level] = start - 1
                for deeper in [d for d in counters if d > level]:
                    del counters[deeper]
        level = levels.get(ilvl, _Level())
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for deeper in [d for d in counters if d > ilvl]:
            restart = levels.get(deeper, _Level()).restart
            if restart is None or (restart and restart - 1 <= ilvl):
                del counters[deeper]
        if level.fmt == "bullet":
            return "bullet", level.text

        def value(match: re.Match) -> str:
            n = int(match.group(1)) - 1
            other = levels.get(n, _Level())
            count = counters.get(n, other.start)
            return str(count) if level.legal else _format(count, other.fmt)

        return level.fmt, re.sub(r"%([1-9])", value, level.text)


# --- the paragraphs ---------------------------------------------------------------------------------


def paragraph_text(p) -> str:
    """The text a reader sees, as if tracked changes were accepted; text boxes are not the paragraph's."""
    parts = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        ancestors = {a.tag for a in node.iterancestors()}
        if W + "moveFrom" in ancestors or W + "txbxContent" in ancestors or W + "pPr" in ancestors:
            continue
        if node.tag == W + "t":
            parts.append(node.text or "")
        elif node.tag == W + "tab":
            parts.append(" ")
        else:
            parts.append("\n")
    # Word users align with runs of spaces and tabs; one space is what the text means.
    return re.sub(r"[ \xa0]{2,}|\xa0", " ", "".join(parts)).strip()


NOT_KEPT = {
    "footnotes": (W + "footnoteReference", W + "endnoteReference"),
    "comments": (W + "commentReference",),
    "images": (W + "drawing", W + "pict", W + "object"),
    "tracked_changes": (W + "ins", W + "del", W + "moveFrom", W + "moveTo"),
}


# The preview's words for NOT_KEPT, and for text outside any numbered item.
NOT_KEPT_LABELS: dict[str, object] = {
    "footnotes": _l("Footnotes and endnotes"),
    "comments": _l("Reviewers' comments in the margin"),
    "images": _l("Images, charts and text boxes"),
    "tracked_changes": _l("Tracked changes (read as if accepted)"),
    "headers_footers": _l("Page headers and footers"),
    "outside": _l("Paragraphs outside any numbered item (title page, notes under tables)"),
}


def not_kept_label(code: str) -> str:
    return str(NOT_KEPT_LABELS.get(code, code))


def open_docx(content: bytes):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise NotReadable(_not_word())
            # A small upload that unpacks to gigabytes is not a draft (and would exhaust memory).
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise NotReadable(_not_word())
        return docx.Document(io.BytesIO(content))
    except NotReadable:
        raise
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise NotReadable(_not_word()) from exc
    except Exception as exc:  # lxml's XMLSyntaxError and the like: a damaged file
        raise NotReadable(_not_word()) from exc


def _not_word():
    return _l(
        "The file could not be read as a Word document (.docx): it may be damaged or only partly "
        "downloaded. Open it in Word, save it again as .docx and upload that file."
    )


def file_language(filename: str) -> str | None:
    stem = filename.rsplit("/", 1)[-1]
    stem = stem[: -len(".docx")] if stem.lower().endswith(".docx") else stem
    match = _FILE_LANGUAGE.search(stem)
    return match.group(1).lower() if match else None


def file_key(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1]
    stem = stem[: -len(".docx")] if stem.lower().endswith(".docx") else stem
    match = _FILE_LANGUAGE.search(stem)
    if match:
        stem = stem[: match.start()]
    return re.sub(r"[\s_]+", "-", stem.strip().lower())


def manual_number(text: str, heading: bool) -> tuple[str, str] | None:
    """ "3.1.2. Text" → ("3.1.2", "Text"). Outside headings a number needs a dot ("3." or "3.1") so that
    "2023 year…" is not taken for clause 2023."""
    match = _MANUAL.match(text)
    if not match:
        return None
    number, dot, rest = match.groups()
    if not heading and "." not in number and not dot:
        return None
    if not heading and not rest.strip():
        return None
    return number, rest.strip()


def list_number(label: str) -> str | None:
    """A Word list label that is a clause number: "3.1.2." or "3.1.2" → "3.1.2"; "a)" → None."""
    candidate = label.strip().rstrip(".)").strip()
    return candidate if _ITEM_NUMBER.match(candidate) else None


# --- from blocks to items ---------------------------------------------------------------------------


def _paragraph_place(index: int, text: str):
    start = text if len(text) <= 40 else text[:39] + "…"
    if not start:
        return _l("paragraph %(n)d", n=index)
    return _l("paragraph %(n)d (“%(start)s”)", n=index, start=start)


def _row_place(table: int, row: int):
    return _l("table %(table)d, row %(row)d", table=table, row=row)


class _DocxParser:
    def __init__(self, filename: str, content: bytes, allowed):
        from eventreg.consultation.importer import ParsedFile

        self.filename = filename
        self.allowed = list(allowed)
        self.document = open_docx(content)
        try:
            numbering_element = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering_element = None
        self.numbering = Numbering(numbering_element, self.document.styles.element)
        self.result = ParsedFile(filename)
        self.problems = []
        self.header: dict[str, tuple[str, object]] = {}
        self.title = ""
        self.item = None
        self.blocks: list[str] = []
        self.in_list = False
        self.places: dict[str, object] = {}
        self.outside: list[object] = []

    def problem(self, place, message) -> None:
        from eventreg.consultation.importer import ImportProblem

        self.problems.append(ImportProblem(self.filename, 0, message, place=place))

    def parse(self):
        body = self.document.element.body
        self._count_not_kept(body)
        paragraph_no = table_no = 0
        for child in body.iterchildren():
            if child.tag == W + "p":
                paragraph_no += 1
                self._paragraph(child, paragraph_no)
            elif child.tag == W + "tbl":
                table_no += 1
                self._table(child, table_no)
        self._finish_item()
        self._settle_header()
        if not self.result.items and not self.problems:
            self.problem(
                None,
                _l(
                    "No numbered clause was found: number the headings or clauses (“3.1.2.”) by hand or "
                    "with Word's numbering."
                ),
            )
        if self.outside:
            self.result.not_kept["outside"] = len(self.outside)
        return self.result

    def _count_not_kept(self, body) -> None:
        for name, tags in NOT_KEPT.items():
            count = sum(1 for _node in body.iter(*tags))
            if count:
                self.result.not_kept[name] = count
        for section in self.document.sections:
            for part in (section.header, section.footer):
                if not part.is_linked_to_previous and any(p.text.strip() for p in part.paragraphs):
                    self.result.not_kept["headers_footers"] = 1

    # Paragraphs.
    def _style(self, p):
        style_id = _val(p.find(W + "pPr"), "pStyle")
        names = [self.numbering.style_names.get(s, s.lower()) for s in self.numbering.style_chain(style_id)]
        outline = _val(p.find(W + "pPr"), "outlineLvl")
        is_title = bool(names) and names[0] in ("title", "название", "аталышы")
        is_heading = (
            any(n.startswith(("heading", "заголовок")) for n in names)
            or (outline is not None and outline != "9")
        ) and not is_title
        return is_heading, is_title

    def _paragraph(self, p, index: int) -> None:
        text = paragraph_text(p)
        num_id, ilvl = self.numbering.numbering_of(p)
        label = fmt = None
        if num_id is not None:
            fmt, label = self.numbering.label(num_id, ilvl)
        if not text:
            return
        place = _paragraph_place(index, text)
        is_heading, is_title = self._style(p)
        if self.item is None and not self.result.items:
            headers = [_HEADER.match(line.strip()) for line in text.split("\n") if line.strip()]
            if headers and all(headers) and num_id is None:
                for header in headers:
                    self.header[header.group(1).lower()] = (header.group(2).strip(), place)
                return
            if is_title and not self.title:
                self.title = text
                return
        number, rest = None, text
        if fmt is not None and fmt != "bullet":
            number = list_number(label)
            if number is None:
                self._list_block(f"{label} {text}".strip())
                return
            typed = manual_number(text, True)
            if typed and typed[0] == number:  # the number typed again after Word's own
                rest = typed[1]
        elif fmt == "bullet":
            self._list_block(f"• {text}")
            return
        else:
            typed = manual_number(text, is_heading)
            if typed:
                number, rest = typed
        if number is None:
            if self.item is None or self.item.is_row:
                self.outside.append(place)
                return
            self._block(text)
            return
        self._start_item(
            number, place, heading=rest if is_heading else "", text=rest if not is_heading else ""
        )

    def _block(self, text: str) -> None:
        self.blocks.append(text)
        self.in_list = False

    def _list_block(self, text: str) -> None:
        if self.item is None or self.item.is_row:
            self.outside.append(text)
            return
        if self.in_list and self.blocks:
            self.blocks[-1] += "\n" + text
        else:
            self.blocks.append(text)
        self.in_list = True

    def _register(self, number: str, place) -> bool:
        from eventreg.consultation.importer import MAX_NUMBER

        if len(number) > MAX_NUMBER:
            self.problem(place, _l("The item number is too long."))
            return False
        if number in self.places:
            self.problem(
                place,
                _l(
                    "Item %(number)s appears twice (first at %(first)s).",
                    number=number,
                    first=self.places[number],
                ),
            )
            return False
        self.places[number] = place
        return True

    def _start_item(self, number: str, place, heading: str = "", text: str = ""):
        from eventreg.consultation.importer import ParsedItem

        self._finish_item()
        if not self._register(number, place):
            return None
        self.item = ParsedItem(number=number, is_row=False, line=0)
        self.item.place = place
        self.item.heading["_"] = heading
        if text:
            self.blocks.append(text)
        return self.item

    def _finish_item(self) -> None:
        item = self.item
        if item is not None and not item.is_row:
            text = "\n\n".join(b for b in self.blocks if b)
            if text:
                item.text["_"] = text
            if not item.heading.get("_"):
                item.heading.pop("_", None)
            if not item.heading and not item.text:
                self.problem(
                    item.place, _l("Item %(number)s has neither a heading nor text.", number=item.number)
                )
            self.result.items.append(item)
        self.item = None
        self.blocks = []
        self.in_list = False

    # Tables.
    def _cells(self, tr) -> list[tuple[str, str | None]]:
        """Each cell's text, and the list label of its first numbered paragraph (counted in order)."""
        cells = []
        for tc in tr.findall(W + "tc"):
            texts, label = [], None
            for p in tc.iter(W + "p"):
                num_id, ilvl = self.numbering.numbering_of(p)
                if num_id is not None:
                    fmt, value = self.numbering.label(num_id, ilvl)
                    if label is None and fmt != "bullet":
                        label = value
                text = paragraph_text(p)
                if text:
                    texts.append(text)
            cells.append(("\n".join(texts), label))
        return cells

    def _row_number(self, text: str, label: str | None) -> tuple[str | None, str]:
        if label and list_number(label):
            return list_number(label), text
        typed = manual_number(text, True)
        return (typed[0], typed[1]) if typed else (None, text)

    def _table(self, tbl, table_no: int) -> None:
        columns = len(tbl.findall(f"{W}tblGrid/{W}gridCol"))
        rows = tbl.findall(W + "tr")
        if columns != ACTION_TABLE_COLUMNS:
            # Not an action plan: its rows become text of the item it follows.
            for row_no, tr in enumerate(rows, start=1):
                line = " | ".join(text for text, _label in self._cells(tr) if text)
                if not line:
                    continue
                if self.item is None or self.item.is_row:
                    self.outside.append(_row_place(table_no, row_no))
                else:
                    self._block(line)
            return
        from eventreg.consultation.importer import ACTION_COLUMNS, ParsedItem

        self._finish_item()
        seen_rows = False
        for row_no, tr in enumerate(rows, start=1):
            place = _row_place(table_no, row_no)
            cells = self._cells(tr)
            if not any(text or label for text, label in cells):
                continue
            number, first = self._row_number(*cells[0])
            if len(cells) == 1 or (first and all(not text for text, _label in cells[1:])):
                # A row across the table: a section heading ("1. Economic opportunities").
                if number is None:
                    if seen_rows:
                        self.problem(place, _l("A row across the table must start with a section number."))
                    continue
                if self._start_item(number, place, heading=first) is not None:
                    self._finish_item()
                continue
            if number is None:
                if seen_rows:
                    self.problem(place, _l("An action-plan row must start with its number, like “1.1”."))
                continue  # the column titles
            seen_rows = True
            if len(cells) != ACTION_TABLE_COLUMNS:
                self.problem(
                    place,
                    _l(
                        "An action-plan row needs %(expected)d cells (%(columns)s); this one has %(found)d.",
                        expected=ACTION_TABLE_COLUMNS,
                        found=len(cells),
                        columns=", ".join(("number", *ACTION_COLUMNS)),
                    ),
                )
                continue
            values = [text for text, _label in cells[1:]]
            if not values[0]:
                self.problem(place, _l("The activity of row %(number)s is empty.", number=number))
                continue
            if not self._register(number, place):
                continue
            item = ParsedItem(number=number, is_row=True, line=0)
            item.place = place
            for column, value in zip(ACTION_COLUMNS, values, strict=True):
                item.fields[column] = {"_": value}
            item.lines["_"] = 0
            self.result.items.append(item)
        self.item = None

    # Key, language and title: typed at the top ("key: …"), else from the file name and properties.
    def _settle_header(self) -> None:
        from eventreg.consultation.importer import _KEY, MAX_KEY

        properties = self.document.core_properties
        language, language_place = self.header.get("language", (None, None))
        language = (language or file_language(self.filename) or (properties.language or "")[:2]).lower()
        if not language:
            self.problem(
                None,
                _l(
                    "Say which language the file is in: name it like “strategy.ky.docx”, or start it with a "
                    "line “language: ky”."
                ),
            )
            return
        if language not in self.allowed:
            self.problem(
                language_place,
                _l(
                    "Unknown language “%(code)s”; the languages are: %(allowed)s.",
                    code=language,
                    allowed=", ".join(self.allowed),
                ),
            )
            return
        key, key_place = self.header.get("key", (None, None))
        key = key or file_key(self.filename)
        if not _KEY.match(key or "") or len(key) > MAX_KEY:
            self.problem(
                key_place,
                _l(
                    "The document needs a key of small Latin letters, digits and hyphens: name the file "
                    "like “national-strategy.ru.docx”, or start it with a line “key: national-strategy”."
                ),
            )
        title = self.header.get("title", ("", None))[0] or self.title or (properties.title or "").strip()
        if not title:
            self.problem(
                None,
                _l(
                    "The document needs a title: give its first line the style “Title”, or a line “title: …”."
                ),
            )
        self.result.key = key
        self.result.key_line = 0
        self.result.languages = [language]
        self.result.title = {language: title} if title else {}
        for item in self.result.items:
            for mapping in (item.heading, item.text, item.lines):
                if "_" in mapping:
                    mapping[language] = mapping.pop("_")
            for values in item.fields.values():
                values[language] = values.pop("_")
            item.lines.setdefault(language, 0)


def read_docx(filename: str, content: bytes, allowed):
    """One Word file → (ParsedFile, problems). Raises NotReadable for a file that is not a .docx."""
    parser = _DocxParser(filename, content, allowed)
    return parser.parse(), parser.problems

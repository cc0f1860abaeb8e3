"""Reading a draft document from plain-text/Markdown files (the format is described in docs/import-format.md).

Parsing is pure (no database): `parse_files` returns either a `ParsedDocument` or a list of line-numbered
problems, never both. `store_document` writes a parsed document as a new version. Anything with a problem is
never stored, so a half-imported draft cannot exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eventreg.models import Consultation, Document, DocumentItem, ItemKind

ACTION_COLUMNS = ("activity", "indicator", "responsible", "deadline", "funding")
MAX_KEY = 80
MAX_NUMBER = 40
MAX_TITLE = 500

_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9_.\[\]-]*)\s*:\s*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)*$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MARKER = re.compile(r"^\[([A-Za-z]{2,3})\](?:\s+(.*))?$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_TITLE_KEY = re.compile(r"^title(?:\.|\[)([A-Za-z]{2,3})\]?$")


@dataclass
class ImportProblem:
    """One thing wrong with one line of one file (line 0: the file as a whole)."""

    filename: str
    line: int
    message: object  # a lazy translated string, rendered in the reader's language
    place: object = None  # in a Word file, where there are no lines: "paragraph 12", "table 2, row 3"

    def __str__(self) -> str:
        if self.place:
            return str(
                _l(
                    "%(file)s, %(place)s: %(message)s",
                    file=self.filename,
                    place=self.place,
                    message=self.message,
                )
            )
        if self.line:
            return str(
                _l(
                    "%(file)s, line %(line)d: %(message)s",
                    file=self.filename,
                    line=self.line,
                    message=self.message,
                )
            )
        return str(_l("%(file)s: %(message)s", file=self.filename, message=self.message))


@dataclass
class ParsedItem:
    number: str
    is_row: bool
    line: int
    heading: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # where each language's version was given
    kind: str = ItemKind.CLAUSE.value
    place: object = None  # where a Word file gives it (ImportProblem.place)

    @property
    def level(self) -> int:
        return self.number.count(".") + 1


@dataclass
class ParsedFile:
    filename: str
    key: str = ""
    key_line: int = 1
    languages: list[str] = field(default_factory=list)
    side_by_side: bool = False
    title: dict[str, str] = field(default_factory=dict)
    items: list[ParsedItem] = field(default_factory=list)
    not_kept: dict[str, int] = field(default_factory=dict)  # Word content not read: {"footnotes": 2}


@dataclass
class ParsedDocument:
    key: str
    title: dict[str, str]
    languages: list[str]
    items: list[ParsedItem]
    not_kept: dict[str, dict[str, int]] = field(default_factory=dict)  # per file name


@dataclass
class ParseResult:
    document: ParsedDocument | None
    problems: list[ImportProblem]

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems


class _FileParser:
    def __init__(self, filename: str, lines: list[str], allowed: Sequence[str]):
        self.filename = filename
        self.lines = lines
        self.allowed = list(allowed)
        self.problems: list[ImportProblem] = []
        self.result = ParsedFile(filename)
        self.numbers: dict[str, int] = {}
        self.item: ParsedItem | None = None
        self.lang: str | None = None  # the language block being read (side by side)
        self.buffer: list[str] = []
        # After a heading we could not read, its text is skipped rather than reported line by line.
        self.skipping = False

    def problem(self, line: int, message) -> None:
        self.problems.append(ImportProblem(self.filename, line, message))

    def parse(self) -> ParsedFile:
        start = self._parse_header()
        if not self.result.languages:
            return self.result
        for index in range(start, len(self.lines)):
            self._parse_line(index)
        self._finish_item()
        if not self.result.items and not self.problems:
            self.problem(
                0, _l("The file has no items: start each item with a heading such as “## 3.2 Title”.")
            )
        return self.result

    # The header: "name: value" lines at the top, ended by the first blank line.
    def _parse_header(self) -> int:
        index = 0
        while index < len(self.lines) and not self.lines[index].strip():
            index += 1
        header: dict[str, tuple[str, int]] = {}
        titles: dict[str, tuple[str, int]] = {}
        while index < len(self.lines) and self.lines[index].strip():
            line_no = index + 1
            raw = self.lines[index].strip()
            if _HEADING.match(raw) or raw.startswith("|"):
                break
            match = _HEADER.match(raw)
            if not match:
                self.problem(
                    line_no,
                    _l(
                        "The header must have lines like “key: national-strategy”; leave a blank line before the text."
                    ),
                )
            else:
                name, value = match.group(1).lower(), match.group(2).strip()
                title_lang = _TITLE_KEY.match(name)
                if title_lang:
                    titles[title_lang.group(1).lower()] = (value, line_no)
                elif name in ("key", "language", "languages", "title"):
                    if name in header:
                        self.problem(line_no, _l("“%(name)s” is given twice.", name=name))
                    header[name] = (value, line_no)
                else:
                    self.problem(
                        line_no,
                        _l(
                            "Unknown header field “%(name)s”; use key, title, language or languages.",
                            name=name,
                        ),
                    )
            index += 1

        key, key_line = header.get("key", ("", 1))
        self.result.key_line = key_line
        if not key:
            self.problem(key_line, _l("The header needs a document key, like “key: national-strategy”."))
        elif not _KEY.match(key) or len(key) > MAX_KEY:
            self.problem(
                key_line,
                _l(
                    "The key may use only small Latin letters, digits and hyphens, at most %(max)d characters.",
                    max=MAX_KEY,
                ),
            )
        self.result.key = key

        if "language" in header and "languages" in header:
            self.problem(
                header["languages"][1],
                _l("Use either “language” (one language) or “languages” (side by side), not both."),
            )
            return index
        if "languages" in header:
            value, line_no = header["languages"]
            codes = [c for c in re.split(r"[\s,;]+", value.lower()) if c]
            self.result.side_by_side = True
        elif "language" in header:
            value, line_no = header["language"]
            codes = [value.lower()] if value else []
        else:
            self.problem(
                1,
                _l(
                    "The header needs “language: ru” (one language) or “languages: ru, ky, en” (side by side)."
                ),
            )
            return index
        bad = [c for c in codes if c not in self.allowed]
        if not codes or bad:
            self.problem(
                line_no,
                _l(
                    "Unknown language “%(code)s”; the languages are: %(allowed)s.",
                    code=", ".join(bad) or value,
                    allowed=", ".join(self.allowed),
                ),
            )
            return index
        if len(set(codes)) != len(codes):
            self.problem(line_no, _l("A language is listed twice."))
            return index
        self.result.languages = codes

        if "title" in header:
            if self.result.side_by_side:
                self.problem(
                    header["title"][1],
                    _l("In a side-by-side file give the title per language, like “title.ky: …”."),
                )
            else:
                titles.setdefault(codes[0], header["title"])
        for code, (value, line_no) in titles.items():
            if code not in codes:
                self.problem(
                    line_no,
                    _l(
                        "A title in “%(code)s”, which this file does not list among its languages.", code=code
                    ),
                )
            elif len(value) > MAX_TITLE:
                self.problem(line_no, _l("The title is longer than %(max)d characters.", max=MAX_TITLE))
            elif value:
                self.result.title[code] = value
        for code in codes:
            if code not in self.result.title:
                self.problem(key_line, _l("The header needs a title in “%(code)s”.", code=code))
        return index

    def _parse_line(self, index: int) -> None:
        line_no = index + 1
        raw = self.lines[index].rstrip()
        stripped = raw.strip()
        if not stripped:
            self.buffer.append("")
            return
        heading = _HEADING.match(stripped)
        if heading:
            self._start_heading(line_no, heading.group(2).strip())
            return
        if stripped.startswith("|"):
            if _SEPARATOR.match(stripped):
                return
            following = self.lines[index + 1].strip() if index + 1 < len(self.lines) else ""
            if following.startswith("|") and _SEPARATOR.match(following):
                return  # a table's column titles, for people reading the file
            self._table_row(line_no, stripped)
            return
        if self.result.side_by_side:
            marker = _MARKER.match(stripped)
            if marker:
                self._start_language(line_no, marker.group(1).lower(), (marker.group(2) or "").strip())
                return
        if self.item is None:
            if self.skipping:
                return
            self.problem(
                line_no, _l("Text before the first item: start with a heading such as “## 1 Title”.")
            )
            return
        if self.item.is_row:
            self.problem(
                line_no,
                _l("Text after an action-plan row belongs to no item: put it in the row or under a heading."),
            )
            return
        if self.result.side_by_side and self.lang is None:
            self.problem(
                line_no,
                _l("Say which language this text is in: start the block with a marker such as “[ru]”."),
            )
            return
        self.buffer.append(stripped)

    def _register_number(self, line_no: int, number: str) -> bool:
        if len(number) > MAX_NUMBER:
            self.problem(line_no, _l("The item number is too long."))
            return False
        if number in self.numbers:
            self.problem(
                line_no,
                _l(
                    "Item %(number)s appears twice (first on line %(first)d).",
                    number=number,
                    first=self.numbers[number],
                ),
            )
            return False
        self.numbers[number] = line_no
        return True

    def _start_heading(self, line_no: int, rest: str) -> None:
        self._finish_item()
        self.skipping = True
        number, _, heading = rest.partition(" ")
        number = number.rstrip(".")
        if not _NUMBER.match(number):
            self.problem(line_no, _l("A heading must start with the item number, like “## 3.2.1 Title”."))
            return
        heading = heading.strip()
        if not self._register_number(line_no, number):
            return
        item = ParsedItem(number=number, is_row=False, line=line_no)
        if self.result.side_by_side:
            if heading:
                self.problem(
                    line_no,
                    _l(
                        "In a side-by-side file put the heading after each language marker, like “[ru] Title”."
                    ),
                )
                return
        else:
            lang = self.result.languages[0]
            item.heading[lang] = heading
            item.lines[lang] = line_no
            self.lang = lang
        self.item = item
        self.skipping = False

    def _start_language(self, line_no: int, code: str, heading: str) -> None:
        if self.item is None or self.item.is_row:
            self.problem(line_no, _l("A language marker must follow an item heading such as “## 3.2”."))
            return
        if code not in self.result.languages:
            self.problem(line_no, _l("Language “%(code)s” is not listed in the header.", code=code))
            return
        if code in self.item.lines:
            self.problem(
                line_no,
                _l("Item %(number)s has two “[%(code)s]” blocks.", number=self.item.number, code=code),
            )
            return
        self._flush_text()
        self.lang = code
        self.item.heading[code] = heading
        self.item.lines[code] = line_no

    def _table_row(self, line_no: int, stripped: str) -> None:
        self._finish_item()
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", stripped.strip("|"))]
        if stripped.endswith("\\|"):
            cells[-1] += "|"
        expected = len(ACTION_COLUMNS) + (2 if self.result.side_by_side else 1)
        if len(cells) != expected:
            self.problem(
                line_no,
                _l(
                    "An action-plan row needs %(expected)d cells (%(columns)s); this one has %(found)d.",
                    expected=expected,
                    found=len(cells),
                    columns=self._columns_hint(),
                ),
            )
            return
        number = cells[0].rstrip(".")
        if not _NUMBER.match(number):
            self.problem(line_no, _l("An action-plan row must start with its number, like “| 1.1 | …”."))
            return
        values = cells[1:]
        if self.result.side_by_side:
            code = values.pop(0).lower()
            if code not in self.result.languages:
                self.problem(line_no, _l("Language “%(code)s” is not listed in the header.", code=code))
                return
        else:
            code = self.result.languages[0]
        if not values[0]:
            self.problem(line_no, _l("The activity of row %(number)s is empty.", number=number))
            return
        existing = (
            next((i for i in self.result.items if i.number == number), None)
            if self.result.side_by_side
            else None
        )
        if existing is not None and existing.is_row:
            if code in existing.lines:
                self.problem(
                    line_no, _l("Row %(number)s is given twice in “%(code)s”.", number=number, code=code)
                )
                return
            item = existing
        else:
            if not self._register_number(line_no, number):
                return
            item = ParsedItem(number=number, is_row=True, line=line_no)
            self.result.items.append(item)
        item.lines[code] = line_no
        for column, value in zip(ACTION_COLUMNS, values, strict=True):
            item.fields.setdefault(column, {})[code] = value
        self.item = item
        self.lang = code

    def _columns_hint(self) -> str:
        names = ["number", *(["language"] if self.result.side_by_side else []), *ACTION_COLUMNS]
        return ", ".join(names)

    def _flush_text(self) -> None:
        if self.item is not None and self.lang is not None and not self.item.is_row:
            text = _join_paragraphs(self.buffer)
            if text:
                self.item.text[self.lang] = text
        self.buffer = []

    def _finish_item(self) -> None:
        item = self.item
        if item is None:
            self.buffer = []
            return
        self._flush_text()
        if not item.is_row:
            if self.result.side_by_side:
                missing = [c for c in self.result.languages if c not in item.lines]
                if missing:
                    self.problem(
                        item.line,
                        _l(
                            "Item %(number)s has no text in: %(languages)s.",
                            number=item.number,
                            languages=", ".join(missing),
                        ),
                    )
                for code in item.lines:
                    if not item.heading.get(code) and not item.text.get(code):
                        self.problem(
                            item.lines[code],
                            _l("Item %(number)s is empty in “%(code)s”.", number=item.number, code=code),
                        )
            elif not any(item.heading.values()) and not any(item.text.values()):
                self.problem(
                    item.line, _l("Item %(number)s has neither a heading nor text.", number=item.number)
                )
            self.result.items.append(item)
        self.item = None
        self.lang = None

    def check_rows_complete(self) -> None:
        if not self.result.side_by_side:
            return
        for item in self.result.items:
            if item.is_row:
                missing = [c for c in self.result.languages if c not in item.lines]
                if missing:
                    self.problem(
                        item.line,
                        _l(
                            "Row %(number)s is missing in: %(languages)s.",
                            number=item.number,
                            languages=", ".join(missing),
                        ),
                    )


def _join_paragraphs(lines: list[str]) -> str:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    return "\n\n".join(paragraphs)


def _decode(filename: str, content: bytes | str) -> tuple[list[str] | None, ImportProblem | None]:
    if isinstance(content, str):
        return content.splitlines(), None
    try:
        return content.decode("utf-8-sig").splitlines(), None
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return None, ImportProblem(
            filename, line, _l("The file is not UTF-8 text; save it as UTF-8 and try again.")
        )


def parse_files(files: Iterable[tuple[str, bytes | str]], languages: Sequence[str]) -> ParseResult:
    """Parse one side-by-side file, or one file per language of the same document, into one document.

    Files in several languages are matched by item number; an item missing from one language, or only in
    one, is a problem reported with its line.
    """
    problems: list[ImportProblem] = []
    parsed: list[ParsedFile] = []
    from eventreg.consultation import docx_reader

    for filename, content in files:
        refusal = None if isinstance(content, str) else docx_reader.refusal_for(filename, content)
        if refusal is not None:
            problems.append(ImportProblem(filename, 0, refusal))
            continue
        if docx_reader.is_docx(filename, content):
            try:
                result, file_problems = docx_reader.read_docx(filename, content, languages)
            except docx_reader.NotReadable as exc:
                problems.append(ImportProblem(filename, 0, exc.message))
                continue
            problems.extend(file_problems)
            parsed.append(result)
            continue
        lines, problem = _decode(filename, content)
        if problem is not None:
            problems.append(problem)
            continue
        parser = _FileParser(filename, lines, languages)
        result = parser.parse()
        parser.check_rows_complete()
        problems.extend(parser.problems)
        parsed.append(result)
    if not parsed and not problems:
        problems.append(ImportProblem("-", 0, _l("No file was given.")))
    if problems:
        return ParseResult(None, problems)
    document = _merge(parsed, problems)
    if problems:
        return ParseResult(None, problems)
    _assign_kinds(document.items)
    return ParseResult(document, [])


def _merge(files: list[ParsedFile], problems: list[ImportProblem]) -> ParsedDocument:
    first = files[0]
    document = ParsedDocument(
        key=first.key,
        title=dict(first.title),
        languages=list(first.languages),
        items=first.items,
        not_kept={f.filename: f.not_kept for f in files if f.not_kept},
    )
    by_number = {item.number: item for item in first.items}
    language_file = {code: first.filename for code in first.languages}
    for other in files[1:]:
        if other.key != first.key:
            problems.append(
                ImportProblem(
                    other.filename,
                    other.key_line,
                    _l(
                        "The key “%(key)s” differs from “%(first)s” in %(file)s: all files must be the same document.",
                        key=other.key,
                        first=first.key,
                        file=first.filename,
                    ),
                )
            )
            continue
        clash = [c for c in other.languages if c in language_file]
        if clash:
            problems.append(
                ImportProblem(
                    other.filename,
                    other.key_line,
                    _l(
                        "Language “%(code)s” is also given in %(file)s.",
                        code=clash[0],
                        file=language_file[clash[0]],
                    ),
                )
            )
            continue
        for code in other.languages:
            language_file[code] = other.filename
        document.languages.extend(other.languages)
        document.title.update(other.title)
        seen: set[str] = set()
        for item in other.items:
            seen.add(item.number)
            base = by_number.get(item.number)
            if base is None:
                problems.append(
                    ImportProblem(
                        other.filename,
                        item.line,
                        _l("Item %(number)s is not in %(file)s.", number=item.number, file=first.filename),
                        place=item.place,
                    )
                )
                continue
            if base.is_row != item.is_row:
                problems.append(
                    ImportProblem(
                        other.filename,
                        item.line,
                        _l(
                            "Item %(number)s is an action-plan row in one file and a heading in the other.",
                            number=item.number,
                        ),
                        place=item.place,
                    )
                )
                continue
            base.heading.update(item.heading)
            base.text.update(item.text)
            base.lines.update(item.lines)
            for column, values in item.fields.items():
                base.fields.setdefault(column, {}).update(values)
        for item in first.items:
            if item.number not in seen:
                problems.append(
                    ImportProblem(
                        first.filename,
                        item.line,
                        _l(
                            "Item %(number)s is missing from %(file)s.",
                            number=item.number,
                            file=other.filename,
                        ),
                        place=item.place,
                    )
                )
    return document


def _assign_kinds(items: list[ParsedItem]) -> None:
    # An item that has numbered children is a section; the rest are clauses (or action-plan rows).
    parents = {item.number.rsplit(".", 1)[0] for item in items if "." in item.number}
    for item in items:
        if item.is_row:
            item.kind = ItemKind.ACTION.value
        elif item.number in parents:
            item.kind = ItemKind.SECTION.value
        else:
            item.kind = ItemKind.CLAUSE.value


def store_document(session: Session, consultation: Consultation, parsed: ParsedDocument) -> Document:
    """Add the parsed document as the newest version of its key and make it current.

    Earlier versions keep their items and comments (comments point at the version's own items); only
    `is_current` moves. Call inside the caller's transaction, next to its audit entry.
    """
    latest = session.scalar(
        select(func.max(Document.version)).where(
            Document.consultation_id == consultation.id, Document.key == parsed.key
        )
    )
    session.execute(
        update(Document)
        .where(Document.consultation_id == consultation.id, Document.key == parsed.key)
        .values(is_current=False)
    )
    document = Document(
        consultation_id=consultation.id,
        key=parsed.key,
        version=(latest or 0) + 1,
        title=parsed.title,
        is_current=True,
    )
    session.add(document)
    session.flush()
    session.add_all(
        DocumentItem(
            document_id=document.id,
            number=item.number,
            position=position,
            level=item.level,
            kind=item.kind,
            heading={k: v for k, v in item.heading.items() if v},
            text=item.text,
            fields=item.fields,
        )
        for position, item in enumerate(parsed.items, start=1)
    )
    return document


def import_files(
    session: Session,
    consultation_id: int,
    files: Iterable[tuple[str, bytes | str]],
    languages: Sequence[str],
    *,
    user=None,
    source: str = "upload",
) -> tuple[Document | None, list[ImportProblem]]:
    """Parse and, only if nothing is wrong, store the files as a new version, with its audit entry.

    Runs in the caller's unit of work. The new version is linked to the current one by the matching the
    upload preview shows (versions.store_version), without corrections.
    """
    from eventreg.consultation.versions import current_version, store_version

    result = parse_files(files, languages)
    if not result.ok:
        return None, result.problems
    previous = current_version(session, consultation_id, result.document.key)
    document = store_version(
        session,
        consultation_id,
        result.document,
        previous_id=previous.id if previous else None,
        by=user,
        source=source,
    )
    return document, []

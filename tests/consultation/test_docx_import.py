"""Word (.docx) drafts: automatic and typed numbers, lists, action-plan tables, what is not kept, refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from eventreg.consultation.demo_documents import DEMO_DIR, DEMO_FILES
from eventreg.consultation.importer import parse_files
from tests.docx_builder import number, numbered_list, restart, to_bytes
from tests.factories_consultation import LANGS

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

WORDS = {
    "ru": ("Проект стратегии", "Анализ", "Экономика", "Кредиты", "Детсады", "Задачи", "Цель", "Равенство"),
    "ky": (
        "Стратегиянын долбоору",
        "Талдоо",
        "Экономика",
        "Насыялар",
        "Бала бакчалар",
        "Милдеттер",
        "Максат",
        "Теңчилик",
    ),
    "en": ("Draft strategy", "Analysis", "Economy", "Loans", "Kindergartens", "Tasks", "Goal", "Equality"),
}


def parse(app, files, lang="en"):
    with app.test_request_context(f"/{lang}/"):
        result = parse_files(files, LANGS)
        return result, [str(p) for p in result.problems]


def ministry_draft(lang: str) -> bytes:
    """A draft as ministries type it: Word's multi-level numbering with a restart, typed numbers, a
    bulleted list inside a clause, a lettered list, and the action-plan table."""
    title, analysis, economy, loans, kindergartens, tasks, goal, equality = WORDS[lang]
    doc = docx.Document()
    doc.add_paragraph(title, style="Title")
    doc.add_paragraph("Preamble that belongs to no clause.")
    abstract, num = numbered_list(doc, ["%1.", "%1.%2.", "%1.%2.%3."])
    number(doc.add_paragraph(analysis, style="Heading 1"), num, 0)  # 1.
    doc.add_paragraph(f"{analysis} — text.")
    number(doc.add_paragraph(economy, style="Heading 2"), num, 1)  # 1.1.
    number(doc.add_paragraph(f"{loans}: text of the clause."), num, 2)  # 1.1.1. (a clause, not a heading)
    _bullets_abstract, bullets = numbered_list(doc, ["•"], fmt="bullet")
    number(doc.add_paragraph(f"{loans} one"), bullets, 0)
    number(doc.add_paragraph(f"{loans} two"), bullets, 0)
    doc.add_paragraph("After the list.")
    number(doc.add_paragraph(kindergartens, style="Heading 3"), num, 2)  # 1.1.2.
    _letters_abstract, letters = numbered_list(doc, ["%1)"], fmt="lowerLetter")
    number(doc.add_paragraph("first"), letters, 0)
    number(doc.add_paragraph("second"), letters, 0)
    number(doc.add_paragraph(tasks, style="Heading 1"), num, 0)  # 2.
    doc.add_paragraph(f"{tasks} — text.")
    number(doc.add_paragraph(goal, style="Heading 2"), num, 1)  # 2.1. (level 2 restarts after level 1)
    # Typed by hand: 2.2 and 2.2.1.
    doc.add_paragraph(f"2.2. {equality}", style="Heading 2")
    doc.add_paragraph(f"2.2.1. {equality}: typed clause text.")
    doc.add_paragraph("2023 was a year: not a clause number.")
    # A second list instance that restarts the same abstract list at 5.
    again = restart(doc, abstract, starts={0: 5})
    number(doc.add_paragraph("Action plan", style="Heading 1"), again, 0)  # 5.
    table = doc.add_table(rows=1, cols=6)
    for cell, text in zip(
        table.rows[0].cells, ("№", "activity", "indicator", "responsible", "deadline", "funding"), strict=True
    ):
        cell.text = text
    row = table.add_row()
    merged = row.cells[0].merge(row.cells[5])
    merged.text = f"5.1. {economy}"
    for n in ("5.1.1", "5.1.2"):
        cells = table.add_row().cells
        cells[0].text = n
        for i, cell in enumerate(cells[1:], start=1):
            cell.text = f"{lang} {n} col {i}"
    return to_bytes(doc)


def test_a_ministry_draft_imports_with_computed_numbers_lists_and_table_rows(app):
    result, problems = parse(app, [(f"strategy.{lang}.docx", ministry_draft(lang)) for lang in LANGS])
    assert problems == []
    document = result.document
    items = {item.number: item for item in document.items}
    assert list(items) == [
        "1",
        "1.1",
        "1.1.1",
        "1.1.2",
        "2",
        "2.1",
        "2.2",
        "2.2.1",
        "5",
        "5.1",
        "5.1.1",
        "5.1.2",
    ]
    assert document.key == "strategy"
    assert document.title == {lang: WORDS[lang][0] for lang in LANGS}
    assert items["1"].heading["ky"] == "Талдоо" and items["1"].kind == "section"
    assert items["1.1.1"].heading == {} and items["1.1.1"].kind == "clause"
    assert (
        items["1.1.1"].text["ru"]
        == "Кредиты: text of the clause.\n\n• Кредиты one\n• Кредиты two\n\nAfter the list."
    )
    assert items["1.1.2"].text["en"] == "a) first\nb) second"
    assert items["2.1"].heading["en"] == "Goal"
    assert items["2.2"].heading["ru"] == "Равенство"
    assert (
        items["2.2.1"].text["ky"] == "Теңчилик: typed clause text.\n\n2023 was a year: not a clause number."
    )
    assert items["5"].heading["en"] == "Action plan"
    assert items["5.1"].heading["ky"] == "Экономика" and items["5.1"].kind == "section"
    row = items["5.1.2"]
    assert row.kind == "action"
    assert row.fields["activity"] == {lang: f"{lang} 5.1.2 col 1" for lang in LANGS}
    assert row.fields["funding"]["ky"] == "ky 5.1.2 col 5"
    assert document.not_kept["strategy.ru.docx"] == {"outside": 1}


def test_start_values_and_roman_and_legal_numbering(app):
    doc = docx.Document()
    doc.add_paragraph("key: plan\nlanguage: en")
    doc.add_paragraph("title: Plan")
    _abstract, num = numbered_list(doc, ["%1.", "%1.%2."], starts={0: 3})
    number(doc.add_paragraph("Third", style="Heading 1"), num, 0)
    number(doc.add_paragraph("Sub", style="Heading 2"), num, 1)
    number(doc.add_paragraph("Fourth", style="Heading 1"), num, 0)
    number(doc.add_paragraph("Sub again", style="Heading 2"), num, 1)
    result, problems = parse(app, [("anything.docx", to_bytes(doc))])
    assert problems == []
    assert [(i.number, i.heading["en"]) for i in result.document.items] == [
        ("3", "Third"),
        ("3.1", "Sub"),
        ("4", "Fourth"),
        ("4.1", "Sub again"),
    ]


def test_heading_styles_linked_to_a_list_are_numbered(app):
    doc = docx.Document()
    doc.add_paragraph("Linked", style="Title")
    _abstract, num = numbered_list(doc, ["%1", "%1.%2"], styles=["Heading1", "Heading2"])
    for style_id, level in (("Heading1", None), ("Heading2", None)):
        pPr = doc.styles[f"Heading {style_id[-1]}"].element.get_or_add_pPr()
        pPr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:numId w:val="{num}"/></w:numPr>'))
        del level
    doc.add_paragraph("One", style="Heading 1")
    doc.add_paragraph("One one", style="Heading 2")
    doc.add_paragraph("One two", style="Heading 2")
    doc.add_paragraph("Two", style="Heading 1")
    doc.add_paragraph("Two one", style="Heading 2")
    result, problems = parse(app, [("linked.ky.docx", to_bytes(doc))])
    assert problems == []
    assert [i.number for i in result.document.items] == ["1", "1.1", "1.2", "2", "2.1"]
    assert result.document.key == "linked" and result.document.languages == ["ky"]


@pytest.mark.parametrize("stem", ["national-strategy", "action-plan"])
def test_example_word_files_import_to_the_same_tree_as_the_text_demo(app, stem):
    names = DEMO_FILES[0] if stem == "national-strategy" else DEMO_FILES[1]
    text, problems = parse(app, [(n, (DEMO_DIR / n).read_bytes()) for n in names])
    assert problems == []
    word, problems = parse(
        app, [(f"{stem}.{lang}.docx", (EXAMPLES / f"{stem}.{lang}.docx").read_bytes()) for lang in LANGS]
    )
    assert problems == []

    def tree(document):
        return [(i.number, i.kind, i.level, i.heading, i.text, i.fields) for i in document.items]

    assert tree(word.document) == tree(text.document)
    assert word.document.title == text.document.title and word.document.key == text.document.key


def test_items_missing_between_word_files_are_located_by_paragraph(app):
    def one(lang, numbers):
        doc = docx.Document()
        doc.add_paragraph(f"Draft {lang}", style="Title")
        for n in numbers:
            doc.add_paragraph(f"{n}. Heading {n}", style="Heading 2")
        return to_bytes(doc)

    _result, problems = parse(
        app, [("s.ru.docx", one("ru", ["1", "2"])), ("s.ky.docx", one("ky", ["1", "3"]))]
    )
    assert "s.ky.docx, paragraph 3 (“3. Heading 3”): Item 3 is not in s.ru.docx." in problems
    assert "s.ru.docx, paragraph 3 (“2. Heading 2”): Item 2 is missing from s.ky.docx." in problems


def test_bad_table_rows_and_duplicates_are_located(app):
    doc = docx.Document()
    doc.add_paragraph("Plan", style="Title")
    doc.add_paragraph("1. Section", style="Heading 1")
    table = doc.add_table(rows=3, cols=6)
    table.rows[0].cells[0].text = "№"
    table.rows[1].cells[0].text = "1.1"
    table.rows[1].cells[1].text = "Activity"
    table.rows[2].cells[0].text = "1.1"
    table.rows[2].cells[1].text = "Again"
    row = table.add_row().cells
    row[0].text = "1.2"
    _result, problems = parse(app, [("plan.en.docx", to_bytes(doc))], lang="ru")
    assert any(p.startswith("plan.en.docx, таблица 1, строка 3:") for p in problems), problems
    assert any(p.startswith("plan.en.docx, таблица 1, строка 4:") for p in problems), problems


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_what_is_not_kept_is_counted(app):
    doc = docx.Document()
    doc.add_paragraph("Draft", style="Title")
    heading = doc.add_paragraph("1. Clause", style="Heading 1")
    paragraph = doc.add_paragraph("Text with a comment.")
    doc.add_comment(paragraph.runs, text="Reviewer's note", author="Ministry")
    doc.add_picture(io.BytesIO(tiny_png()))
    # A tracked insertion: read as accepted.
    paragraph._p.append(
        parse_xml(
            f'<w:ins {nsdecls("w")} w:id="9" w:author="A" w:date="2021-10-12T00:00:00Z"><w:r><w:t> Inserted.</w:t></w:r></w:ins>'
        )
    )
    paragraph._p.append(
        parse_xml(
            f'<w:del {nsdecls("w")} w:id="10" w:author="A" w:date="2021-10-12T00:00:00Z"><w:r><w:delText>Deleted.</w:delText></w:r></w:del>'
        )
    )
    doc.sections[0].footer.paragraphs[0].text = "Page footer"
    del heading
    result, problems = parse(app, [("draft.en.docx", to_bytes(doc))])
    assert problems == []
    assert result.document.items[0].text["en"] == "Text with a comment. Inserted."
    assert result.document.not_kept["draft.en.docx"] == {
        "comments": 1,
        "images": 1,
        "tracked_changes": 2,
        "headers_footers": 1,
    }


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("strategy.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Word file (.doc)"),
        ("strategy.pdf", b"%PDF-1.7\n...", "PDF file"),
        ("strategy.odt", b"PK\x03\x04....mimetypeapplication/vnd.oasis.opendocument.text", "OpenDocument"),
        ("strategy.docx", b"PK\x03\x04 broken zip", "could not be read as a Word document"),
        ("strategy.docx", b"not a zip at all", "could not be read as a Word document"),
    ],
)
def test_other_formats_and_damaged_files_get_a_message(app, name, content, words):
    result, problems = parse(app, [(name, content)])
    assert result.document is None
    assert len(problems) == 1 and problems[0].startswith(f"{name}: ") and words in problems[0]


def test_a_zip_that_is_not_a_word_file(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    _result, problems = parse(app, [("x.docx", buffer.getvalue())], lang="ky")
    assert problems and problems[0].startswith("x.docx: ")


def test_a_word_file_without_language_or_key_says_what_to_do(app):
    doc = docx.Document()
    doc.add_paragraph("Стратегия", style="Title")
    doc.add_paragraph("1. Пункт", style="Heading 1")
    _result, problems = parse(app, [("Стратегия.docx", to_bytes(doc))])
    assert any("language: ky" in p for p in problems)
    doc.core_properties.language = "ru-RU"
    _result, problems = parse(app, [("Стратегия.docx", to_bytes(doc))])
    assert any("key: national-strategy" in p for p in problems)


def test_the_word_examples_as_version_2_of_the_text_demo_are_unchanged_everywhere(app, db_session, runner):
    from sqlalchemy import select

    from eventreg.models import Document, DocumentItem, DocumentItemLink
    from tests.factories import make_consultation

    consultation = make_consultation(db_session)
    demo = [str(DEMO_DIR / n) for n in DEMO_FILES[0]]
    word = [str(EXAMPLES / f"national-strategy.{lang}.docx") for lang in LANGS]
    for paths in (demo, word):
        outcome = runner.invoke(args=["documents", "import", *paths, "--consultation", consultation.slug])
        assert outcome.exit_code == 0, outcome.output
    db_session.expire_all()
    v1, v2 = db_session.scalars(select(Document).order_by(Document.version)).all()
    relations = db_session.scalars(
        select(DocumentItemLink.relation)
        .join(DocumentItem, DocumentItem.id == DocumentItemLink.item_id)
        .where(DocumentItem.document_id == v2.id)
    ).all()
    count = len(db_session.scalars(select(DocumentItem.id).where(DocumentItem.document_id == v1.id)).all())
    assert relations == ["unchanged"] * count


def test_a_word_file_that_unpacks_to_too_much_is_refused(app, monkeypatch):
    from eventreg.consultation import docx_reader

    monkeypatch.setattr(docx_reader, "MAX_UNPACKED", 1000)
    _result, problems = parse(app, [("big.docx", (EXAMPLES / "action-plan.en.docx").read_bytes())])
    assert len(problems) == 1 and "could not be read as a Word document" in problems[0]

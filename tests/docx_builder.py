"""Word files for tests and examples, built with python-docx plus the numbering definitions Word writes.

`numbered_list(doc, ["%1.", "%1.%2.", "%1.%2.%3."])` adds a multi-level list (an abstractNum and one
instance of it); `restart(doc, abstract_id)` adds another instance that starts again at 1, as Word's
"Restart numbering" does; `number(paragraph, num_id, level)` puts a paragraph on a list.
"""

from __future__ import annotations

import io

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm

from eventreg.consultation.importer import ACTION_COLUMNS, ParsedDocument


def _numbering(doc):
    return doc.part.numbering_part.element


def numbered_list(doc, level_texts, *, fmt="decimal", starts=None, styles=None) -> tuple[int, int]:
    """Add an abstract list with these level texts; return (abstract id, num id of its first instance)."""
    numbering = _numbering(doc)
    ids = [int(a.get(a.tag.split("}")[0] + "}abstractNumId")) for a in _abstracts(numbering)]
    abstract_id = max([*ids, 99]) + 1
    levels = []
    for ilvl, text in enumerate(level_texts):
        start = (starts or {}).get(ilvl, 1)
        style = f'<w:pStyle w:val="{styles[ilvl]}"/>' if styles and ilvl < len(styles) else ""
        level_fmt = fmt if isinstance(fmt, str) else fmt[ilvl]
        levels.append(
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{level_fmt}"/>{style}'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{360 * (ilvl + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
        )
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{"".join(levels)}</w:abstractNum>'
    )
    # Word wants every abstractNum before the first num.
    nums = numbering.findall(abstract.tag.replace("abstractNum", "num"))
    if nums:
        nums[0].addprevious(abstract)
    else:
        numbering.append(abstract)
    return abstract_id, restart(doc, abstract_id, starts=None)


def _abstracts(numbering):
    return [child for child in numbering if child.tag.endswith("}abstractNum")]


def restart(doc, abstract_id: int, starts: dict[int, int] | None = {0: 1}) -> int:  # noqa: B006
    """A new instance of the list; with `starts`, it restarts those levels (Word's lvlOverride)."""
    numbering = _numbering(doc)
    num_ids = [int(n.get(n.tag.split("}")[0] + "}numId")) for n in numbering if n.tag.endswith("}num")]
    num_id = max([*num_ids, 99]) + 1
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{lvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
        for lvl, start in (starts or {}).items()
    )
    numbering.append(
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
        )
    )
    return num_id


def number(paragraph, num_id: int, level: int = 0):
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id
    return paragraph


def to_bytes(doc) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def from_parsed(parsed: ParsedDocument, lang: str, *, automatic: bool = True) -> bytes:
    """A Word file of one language of a parsed document, the way a ministry would type it.

    Sections and clauses are headings numbered by Word's multi-level list (automatic) or by hand;
    action-plan rows go into six-column tables, with a row across the table for each section heading
    that has rows under it.
    """
    doc = docx.Document()
    doc.core_properties.language = lang
    doc.add_paragraph(f"key: {parsed.key}")
    doc.add_paragraph(parsed.title[lang], style="Title")
    depth = max(item.level for item in parsed.items)
    level_texts = [".".join(f"%{n}" for n in range(1, d + 2)) for d in range(depth)]
    _abstract, num_id = numbered_list(doc, level_texts)
    items = parsed.items
    table = None
    for index, item in enumerate(items):
        if item.is_row:
            if table is None:
                table = doc.add_table(rows=1, cols=6)
                table.style = "Table Grid"
                for cell, title in zip(table.rows[0].cells, ("№", *ACTION_COLUMNS), strict=True):
                    cell.text = title
            cells = table.add_row().cells
            cells[0].text = item.number
            for cell, column in zip(cells[1:], ACTION_COLUMNS, strict=True):
                cell.text = item.fields[column][lang]
            continue
        following = items[index + 1] if index + 1 < len(items) else None
        if following is not None and following.is_row and not item.text.get(lang):
            # A section of rows: a row across the table carries its number and heading.
            if table is None:
                table = doc.add_table(rows=1, cols=6)
                table.style = "Table Grid"
                for cell, title in zip(table.rows[0].cells, ("№", *ACTION_COLUMNS), strict=True):
                    cell.text = title
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[5])
            merged.text = f"{item.number}. {item.heading.get(lang, '')}"
            continue
        table = None
        heading = item.heading.get(lang, "")
        style = f"Heading {min(item.level, 9)}"
        if automatic:
            number(doc.add_paragraph(heading, style=style), num_id, item.level - 1)
        else:
            doc.add_paragraph(f"{item.number}. {heading}", style=style)
        for block in (item.text.get(lang) or "").split("\n\n"):
            if block:
                doc.add_paragraph(block)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2)
    return to_bytes(doc)

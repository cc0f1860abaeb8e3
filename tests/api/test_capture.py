"""Capture workbooks: download, fill as a facilitator would, upload, preview, import, upload again."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from eventreg.models import CapturedRow, Comment
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_consultation, make_event_session
from tests.factories_consultation import import_document


@pytest.fixture
def setup(app, db_session):
    consultation = make_consultation(db_session)
    document = import_document(db_session, consultation)
    event = make_event_session(db_session, consultation)
    client = app.test_client()
    organiser = login_as(client, app, make_user(db_session, role="organiser"))
    return client, event, document, organiser


def download(client, event, document) -> bytes:
    response = client.get(f"/ru/organiser/capture/workbook.xlsx?session={event.id}&document={document.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data()


def fill(data: bytes, rows: dict[str, list[tuple[int, dict]]]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    columns = {
        "comment": "D",
        "kind": "E",
        "wording": "F",
        "name": "G",
        "organisation": "H",
        "sector": "I",
        "region": "J",
        "sex": "K",
        "item": "B",
    }
    for sheet, entries in rows.items():
        for row, values in entries:
            for name, value in values.items():
                workbook[sheet][f"{columns[name]}{row}"] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, data: bytes, lang: str = "en"):
    page = client.get(f"/{lang}/organiser/capture/")
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        f"/{lang}/organiser/capture/preview",
        data={"csrf_token": token, "workbook": (io.BytesIO(data), "filled.xlsx")},
        content_type="multipart/form-data",
    )


def confirm(client, preview_html: str):
    token = csrf_token(preview_html)
    workbook = re.search(r'name="workbook" type="hidden" value="([^"]+)"', preview_html).group(1)
    return client.post("/en/organiser/capture/import", data={"csrf_token": token, "workbook": workbook})


def test_the_workbook_lists_items_with_drop_downs_and_instructions(setup):
    client, event, document, _organiser = setup
    workbook = load_workbook(io.BytesIO(download(client, event, document)))
    assert workbook.sheetnames[0] == "Instructions"
    assert {"ru", "ky", "en", "meta", "lists"} <= set(workbook.sheetnames)
    assert workbook["meta"].sheet_state == "hidden" and workbook["lists"].sheet_state == "hidden"
    instructions = " ".join(str(c.value) for c in workbook["Instructions"]["A"] if c.value)
    assert "Capture workbook" in instructions
    assert "Лист" in instructions or "лист" in instructions  # the Russian instructions
    ky = workbook["ky"]
    assert ky["B1"].value and ky.column_dimensions["A"].hidden
    assert [ky[f"B{row}"].value for row in range(2, 6)] == ["1", "1.1", "1.2", "1.3"]
    assert ky["C3"].value == "Экономика" and ky["A3"].value.startswith("ky:")
    validated = {str(v.sqref).split(":")[0][0] for v in ky.data_validations.dataValidation}
    assert validated == {"E", "I", "J", "K"}
    lists = workbook["lists"]
    assert "Нарын облусу" in [c.value for column in lists.iter_cols() for c in column]


def test_fill_preview_import_and_upload_again_without_duplicates(setup, db_session):
    client, event, document, organiser = setup
    empty = download(client, event, document)
    speaker = {
        "organisation": "ЖӨБ «Үмүт»",
        "sector": "Жергиликтүү өз алдынча башкаруу органы (ЖӨБ)",
        "region": "Нарын облусу",
        "sex": "Аял",
    }
    filled = fill(
        empty,
        {
            "ky": [
                (3, {"comment": "Экономикадагы аялдар үчүн ң ө ү", "kind": "Колдоо", **speaker}),
                (4, {"comment": "=SUM(A1:A3) деп жазылган", "kind": "Суроо", **speaker}),
                (6, {"comment": "Жалпы документ боюнча", "kind": "Башка", "item": "", **speaker}),
                (7, {"comment": "Белгисиз пункт", "kind": "Колдоо", "item": "9.9", **speaker}),
                (8, {"comment": "Сектору жок", "kind": "Колдоо", "region": "Нарын облусу", "sex": "Аял"}),
            ],
            "ru": [
                (
                    2,
                    {
                        "comment": "Поддерживаю раздел",
                        "kind": "support",
                        "sector": "civil_society",
                        "region": "KG-N",
                        "sex": "female",
                        "name": "Айгүл",
                    },
                )
            ],
        },
    )
    preview = upload(client, filled)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:1000]
    assert "4 comments will be imported" in html
    assert "Sheet ky, row 7:" in html and "no item with this number" in html
    assert "Sheet ky, row 8:" in html and "Sector: please choose" in html
    assert db_session.scalar(select(Comment.id)) is None, "nothing is stored before the organiser confirms"
    imported = confirm(client, html)
    assert imported.status_code == 303
    comments = list(db_session.scalars(select(Comment).order_by(Comment.id)))
    assert len(comments) == 4
    by_body = {c.body: c for c in comments}
    first = by_body["Экономикадагы аялдар үчүн ң ө ү"]
    assert first.item.number == "1.1" and first.language == "ky" and first.kind == "support"
    assert first.sector == "local_government" and first.region == "KG-N" and first.sex == "female"
    assert first.source == "paper" and first.session_id == event.id and first.entered_by_id == organiser.id
    assert by_body["=SUM(A1:A3) деп жазылган"].kind == "question", "a formula-like text stays text"
    assert by_body["Жалпы документ боюнча"].item_id is None
    assert (
        by_body["Поддерживаю раздел"].language == "ru"
        and by_body["Поддерживаю раздел"].author_name == "Айгүл"
    )
    # The same file again adds nothing; a copy with one more row adds only that row.
    again = upload(client, filled).get_data(as_text=True)
    assert "0 comments will be imported" in again and "4 rows were imported before" in again
    more = fill(
        filled,
        {
            "en": [
                (
                    5,
                    {
                        "comment": "One more",
                        "kind": "Objection",
                        "sector": "Media",
                        "region": "Osh City",
                        "sex": "Male",
                    },
                )
            ]
        },
    )
    assert confirm(client, upload(client, more).get_data(as_text=True)).status_code == 303
    assert db_session.scalar(select(Comment.id).where(Comment.body == "One more")) is not None
    assert len(list(db_session.scalars(select(Comment)))) == 5
    assert len(list(db_session.scalars(select(CapturedRow)))) == 5


def _zip_with(name: str, content: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


def test_a_file_that_is_not_a_capture_workbook_is_refused(setup):
    from openpyxl import Workbook

    client, event, document, _organiser = setup
    plain = io.BytesIO()
    Workbook().save(plain)
    without_meta = load_workbook(io.BytesIO(download(client, event, document)))
    del without_meta["meta"]
    stripped = io.BytesIO()
    without_meta.save(stripped)
    broken = download(client, event, document)[:-200]
    for data in (
        b"not a workbook at all",
        _zip_with("xl/workbook.xml", b"<broken"),
        plain.getvalue(),
        stripped.getvalue(),
        broken,
    ):
        response = upload(client, data)
        assert response.status_code == 400 and "not a capture workbook" in response.get_data(as_text=True)


def test_session_and_document_of_different_consultations_are_refused(setup, db_session):
    client, _event, document, _organiser = setup
    other = make_event_session(db_session)
    response = client.get(f"/en/organiser/capture/workbook.xlsx?session={other.id}&document={document.id}")
    assert response.status_code == 400

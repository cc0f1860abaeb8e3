"""Importing drafts (files, command line, upload page), versions, the demo drafts, and the document page."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event, func, select

from eventreg.consultation.importer import parse_files
from eventreg.demo import CONSULTATION_SLUG, load_demo_data
from eventreg.models import AuditEntry, Comment, Document, DocumentItem
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_comment, make_consultation
from tests.factories_consultation import LANGS, SIDE_BY_SIDE, import_document, one_language


def documents(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(Document).order_by(Document.id)))


def problems_of(app, files, lang="en"):
    with app.test_request_context(f"/{lang}/"):
        result = parse_files(files, LANGS)
        return result, [str(p) for p in result.problems]


def test_side_by_side_file_imports_every_language(app, db_session):
    document = import_document(db_session, key="strategy")
    items = {
        i.number: i
        for i in db_session.scalars(select(DocumentItem).where(DocumentItem.document_id == document.id))
    }
    assert list(items) == ["1", "1.1", "1.2", "1.3"]
    assert items["1"].kind == "section" and items["1.1"].kind == "clause" and items["1.3"].kind == "action"
    assert items["1.1"].level == 2
    assert items["1.1"].heading == {"ru": "Экономика", "ky": "Экономика", "en": "Economy"}
    assert items["1.2"].text["ky"] == "Окуу китептери."
    assert items["1.3"].fields["responsible"] == {
        "ru": "Минобрнауки",
        "ky": "БИМ",
        "en": "Ministry of Education",
    }
    assert document.title["ky"] == "Стратегиянын долбоору"
    assert [i.position for i in sorted(items.values(), key=lambda i: i.position)] == [1, 2, 3, 4]


def test_one_file_per_language_merges_by_number(app, db_session):
    files = [(f"{lang}.md", one_language(lang).encode()) for lang in LANGS]
    result, problems = problems_of(app, files)
    assert problems == []
    first = result.document.items[1]
    assert first.number == "1.1"
    assert first.heading == {"ru": "Heading 1.1 ru", "ky": "Heading 1.1 ky", "en": "Heading 1.1 en"}
    assert result.document.title == {"ru": "Draft ru", "ky": "Draft ky", "en": "Draft en"}


def test_missing_and_extra_numbers_between_languages_are_reported_with_lines(app):
    files = [
        ("ru.md", one_language("ru", numbers=("1", "1.1", "1.2")).encode()),
        ("ky.md", one_language("ky", numbers=("1", "1.2", "1.3")).encode()),
    ]
    result, problems = problems_of(app, files)
    assert result.document is None
    assert "ky.md, line 11: Item 1.3 is not in ru.md." in problems
    assert "ru.md, line 8: Item 1.1 is missing from ky.md." in problems


BAD = """\
key: Strategy!
languages: ru, xx
title.ru: Проект

Текст без пункта
# a.b Heading
## 1.1
[ru] Раздел
| 1.2 | ru | только три | ячейки |
## 1.1
[ru] Снова
"""


def test_bad_file_lists_line_numbered_problems_and_stores_nothing(app, db_session, runner, tmp_path):
    _result, problems = problems_of(app, [("bad.md", BAD.encode())])
    assert any(p.startswith("bad.md, line 1:") and "small Latin letters" in p for p in problems)
    assert any(p.startswith("bad.md, line 2:") and "Unknown language" in p for p in problems)

    good_header = BAD.replace("Strategy!", "strategy").replace("ru, xx", "ru")
    _result, problems = problems_of(app, [("bad.md", good_header.encode())])
    assert (
        "bad.md, line 5: Text before the first item: start with a heading such as “## 1 Title”." in problems
    )
    assert any(p.startswith("bad.md, line 6:") and "must start with the item number" in p for p in problems)
    assert any(p.startswith("bad.md, line 9:") and "needs 7 cells" in p for p in problems)
    assert any(p.startswith("bad.md, line 10:") and "appears twice (first on line 7)" in p for p in problems)

    # Russian messages for a Russian page
    _result, problems = problems_of(app, [("bad.md", b"\xff\xfe")], lang="ru")
    assert problems and problems[0].startswith("bad.md")

    path = tmp_path / "bad.md"
    path.write_text(good_header, encoding="utf-8")
    consultation = make_consultation(db_session)
    outcome = runner.invoke(args=["documents", "import", str(path), "--consultation", consultation.slug])
    assert outcome.exit_code != 0
    assert "line 6" in outcome.output and "nothing was imported" in outcome.output
    assert documents(db_session) == []
    assert db_session.scalar(select(func.count(DocumentItem.id))) == 0


def test_not_utf8_points_at_the_line(app):
    _result, problems = problems_of(
        app, [("cp1251.md", "key: a\nlanguage: ru\n\n# 1 Заголовок\n".encode("cp1251"))]
    )
    assert problems == ["cp1251.md, line 4: The file is not UTF-8 text; save it as UTF-8 and try again."]


def test_side_by_side_item_missing_a_language_is_an_error(app):
    text = SIDE_BY_SIDE.format(key="s").replace("[ky] Экономика\nЭкономикадагы аялдар.\n", "")
    _result, problems = problems_of(app, [("s.md", text.encode())])
    assert problems == ["s.md, line 15: Item 1.1 has no text in: ky."]
    text = SIDE_BY_SIDE.format(key="s").replace(
        "| 1.3 | ky | Бала бакча ачуу | 150 топ | БИМ | 2023 | бюджет |\n", ""
    )
    _result, problems = problems_of(app, [("s.md", text.encode())])
    assert problems == ["s.md, line 33: Row 1.3 is missing in: ky."]


def test_cli_imports_and_a_second_import_is_a_new_version_keeping_old_comments(
    app, db_session, runner, tmp_path
):
    consultation = make_consultation(db_session)
    paths = []
    for lang in LANGS:
        path = tmp_path / f"{lang}.md"
        path.write_text(one_language(lang), encoding="utf-8")
        paths.append(str(path))
    outcome = runner.invoke(args=["documents", "import", *paths, "--consultation", consultation.slug])
    assert outcome.exit_code == 0, outcome.output
    assert "version 1 (3 items)" in outcome.output
    (first,) = documents(db_session)
    old_item = db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == first.id, DocumentItem.number == "1.1")
    ).one()
    comment = make_comment(db_session, first, old_item, body="Old comment")

    outcome = runner.invoke(args=["documents", "import", *paths, "--consultation", consultation.slug])
    assert outcome.exit_code == 0, outcome.output
    first, second = documents(db_session)
    assert (first.version, first.is_current, second.version, second.is_current) == (1, False, 2, True)
    db_session.expire_all()
    kept = db_session.get(Comment, comment.id)
    assert kept.document_id == first.id and kept.item_id == old_item.id
    assert (
        db_session.scalar(select(func.count(DocumentItem.id)).where(DocumentItem.document_id == second.id))
        == 3
    )
    actions = [a.action for a in db_session.scalars(select(AuditEntry))]
    assert actions == ["document.import", "document.import"]

    assert runner.invoke(args=["documents", "import", *paths, "--consultation", "nope"]).exit_code != 0


def test_earlier_version_page_shows_its_own_comments_and_no_comment_links(client, db_session):
    consultation = make_consultation(db_session)
    old = import_document(db_session, consultation)
    old_item = db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == old.id, DocumentItem.number == "1.1")
    ).one()
    make_comment(db_session, old, old_item, body="Comment on version one", status="published")
    import_document(db_session, consultation)  # version 2
    current = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert "Draft, version 2" in current and "Comment on version one" not in current
    page = client.get(f"/en/consultation/{consultation.slug}/strategy?version=1").get_data(as_text=True)
    assert "This is an earlier version" in page and "Comment on version one" in page
    assert "/items/1.1/comment" not in page


def upload(client, files, slug, lang="en"):
    page = client.get(f"/{lang}/organiser/documents/upload")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "consultation": slug}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/{lang}/organiser/documents/upload", data=data, content_type="multipart/form-data")


def confirm(client, preview_page: str, lang="en", action="store", **corrections):
    token = re.search(r'name="preview" value="([^"]+)"', preview_page).group(1)
    data = {"csrf_token": csrf_token(preview_page), "preview": token, "action": action}
    data.update({f"link-{number.replace('_', '.')}": value for number, value in corrections.items()})
    return client.post(f"/{lang}/organiser/documents/confirm", data=data)


def test_upload_page_needs_the_organiser_role(app, client, db_session):
    assert client.get("/en/organiser/documents/upload").status_code in (302, 401)
    login_as(client, app, make_user(db_session, role="analyst"))
    assert client.get("/en/organiser/documents/upload").status_code == 403


def test_upload_imports_good_files_and_lists_problems_for_bad_ones(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    bad = one_language("ky", numbers=("1", "1.5"))
    response = upload(
        client, [("ru.md", one_language("ru").encode()), ("ky.md", bad.encode())], consultation.slug
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nothing was imported" in page
    assert "ky.md, line 8: Item 1.5 is not in ru.md." in page
    assert documents(db_session) == []

    files = [(f"{lang}.md", one_language(lang).encode()) for lang in LANGS]
    response = upload(client, files, consultation.slug)
    assert response.status_code == 200  # the preview: nothing stored yet
    assert documents(db_session) == []
    response = confirm(client, response.get_data(as_text=True))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/en/consultation/{consultation.slug}/strategy")
    (document,) = documents(db_session)
    entry = db_session.scalars(select(AuditEntry)).one()
    assert entry.action == "document.import" and entry.object_id == document.id and entry.user_id is not None
    assert "Imported" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_demo_documents_load_in_three_languages(db_session):
    assert load_demo_data(db_session) is True
    docs = {d.key: d for d in documents(db_session)}
    assert set(docs) == {"national-strategy", "action-plan"}
    for document in docs.values():
        assert set(document.title) == set(LANGS)
        items = list(db_session.scalars(select(DocumentItem).where(DocumentItem.document_id == document.id)))
        for item in items:
            if item.kind == "action":
                assert all(
                    set(values) == set(LANGS) and all(values.values()) for values in item.fields.values()
                ), item.number
            else:
                assert set(item.heading) == set(LANGS), item.number
    strategy = [
        i.number
        for i in db_session.scalars(
            select(DocumentItem).where(DocumentItem.document_id == docs["national-strategy"].id)
        )
    ]
    assert len(strategy) >= 40 and {"3.1.1", "3.5", "5.1", "5.2"} <= set(strategy)
    rows = db_session.scalar(
        select(func.count(DocumentItem.id)).where(
            DocumentItem.document_id == docs["action-plan"].id, DocumentItem.kind == "action"
        )
    )
    assert rows >= 10
    assert db_session.scalar(select(func.count(Comment.id)).where(Comment.status == "published")) >= 3


def test_demo_has_a_campaign_the_organiser_is_offered_to_group(db_session):
    from eventreg.moderation.services import find_group_candidates

    load_demo_data(db_session)
    suggestions = find_group_candidates(db_session)
    assert [len(s.comments) for s in suggestions] == [5]
    organisations = {c.organisation for c in suggestions[0].comments}
    assert len(organisations) == 5 and "ОФ «Аялзат»" in organisations


def test_demo_document_page_reads_in_kyrgyz_with_a_comparison(client, db_session):
    load_demo_data(db_session)
    page = client.get(f"/ky/consultation/{CONSULTATION_SLUG}/national-strategy?compare=ru")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ишкер аялдардын каржыга жетүүсү" in html and "Доступ женщин-предпринимателей к финансам" in html
    assert 'id="i-3.1.1"' in html and 'href="#i-3.1.1"' in html
    index = client.get("/en/consultation").get_data(as_text=True)
    assert "National Action Plan" in index and "UTC+6" in index


def test_document_page_uses_a_fixed_number_of_queries(app, client, db_session):
    consultation = make_consultation(db_session)
    lines = ["key: big", "language: ru", "title: Большой проект", ""]
    for section in range(1, 21):
        lines += [f"# {section} Раздел {section}", ""]
        for clause in range(1, 16):
            lines += [f"## {section}.{clause} Пункт", f"Текст пункта {section}.{clause}.", ""]
    import_document(db_session, consultation, text="\n".join(lines))
    document = documents(db_session)[0]
    items = list(db_session.scalars(select(DocumentItem).where(DocumentItem.document_id == document.id)))
    assert len(items) == 320
    for item in items[:30]:
        make_comment(db_session, document, item, status="published")

    statements = []
    engine = app.extensions["eventreg.db"]["engine"]

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(f"/en/consultation/{consultation.slug}/big")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(statements) <= 8
    html = response.get_data(as_text=True)
    assert "Not available in your language" in html  # Russian-only draft read in English


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_document_is_404(client, db_session, lang):
    consultation = make_consultation(db_session)
    assert client.get(f"/{lang}/consultation/{consultation.slug}/nothing").status_code == 404

"""Versions that keep their comments: matching a new version to the previous one, the preview and the
organiser's corrections, comments on earlier versions, the comment form across versions, the redline."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from eventreg.consultation.versions import (
    AUTO,
    NEW,
    Snapshot,
    apply_corrections,
    diff_tokens,
    match_items,
    removed_numbers,
    words,
)
from eventreg.models import Comment, Document, DocumentItem, DocumentItemLink
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_comment, make_consultation
from tests.factories_consultation import comment_form

A = "Expand preferential credit lines for small businesses run by women in rural areas"
B = "Open community kindergartens in villages that have no pre-school facilities at all"
C = "Publish the average pay of women and men in state bodies every year"
D = "Train judges and police officers on the law on protection from family violence"


def snap(number, text):
    return Snapshot(number, words(text))


def relations(suggestions):
    return {n: (s.relation, s.ancestors) for n, s in suggestions.items()}


def test_unchanged_edited_renumbered_new_and_removed():
    old = [snap("1", A), snap("2", B), snap("3", C), snap("4", D)]
    new = [
        snap("1", A),  # unchanged
        snap("2", B.replace("villages", "villages and new city districts")),  # edited
        snap("3", "A completely new clause about media monitoring of gender stereotypes"),  # new
        snap("4", C),  # renumbered (was 3)
    ]
    suggestions = match_items(old, new)
    assert relations(suggestions) == {
        "1": ("unchanged", ["1"]),
        "2": ("changed", ["2"]),
        "3": (None, []),
        "4": ("renumbered", ["3"]),
    }
    assert removed_numbers(old, suggestions) == ["4"]


def test_split_and_merge():
    old = [snap("1", A + ". " + B), snap("2", C), snap("3", D)]
    new = [snap("1", A), snap("2", B), snap("3", C + ". " + D)]
    assert relations(match_items(old, new)) == {
        "1": ("split", ["1"]),
        "2": ("split", ["1"]),
        "3": ("merged", ["2", "3"]),
    }


def test_the_organisers_correction_replaces_the_suggestion():
    old = [snap("1", A), snap("2", B)]
    new = [snap("1", A), snap("2", "Something else entirely, nothing like before")]
    suggestions = match_items(old, new)
    assert relations(suggestions)["2"] == (None, [])
    corrected = apply_corrections(suggestions, {"1": NEW, "2": "2"}, old, new)
    assert relations(corrected) == {"1": (None, []), "2": ("changed", ["2"])}
    assert relations(apply_corrections(suggestions, {"1": AUTO}, old, new))["1"] == ("unchanged", ["1"])


def test_diff_marks_exactly_the_changed_words():
    ops = diff_tokens("Open kindergartens in villages.", "Open community kindergartens in towns.")
    assert [(op, text) for op, text in ops if op != "="] == [
        ("+", "community "),
        ("-", "villages"),
        ("+", "towns"),
    ]


# --- through the pages ----------------------------------------------------------------------------------


def draft(lang_texts: dict[str, str], key="strategy") -> bytes:
    lines = [f"key: {key}", "language: en", "title: Draft", ""]
    for number, text in lang_texts.items():
        hashes = "##" if "." in number else "#"
        lines += [f"{hashes} {number} {text.split()[0]}", text, ""]
    return "\n".join(lines).encode()


V1 = {"1": "Intro.", "1.1": A, "1.2": B, "1.3": C}
V2 = {"1": "Intro.", "1.1": A, "1.2": C, "1.3": B.replace("villages", "towns"), "1.4": D}


def upload(client, slug, content, name="s.md"):
    page = client.get("/en/organiser/documents/upload")
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "consultation": slug,
        "files": [(io.BytesIO(content), name)],
    }
    return client.post("/en/organiser/documents/upload", data=data, content_type="multipart/form-data")


def confirm(client, page: str, action="store", **corrections):
    token = re.search(r'name="preview" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "preview": token, "action": action}
    # What a browser sends: every select with its selected option, then what the test chooses.
    for name, options in re.findall(r'<select name="(link-[^"]+)"[^>]*>(.*?)</select>', page, re.S):
        data[name] = re.search(r'<option value="([^"]*)" selected', options).group(1)
    data.update({f"link-{k.replace('_', '.')}": v for k, v in corrections.items()})
    return client.post("/en/organiser/documents/confirm", data=data)


def store(client, slug, content, **corrections):
    response = upload(client, slug, content)
    assert response.status_code == 200, response.get_data(as_text=True)
    response = confirm(client, response.get_data(as_text=True), **corrections)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def versions_of(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(Document).order_by(Document.version)))


def links_of(db_session, document):
    rows = db_session.execute(
        select(DocumentItem.number, DocumentItemLink.relation, DocumentItemLink.ancestor_id)
        .join(DocumentItemLink, DocumentItemLink.item_id == DocumentItem.id)
        .where(DocumentItem.document_id == document.id)
    ).all()
    old = dict(db_session.execute(select(DocumentItem.id, DocumentItem.number)).all())
    return {number: (relation, old[ancestor]) for number, relation, ancestor in rows}


def test_preview_shows_the_matching_stores_nothing_and_keeps_corrections(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    response = upload(client, consultation.slug, draft(V2))
    page = response.get_data(as_text=True)
    assert "How this version relates to version 1" in page
    assert "Renumbered</span> ← 1.3" in page and "Changed</span> ← 1.2" in page
    assert len(versions_of(db_session)) == 1  # an abandoned preview leaves nothing

    # A tampered preview is refused, nothing stored.
    bad = page.replace('name="preview" value="', 'name="preview" value="x')
    assert confirm(client, bad).status_code == 303
    assert len(versions_of(db_session)) == 1

    # The organiser says 1.4 comes from 1.3 (not new), and looks again before storing.
    again = confirm(client, page, action="check", **{"1_4": "1.3"})
    assert again.status_code == 200 and len(versions_of(db_session)) == 1
    store_page = again.get_data(as_text=True)
    assert 'value="1.3" selected' in store_page
    assert confirm(client, store_page).status_code == 303
    v1, v2 = versions_of(db_session)
    assert not v1.is_current and v2.is_current and v2.version == 2
    assert links_of(db_session, v2) == {
        "1": ("unchanged", "1"),
        "1.1": ("unchanged", "1.1"),
        "1.2": ("split", "1.3"),
        "1.3": ("changed", "1.2"),
        "1.4": ("split", "1.3"),
    }


def test_a_version_stored_meanwhile_sends_the_organiser_back_to_the_preview(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    first = upload(client, consultation.slug, draft(V2)).get_data(as_text=True)
    store(client, consultation.slug, draft(V2))
    response = confirm(client, first)
    assert response.status_code == 409
    assert "Another version of this document was stored" in response.get_data(as_text=True)
    assert len(versions_of(db_session)) == 2


def test_clauses_of_version_2_show_the_comments_on_version_1(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    (v1,) = versions_of(db_session)
    item = db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == v1.id, DocumentItem.number == "1.2")
    ).one()
    for _n in range(4):
        make_comment(db_session, v1, item, status="published")
    store(client, consultation.slug, draft(V2))
    page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    section = page[page.index('id="i-1.3"') :]
    assert "4 comments on version 1" in section[: section.index('id="i-1.4"')]
    assert "Open community kindergartens in villages" in section  # the wording commented
    assert "version=1#i-1.2" in section


def test_redline_marks_exactly_the_changed_words_and_the_comparative_table_has_both_wordings(
    app, client, db_session
):
    import docx

    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    (v1,) = versions_of(db_session)
    item = db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == v1.id, DocumentItem.number == "1.2")
    ).one()
    make_comment(
        db_session,
        v1,
        item,
        status="published",
        decision="accepted",
        justification={"en": "Towns need them too."},
    )
    make_comment(db_session, v1, None, status="published")
    store(client, consultation.slug, draft(V2))

    page = client.get(f"/en/consultation/{consultation.slug}/strategy/changes").get_data(as_text=True)
    changed = page[page.index('<div class="redline">', page.index("1.3\n")) :]
    changed = changed[: changed.index("</div>")]
    assert re.findall(r"<(del|ins)><span class=\"visually-hidden\">[^<]*</span>([^<]*)<", changed) == [
        ("del", "villages "),
        ("ins", "towns "),
    ]
    assert "Renumbered" in page and "was 1.3" in page and "New" in page
    assert "<script" not in page

    response = client.get(f"/en/organiser/documents/{consultation.slug}/strategy/comparative.docx")
    assert response.status_code == 200
    table = docx.Document(io.BytesIO(response.data)).tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    kindergartens = next(row for row in rows if row[1].startswith("1.3"))
    assert "villages" in kindergartens[2] and "towns" in kindergartens[3]
    assert kindergartens[4] == "2"  # № 1 is the general comment in the table of comments
    assert "Towns need them too." in kindergartens[5]
    assert any(row[1].startswith("1.4") and row[2] == "—" for row in rows)
    section = docx.Document(io.BytesIO(response.data)).sections[0]
    assert section.page_width > section.page_height  # A4 landscape


def comment_page(client, slug, number):
    return client.get(f"/en/consultation/{slug}/strategy/items/{number}/comment").get_data(as_text=True)


def post_comment(client, slug, number, page, **fields):
    data = {**comment_form(**fields), "csrf_token": csrf_token(page)}
    data["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    return client.post(f"/en/consultation/{slug}/strategy/items/{number}/comment", data=data)


def test_a_comment_on_a_clause_removed_or_changed_meanwhile_comes_back_with_a_choice(app, client, db_session):
    consultation = make_consultation(db_session)
    organiser = app.test_client()
    login_as(organiser, app, make_user(db_session, role="organiser"))
    store(organiser, consultation.slug, draft(V1))
    removed_form = comment_page(client, consultation.slug, "1.1")
    changed_form = comment_page(client, consultation.slug, "1.2")
    renumbered_form = comment_page(client, consultation.slug, "1.3")
    assert 'value="1"' in removed_form
    # Version 2 drops 1.1 (A), renumbers C from 1.3 to 1.2 and rewords B as 1.3.
    store(
        organiser, consultation.slug, draft({"1": "Intro.", "1.2": C, "1.3": B.replace("villages", "towns")})
    )

    body = "Мой длинный комментарий, который нельзя потерять."
    response = post_comment(client, consultation.slug, "1.1", removed_form, body=body)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert body in page and "was removed" in page
    assert 'value="document" checked' in page
    assert db_session.scalars(select(Comment)).all() == []
    # Choosing "the document as a whole" stores it on version 2, on no clause.
    response = post_comment(client, consultation.slug, "1.1", page, body=body, target="document")
    assert response.status_code == 303
    (stored,) = db_session.scalars(select(Comment)).all()
    v2 = versions_of(db_session)[-1]
    assert stored.body == body and stored.item_id is None and stored.document_id == v2.id

    # A changed clause: the new wording is shown; the comment goes on the new clause if chosen.
    response = post_comment(client, consultation.slug, "1.2", changed_form, body="On kindergartens")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "towns" in page and "On kindergartens" in page
    new_item = db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == v2.id, DocumentItem.number == "1.3")
    ).one()
    assert f'value="item-{new_item.id}" checked' in page
    response = post_comment(
        client, consultation.slug, "1.2", page, body="On kindergartens", target=f"item-{new_item.id}"
    )
    assert response.status_code == 303
    db_session.expire_all()
    assert (
        db_session.scalars(select(Comment).where(Comment.body == "On kindergartens")).one().item_id
        == new_item.id
    )

    # Renumbered with the same wording: it lands on the clause the person read, under its new number
    # (not on whatever clause now carries 1.3).
    response = post_comment(client, consultation.slug, "1.3", renumbered_form, body="On pay data")
    assert response.status_code == 303
    moved = db_session.scalars(select(Comment).where(Comment.body == "On pay data")).one()
    assert db_session.get(DocumentItem, moved.item_id).number == "1.2"


def test_results_are_per_version_and_publishing_v2_leaves_v1_published(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    store(client, consultation.slug, draft(V2))
    v1, v2 = versions_of(db_session)
    for document in (v1, v2):
        page = client.get("/en/reports/results").get_data(as_text=True)
        response = client.post(
            f"/en/reports/documents/{document.id}/publish", data={"csrf_token": csrf_token(page)}
        )
        assert response.status_code == 303
    assert all(d.results_published for d in versions_of(db_session))
    base = f"/en/results/{consultation.slug}/strategy"
    newest = client.get(base).get_data(as_text=True)
    assert "Draft, version 2" in newest and f"{base}?version=1" in newest
    older = client.get(f"{base}?version=1")
    assert older.status_code == 200 and "Draft, version 1" in older.get_data(as_text=True)
    assert client.get(f"{base}?version=7").status_code == 404
    assert client.get(f"{base}?version=x").status_code == 404


def test_the_moderation_screen_shows_the_commented_wording_beside_the_current_one(app, client, db_session):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    (v1,) = versions_of(db_session)
    items = {
        i.number: i for i in db_session.scalars(select(DocumentItem).where(DocumentItem.document_id == v1.id))
    }
    on_changed = make_comment(db_session, v1, items["1.2"])
    on_removed = make_comment(db_session, v1, items["1.1"])
    store(client, consultation.slug, draft({"1": "Intro.", "1.2": C, "1.3": B.replace("villages", "towns")}))
    page = client.get(f"/en/organiser/comments/{on_changed.id}").get_data(as_text=True)
    assert "The wording commented on (version 1)" in page and "Now (version 2)" in page
    assert "in villages" in page and "in towns" in page
    page = client.get(f"/en/organiser/comments/{on_removed.id}").get_data(as_text=True)
    assert "The clause was removed in version 2." in page


def test_the_upload_page_links_each_later_version_to_its_changes_and_comparative_table(
    app, client, db_session
):
    consultation = make_consultation(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    store(client, consultation.slug, draft(V1))
    store(client, consultation.slug, draft(V2))
    page = client.get("/ky/organiser/documents/upload").get_data(as_text=True)
    changes = f"/ky/consultation/{consultation.slug}/strategy/changes?old=1&amp;new=2"
    table = f"/ky/organiser/documents/{consultation.slug}/strategy/comparative.docx?old=1&amp;new=2"
    assert changes in page and table in page
    assert client.get(changes.replace("&amp;", "&")).status_code == 200
    assert client.get(table.replace("&amp;", "&")).status_code == 200

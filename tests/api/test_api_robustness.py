"""What fuzzing the API against its OpenAPI description turned up (tests/api/test_schemathesis.py), one test each.

JSON may escape half of a UTF-16 surrogate pair ("\\ud800"); such a string cannot be written to either
database or encoded in a UTF-8 answer, and every write answered 500. It is now replaced by U+FFFD, as
undecodable bytes in a form post are. The same half pair in an Authorization header broke hashing the key.
"""

from __future__ import annotations

import json

from eventreg.api.keys import create_api_key
from eventreg.models import Comment, Registration, Role
from tests.auth_helpers import make_user
from tests.factories import make_comment, make_consultation, make_event_session, registration_form
from tests.factories_consultation import comment_form, import_document

HALF_PAIR = "\ud800"


def post_json(client, url: str, data: dict, **kwargs):
    # json.dumps writes the half pair as the six characters \ud800, as a broken client would send it.
    return client.post(url, data=json.dumps(data), content_type="application/json", **kwargs)


def test_half_a_surrogate_pair_in_a_registration_is_replaced_not_a_500(client, db_session):
    event_session = make_event_session(db_session)
    data = {**registration_form(), "consent": True, "full_name": f"Айгүл {HALF_PAIR} Токтогулова"}
    response = post_json(client, f"/api/v1/sessions/{event_session.slug}/registrations", data)
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = db_session.get(Registration, response.get_json()["id"])
    assert stored.full_name == "Айгүл \ufffd Токтогулова"


def test_half_a_surrogate_pair_in_a_comment_or_a_field_name_is_replaced(client, db_session):
    consultation = make_consultation(db_session)
    document = import_document(db_session, consultation)
    url = f"/api/v1/consultations/{consultation.slug}/documents/{document.key}/comments?lang=en"
    data = {**comment_form(), "consent": True, "body": f"Поддерживаю {HALF_PAIR}", f"x{HALF_PAIR}": [1]}
    refused = post_json(client, url, data)
    # The odd field is named in the answer, which is itself valid UTF-8.
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [
        {"field": "x\ufffd", "detail": "Please send text, a number or true/false."}
    ]
    del data[f"x{HALF_PAIR}"]
    stored = post_json(client, url, data)
    assert stored.status_code == 201, stored.get_data(as_text=True)
    assert db_session.get(Comment, stored.get_json()["id"]).body == "Поддерживаю \ufffd"


def test_half_a_surrogate_pair_in_a_decision_is_replaced(client, db_session):
    admin = make_user(db_session, role="admin")
    _row, key = create_api_key(db_session, "decisions", Role.ORGANISER.value, by=admin)
    consultation = make_consultation(db_session)
    comment = make_comment(
        db_session, import_document(db_session, consultation), status="published", language="ru"
    )
    db_session.commit()
    data = {"decision": "rejected", "justification_ru": f"Есть в разделе 5 {HALF_PAIR}"}
    response = post_json(
        client, f"/api/v1/comments/{comment.id}/decision", data, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Comment, comment.id).justification["ru"] == "Есть в разделе 5 \ufffd"


def test_a_key_that_is_not_ascii_is_unknown_not_a_500(client, db_session):
    consultation = make_consultation(db_session)
    for secret in ("\udcff", "ключ"):
        response = client.get(
            f"/api/v1/consultations/{consultation.slug}/registrations?lang=en",
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
        assert response.get_json()["type"] == "urn:eventreg:problem:unknown-key"

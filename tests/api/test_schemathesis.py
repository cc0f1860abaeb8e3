"""Schemathesis fuzzes every operation of /api/v1/openapi.json against the app, on SQLite and PostgreSQL.

The demo consultation is loaded (sessions with registrations, both drafts with their items, published
comments, and decisions whose results are published), and generated path parameters are mixed with the
real slugs, keys and ids, so most requests reach real content rather than a 404; most write bodies start
from a valid one with a generated field or two. Key-protected operations are called with an organiser's
key (and refused keys are checked separately). Every answer must be documented: no 5xx, a documented
status and content type, a body and headers that match the schema. Bounded and deterministic: a fixed
number of examples per operation, derandomized, no deadline; about 25 s for both databases.

The data is loaded once per database for the whole module and the writes pile up, as in a live
consultation, so each test's cases are fixed but what they meet depends on the tests before it: to
reproduce a failure, run the whole file (`pytest tests/api/test_schemathesis.py`), not one test with -k.

The cases are drawn with `operation.as_strategy()` under our own `@given`, one test per operation and
database: `schemathesis.pytest.from_fixture` does not run under pytest 9.2 (it sets `Function._nodeid`).
"""

from __future__ import annotations

import itertools
import re

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (it is in requirements-dev.txt)"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode, checks  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402

from eventreg.api.keys import create_api_key  # noqa: E402
from eventreg.api.openapi import paths  # noqa: E402
from eventreg.db import Base, unit_of_work  # noqa: E402
from eventreg.demo import CONSULTATION_SLUG, load_demo_data  # noqa: E402
from eventreg.extensions import db  # noqa: E402
from eventreg.models import (  # noqa: E402
    Comment,
    CommentStatus,
    Document,
    DocumentItem,
    EventSession,
    Role,
    SessionStatus,
    User,
)
from eventreg.moderation.services import decide_comment  # noqa: E402
from tests.conftest import _truncate_all, make_test_app  # noqa: E402
from tests.factories import make_event_session, registration_form  # noqa: E402
from tests.factories_consultation import comment_form, import_document  # noqa: E402

MAX_EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _load_demo(session) -> dict:
    """The demo data, decisions on a few published comments, and an organiser's and an analyst's key."""
    with unit_of_work(session):
        load_demo_data(session)
    admin = session.scalars(select(User).where(User.role == Role.ADMIN.value)).first()
    documents = list(session.scalars(select(Document).where(Document.is_current.is_(True))))
    published = list(
        session.scalars(
            select(Comment).where(Comment.status == CommentStatus.PUBLISHED.value).order_by(Comment.id)
        )
    )
    decisions = [
        ("accepted", None),
        ("partly_accepted", "the first sentence"),
        ("rejected", None),
        ("noted", None),
    ]
    with unit_of_work(session):
        for comment, (decision, part) in zip(published, decisions, strict=False):
            reason = {comment.language: "Covered by section 5."}
            parts = {comment.language: part} if part else None
            decide_comment(session, comment.id, decision, reason, parts, by=admin)
        for document in documents:
            document.results_published = True
        # Closed sessions too, so their closed_reason is read: one cancelled, one full without a waiting list.
        cancelled, full = session.scalars(select(EventSession).order_by(EventSession.id).limit(2))
        cancelled.status = SessionStatus.CANCELLED.value
        full.capacity, full.waitlist_enabled = 0, False
        _, organiser_key = create_api_key(session, "fuzz organiser", Role.ORGANISER.value, by=admin)
        _, analyst_key = create_api_key(session, "fuzz analyst", Role.ANALYST.value, by=admin)
    items = session.execute(select(DocumentItem.document_id, DocumentItem.number)).all()
    return {
        "organiser_key": organiser_key,
        "analyst_key": analyst_key,
        "consultation": [CONSULTATION_SLUG],
        "session": list(session.scalars(select(EventSession.slug).order_by(EventSession.id))),
        "key": sorted({d.key for d in documents}),
        "comment_id": list(session.scalars(select(Comment.id).order_by(Comment.id)))[:12],
        "name": ["comment-list", "comments-by-region", "participation-by-sector", "registration-list"],
        "document": [d.id for d in documents],
        "event_session": list(session.scalars(select(EventSession.id))),
        "item": sorted({number for _, number in items})[:20],
        "item_number": sorted({number for _, number in items})[:20],
        "language": ["ru", "ky", "en"],
        "interpretation_language": ["ru", "ky", "en"],
    }


OPERATIONS = [
    (method.upper(), path)
    for path, methods in paths().items()
    for method in methods
    if method != "parameters"
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request, tmp_path_factory):
    """One app per database for the whole module, with the demo loaded once (writes pile up, as in life)."""
    tmp_path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
    else:
        url = request.getfixturevalue("pg_schema_url")
    app = make_test_app(url, tmp_path)
    with app.app_context():
        demo = _load_demo(db.session)
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    yield api, demo
    engine = app.extensions["eventreg.db"]["engine"]
    if request.param == "postgresql":
        _truncate_all(engine)
    engine.dispose()


def _real_path_parameters(path: str, demo: dict) -> list[dict]:
    """Every combination of real values for the path's parameters (slugs, keys, ids, report names)."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return []
    values = {
        "slug": demo["session"] if path.startswith("/api/v1/sessions/") else demo["consultation"],
        "key": demo["key"],
        "comment_id": demo["comment_id"],
        "name": demo["name"],
    }
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(values[n] for n in names))]


# A valid body for each write: most cases start from it and keep one or two generated fields, so the
# services themselves run (stored, waiting list, already registered, full) and not only the form checks.
VALID_BODIES = {
    "/api/v1/sessions/{slug}/registrations": {**registration_form(), "consent": True},
    "/api/v1/consultations/{slug}/documents/{key}/comments": {**comment_form(), "consent": True},
    "/api/v1/paper-comments": {
        "source": "paper",
        "language": "ky",
        "kind": "objection",
        "body": "Бул пунктту кайра карап чыгуу керек.",
        "author_name": "Нарын облусунун аялдар кеңеши",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
    },
    "/api/v1/comments/{comment_id}/decision": {"decision": "partly_accepted", "part": "The first sentence."},
}
REFERENCES = ("document", "event_session", "item", "item_number", "language", "interpretation_language")


def _body_strategy(case, path: str, demo: dict):
    """The generated body as it is, or the valid one with up to two generated fields and real references."""
    generated = case.body if isinstance(case.body, dict) else {}
    references = st.fixed_dictionaries(
        {name: st.one_of(st.just(None), st.sampled_from(demo[name])) for name in REFERENCES}
    )
    return st.tuples(
        st.sampled_from(["generated", "valid", "valid"]),
        st.lists(st.sampled_from(sorted(generated)), max_size=2) if generated else st.just([]),
        references,
        st.integers(min_value=0, max_value=10**6),
    ).map(lambda drawn: _apply_body(case, path, generated, *drawn))


def _apply_body(case, path: str, generated: dict, how: str, kept: list, references: dict, n: int):
    if how == "valid" and path in VALID_BODIES:
        body = {**VALID_BODIES[path], **{name: generated[name] for name in kept}}
        if "email" in body and "email" not in kept:
            body["email"] = f"fuzz{n}@example.kg"  # a new person, mostly
        if path.endswith("/paper-comments") and "document" not in kept:
            body["document"] = references["document"] or body.get("document") or 1
        case.body = body
    if isinstance(case.body, dict):
        for name, value in references.items():
            if value is not None and name in case.body:
                case.body[name] = value
    return case


def _cases(operation, path: str, demo: dict):
    """Positive and negative cases; at least four in five with real path parameters, the rest generated."""
    modes = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    real = _real_path_parameters(path, demo)
    choices = [None, *real * max(1, 4 // max(len(real), 1))]
    strategy = st.tuples(st.sampled_from(choices), modes).flatmap(
        lambda pair: operation.as_strategy(pair[1], path_parameters=pair[0])
    )
    if operation.method.upper() == "POST":
        strategy = strategy.flatmap(lambda case: _body_strategy(case, path, demo))
    return strategy


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(fuzzed, method, path):
    api, demo = fuzzed
    operation = api[path][method]
    # In process nothing decompresses: ask Flask-Compress for the body as it is (over HTTP, clients do).
    headers = {"Accept-Encoding": "identity"}
    if operation.definition.raw.get("security"):
        headers["Authorization"] = f"Bearer {demo['organiser_key']}"

    @given(case=_cases(operation, path, demo))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()


def _secured_operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, methods in paths().items()
        for method, operation in methods.items()
        if operation.get("security")
    ]


@pytest.mark.parametrize(("method", "path"), _secured_operations(), ids=lambda value: str(value))
def test_key_refusals_are_documented(fuzzed, method, path):
    """No key, an unknown key, and an analyst's key where an organiser's is needed: 401 or 403, as documented."""
    api, demo = fuzzed
    operation = api[path][method]
    analyst_may = path.startswith("/api/v1/report-rows")
    attempts = [
        ({}, 401),
        ({"Authorization": "Bearer evr_not-a-key"}, 401),
        ({"Authorization": "Bearer \udcff"}, 401),  # half a surrogate pair, as a broken client may send
        ({"Authorization": f"Bearer {demo['analyst_key']}"}, 200 if analyst_may else 403),
    ]
    for headers, expected in attempts:
        body = {**VALID_BODIES[path], "document": demo["document"][0]} if method == "POST" else None
        case = operation.Case(
            path_parameters=_real_path_parameters(path, demo)[0] if "{" in path else None,
            body=body if body is not None else schemathesis.core.NOT_SET,
            media_type="application/json" if body is not None else None,
        )
        response = case.call_and_validate(headers={"Accept-Encoding": "identity", **headers}, checks=CHECKS)
        assert response.status_code == expected, (headers, response.text)


@pytest.fixture
def app_config() -> dict:
    """The rate limits on, for the test that reaches them (the fuzzing app runs without them)."""
    return {"RATELIMIT_ENABLED": True}


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/{slug}/registrations", "/api/v1/consultations/{slug}/documents/{key}/comments"]
)
def test_rate_limited_writes_answer_a_documented_429(app, db_session, path):
    event_session = make_event_session(db_session)
    document = import_document(db_session, event_session.consultation)
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    slug = event_session.slug if path.startswith("/api/v1/sessions/") else event_session.consultation.slug
    parameters = {"slug": slug, "key": document.key} if "{key}" in path else {"slug": slug}
    case = api[path]["POST"].Case(path_parameters=parameters, body={}, media_type="application/json")
    statuses = [
        case.call_and_validate(headers={"Accept-Encoding": "identity"}, checks=CHECKS).status_code
        for _ in range(61)
    ]
    assert statuses[0] == 422 and statuses[-1] == 429
